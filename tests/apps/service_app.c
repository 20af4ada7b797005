/* service_app: the test job's service container of the service container tests (a stand-in for
 * a database). A static binary for a FROM scratch image: it listens on 127.0.0.1:$PORT (default
 * 5432) — so it is reachable only from inside its network namespace — and answers every
 * connection with the line $ANSWER (default "hello"), then closes it. At start it prints
 * "listening on 127.0.0.1:PORT as uid N, NoNewPrivs N" on stdout. SIGTERM exits 143 at once: as
 * PID 1 the default action would be ignored, and a stop would have to wait for its SIGKILL. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_sigterm(int signal_number) {
  (void)signal_number;
  _exit(143);
}

static const char *env_or(const char *name, const char *fallback) {
  const char *value = getenv(name);
  return value && *value ? value : fallback;
}

/* The NoNewPrivs field of /proc/self/status: "1" when the container runs with no_new_privs. */
static int no_new_privs(void) {
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  int value = -1;
  while (status && fgets(line, sizeof line, status)) {
    if (strncmp(line, "NoNewPrivs:", 11) == 0) value = atoi(line + 11);
  }
  if (status) fclose(status);
  return value;
}

int main(void) {
  signal(SIGTERM, on_sigterm);
  int port = atoi(env_or("PORT", "5432"));
  const char *answer = env_or("ANSWER", "hello");
  int server = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(server, (struct sockaddr *)&address, sizeof address) != 0 || listen(server, 16) != 0) {
    perror("cannot listen");
    return 1;
  }
  printf("listening on 127.0.0.1:%d as uid %d, NoNewPrivs %d\n", port, (int)getuid(), no_new_privs());
  fflush(stdout);
  for (;;) {
    int client = accept(server, NULL, NULL);
    if (client < 0) continue;
    dprintf(client, "%s\n", answer);
    close(client);
  }
}
