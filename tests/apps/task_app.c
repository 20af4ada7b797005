/* task_app: the test data task of the task runner tests. A static binary for a FROM scratch
 * image whose behaviour is its arguments, read as a sequence of verb-argument pairs and done in
 * order, e.g. `/task print 3 env GREETING exit 2`:
 *   print N       N numbered lines on stdout ("line 1" … "line N"), then "done printing" on stderr
 *   env NAME      "NAME=value" on stdout ("NAME is not set" when it is not)
 *   encode NAME   the variable's value as a program might leak it: "NAME base64 …", "NAME url …"
 *                 (percent-encoded, upper-case hex) and "NAME json …" (a JSON string's escapes)
 *   sleep MS      sleeps that long
 *   allocate MB   allocates and touches that much memory, 1 MiB at a time (a memory limit OOM-kills it)
 *   exit CODE     exits with that code at once
 * Without an exit it exits 0. SIGTERM exits 143 at once: as PID 1 the default action would be
 * ignored, and a stop would have to wait for its SIGKILL. An unknown verb exits 64. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void on_sigterm(int signal_number) {
  (void)signal_number;
  _exit(143);
}

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {}
}

static void allocate(long megabytes) {
  const size_t chunk = 1024 * 1024;
  for (long i = 0; i < megabytes; i++) {
    char *block = malloc(chunk);
    if (!block) {
      fprintf(stderr, "malloc failed after %ld MiB\n", i);
      exit(2);
    }
    memset(block, (int)(i & 0x7f) + 1, chunk);  /* touched: the pages count against the limit */
  }
  printf("allocated %ld MiB\n", megabytes);
  fflush(stdout);
}

static void print_encoded(const char *name, const char *value) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *bytes = (const unsigned char *)value;
  size_t size = strlen(value);
  printf("%s base64 ", name);
  for (size_t i = 0; i < size; i += 3) {
    unsigned long group = (unsigned long)bytes[i] << 16;
    if (i + 1 < size) group |= (unsigned long)bytes[i + 1] << 8;
    if (i + 2 < size) group |= bytes[i + 2];
    putchar(alphabet[(group >> 18) & 63]);
    putchar(alphabet[(group >> 12) & 63]);
    putchar(i + 1 < size ? alphabet[(group >> 6) & 63] : '=');
    putchar(i + 2 < size ? alphabet[group & 63] : '=');
  }
  printf("\n%s url ", name);
  for (size_t i = 0; i < size; i++) {
    unsigned char c = bytes[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_.~", c)) putchar(c);
    else printf("%%%02X", c);
  }
  printf("\n%s json ", name);
  for (size_t i = 0; i < size; i++) {
    if (bytes[i] == '"' || bytes[i] == '\\') putchar('\\');
    putchar(bytes[i]);
  }
  printf("\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  signal(SIGTERM, on_sigterm);
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *verb = argv[i];
    const char *argument = argv[i + 1];
    if (strcmp(verb, "print") == 0) {
      long lines = strtol(argument, NULL, 10);
      for (long n = 1; n <= lines; n++) {
        printf("line %ld\n", n);
        fflush(stdout);
      }
      fprintf(stderr, "done printing\n");
    } else if (strcmp(verb, "env") == 0) {
      const char *value = getenv(argument);
      if (value) printf("%s=%s\n", argument, value);
      else printf("%s is not set\n", argument);
      fflush(stdout);
    } else if (strcmp(verb, "encode") == 0) {
      const char *value = getenv(argument);
      print_encoded(argument, value ? value : "");
    } else if (strcmp(verb, "sleep") == 0) {
      sleep_ms(strtol(argument, NULL, 10));
    } else if (strcmp(verb, "allocate") == 0) {
      allocate(strtol(argument, NULL, 10));
    } else if (strcmp(verb, "exit") == 0) {
      return (int)strtol(argument, NULL, 10);
    } else {
      fprintf(stderr, "unknown verb '%s'\n", verb);
      return 64;
    }
  }
  return 0;
}
