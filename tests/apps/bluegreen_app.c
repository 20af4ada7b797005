/* bluegreen_app: the test application of the blue/green deployment tests. A static binary for a
 * FROM scratch image; HTTP/1.1 with keep-alive on 127.0.0.1:$PORT (the host network), one thread
 * per connection. Switches (environment):
 *   APP_VERSION     GET / answers "version $APP_VERSION\n" with the header X-App-Version
 *   START_DELAY_MS  listen only after this long (a slow start)
 *   HEALTH_FAIL=1   GET /health is always 503
 *   FAIL_AFTER_MS   GET /health turns 503 this long after the start
 *   SLOW_MS         GET /slow waits this long before answering (an in-flight request to drain)
 * GET /ws is a WebSocket echo (RFC 6455 handshake; SHA-1 and base64 are written out here because
 * a static libc-only binary has no crypto library). SIGTERM: stop accepting, finish the requests
 * in progress, close idle keep-alive and WebSocket connections, exit 0 — a graceful drain. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *app_version = "unknown";
static long health_fail = 0, fail_after_ms = -1, slow_ms = 0;
static struct timespec started;
static volatile sig_atomic_t stopping = 0;
static atomic_int open_connections = 0;

static void on_sigterm(int signal_number) { (void)signal_number; stopping = 1; }

static long env_number(const char *name, long fallback) {
  const char *value = getenv(name);
  return value && *value ? strtol(value, NULL, 10) : fallback;
}

static long ms_since_start(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {}
}

/* ---- SHA-1 (FIPS 180-4) and base64, for Sec-WebSocket-Accept ---- */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const unsigned char *block) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
  for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
    else { f = b ^ c ^ d; k = 0xCA62C1D6; }
    uint32_t t = rol(a, 5) + f + e + k + w[i];
    e = d; d = c; c = rol(b, 30); b = a; a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static void sha1(const unsigned char *data, size_t length, unsigned char digest[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  unsigned char block[64];
  size_t done = 0;
  for (; length - done >= 64; done += 64) sha1_block(h, data + done);
  size_t rest = length - done;
  memset(block, 0, 64);
  memcpy(block, data + done, rest);
  block[rest] = 0x80;
  if (rest >= 56) { sha1_block(h, block); memset(block, 0, 64); }
  uint64_t bits = (uint64_t)length * 8;
  for (int i = 0; i < 8; i++) block[63 - i] = (unsigned char)(bits >> (8 * i));
  sha1_block(h, block);
  for (int i = 0; i < 20; i++) digest[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t length, char *out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < length; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < length ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < length ? in[i + 2] : 0);
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < length ? alphabet[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < length ? alphabet[v & 63] : '=';
  }
  out[o] = 0;
}

/* ---- I/O helpers ---- */

static int write_all(int fd, const void *data, size_t length) {
  const char *p = data;
  while (length > 0) {
    ssize_t n = send(fd, p, length, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    length -= (size_t)n;
  }
  return 0;
}

/* Waits for input in 100 ms slices. Returns 1 when readable, 0 when stopping and `idle` (nothing
 * of a request has arrived yet), -1 on error. */
static int wait_readable(int fd, int idle) {
  for (;;) {
    if (stopping && idle) return 0;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return -1;
  }
}

static int read_exact(int fd, unsigned char *buffer, size_t length) {
  size_t got = 0;
  while (got < length) {
    if (wait_readable(fd, 0) <= 0) return -1;
    ssize_t n = recv(fd, buffer + got, length - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

/* ---- WebSocket echo ---- */

static void websocket_echo(int fd) {
  unsigned char header[14], mask[4];
  while (!stopping) {
    int ready = wait_readable(fd, 1);
    if (ready <= 0) break;
    if (read_exact(fd, header, 2) != 0) return;
    int opcode = header[0] & 0x0F;
    uint64_t length = header[1] & 0x7F;
    if (length == 126) {
      if (read_exact(fd, header + 2, 2) != 0) return;
      length = (uint64_t)header[2] << 8 | header[3];
    } else if (length == 127) {
      if (read_exact(fd, header + 2, 8) != 0) return;
      length = 0;
      for (int i = 0; i < 8; i++) length = length << 8 | header[2 + i];
    }
    if (length > (1u << 20)) return; /* an echo needs no bigger message */
    int masked = header[1] & 0x80;
    if (masked && read_exact(fd, mask, 4) != 0) return;
    unsigned char *payload = malloc(length + 1);
    if (!payload || read_exact(fd, payload, length) != 0) { free(payload); return; }
    for (uint64_t i = 0; masked && i < length; i++) payload[i] ^= mask[i % 4];
    unsigned char out[10];
    size_t out_length = 2;
    out[0] = (unsigned char)(0x80 | (opcode == 0x9 ? 0xA : opcode));
    if (length < 126) {
      out[1] = (unsigned char)length;
    } else if (length < 65536) {
      out[1] = 126; out[2] = (unsigned char)(length >> 8); out[3] = (unsigned char)length; out_length = 4;
    } else {
      out[1] = 127;
      for (int i = 0; i < 8; i++) out[2 + i] = (unsigned char)(length >> (56 - 8 * i));
      out_length = 10;
    }
    int failed = write_all(fd, out, out_length) != 0 || write_all(fd, payload, length) != 0;
    free(payload);
    if (failed || opcode == 0x8) return;
  }
  unsigned char close_frame[4] = {0x88, 2, 0x03, 0xE9}; /* 1001: going away */
  write_all(fd, close_frame, sizeof close_frame);
}

/* ---- HTTP ---- */

static void header_value(const char *head, const char *name, char *out, size_t size) {
  out[0] = 0;
  size_t name_length = strlen(name);
  for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
    const char *start = line + 2;
    if (strncasecmp(start, name, name_length) == 0 && start[name_length] == ':') {
      const char *value = start + name_length + 1;
      while (*value == ' ') value++;
      size_t n = strcspn(value, "\r\n");
      if (n >= size) n = size - 1;
      memcpy(out, value, n);
      out[n] = 0;
      return;
    }
  }
}

static int respond(int fd, int status, const char *reason, const char *body, int keep_alive) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nX-App-Version: %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "Connection: %s\r\n\r\n",
                   status, reason, app_version, strlen(body), keep_alive ? "keep-alive" : "close");
  return write_all(fd, head, (size_t)n) == 0 && write_all(fd, body, strlen(body)) == 0 ? 0 : -1;
}

static int healthy(void) { return !health_fail && !(fail_after_ms >= 0 && ms_since_start() >= fail_after_ms); }

/* Answers one request; returns 1 to keep the connection, 0 to close it. */
static int answer(int fd, char *head) {
  char method[16] = "", path[256] = "", protocol[16] = "", value[256];
  sscanf(head, "%15s %255s %15s", method, path, protocol);
  header_value(head, "Connection", value, sizeof value);
  int keep_alive = strcmp(protocol, "HTTP/1.1") == 0 ? strcasecmp(value, "close") != 0 : strcasecmp(value, "keep-alive") == 0;
  char *query = strchr(path, '?');
  if (query) *query = 0;
  if (strcmp(path, "/ws") == 0) {
    char key[128], accept[64];
    header_value(head, "Sec-WebSocket-Key", key, sizeof key);
    if (key[0] == 0) return respond(fd, 400, "Bad Request", "a WebSocket upgrade needs Sec-WebSocket-Key\n", 0), 0;
    strncat(key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", sizeof key - strlen(key) - 1);
    unsigned char digest[20];
    sha1((const unsigned char *)key, strlen(key), digest);
    base64(digest, 20, accept);
    char reply[256];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\nX-App-Version: %s\r\n\r\n",
                     accept, app_version);
    if (write_all(fd, reply, (size_t)n) == 0) websocket_echo(fd);
    return 0;
  }
  if (stopping) keep_alive = 0; /* draining: this is the connection's last answer */
  char body[300];
  snprintf(body, sizeof body, "version %s\n", app_version);
  int ok;
  if (strcmp(path, "/") == 0) {
    ok = respond(fd, 200, "OK", body, keep_alive);
  } else if (strcmp(path, "/slow") == 0) {
    sleep_ms(slow_ms);
    ok = respond(fd, 200, "OK", body, keep_alive && !stopping);
  } else if (strcmp(path, "/health") == 0) {
    ok = healthy() ? respond(fd, 200, "OK", "ok", keep_alive) : respond(fd, 503, "Service Unavailable", "unhealthy", keep_alive);
  } else {
    ok = respond(fd, 404, "Not Found", "not found\n", keep_alive);
  }
  return ok == 0 && keep_alive && !stopping;
}

static void *serve_connection(void *argument) {
  int fd = (int)(intptr_t)argument;
  char buffer[16384];
  size_t used = 0;
  for (;;) {
    char *end = used ? memmem(buffer, used, "\r\n\r\n", 4) : NULL;
    if (!end) {
      if (used == sizeof buffer - 1 || wait_readable(fd, used == 0) <= 0) break;
      ssize_t n = recv(fd, buffer + used, sizeof buffer - 1 - used, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      used += (size_t)n;
      continue;
    }
    size_t head_length = (size_t)(end - buffer) + 4;
    char head[16384];
    memcpy(head, buffer, head_length);
    head[head_length] = 0;
    char length_text[32];
    header_value(head, "Content-Length", length_text, sizeof length_text);
    size_t body_length = length_text[0] ? strtoul(length_text, NULL, 10) : 0;
    /* A body is read and ignored; one beyond the buffer ends the connection. */
    if (head_length + body_length > sizeof buffer - 1) break;
    while (used < head_length + body_length) {
      if (wait_readable(fd, 0) <= 0) goto done;
      ssize_t n = recv(fd, buffer + used, sizeof buffer - 1 - used, 0);
      if (n <= 0) goto done;
      used += (size_t)n;
    }
    memmove(buffer, buffer + head_length + body_length, used - head_length - body_length);
    used -= head_length + body_length;
    if (!answer(fd, head)) break;
  }
done:
  close(fd);
  atomic_fetch_sub(&open_connections, 1);
  return NULL;
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 512) != 0) {
    fprintf(stderr, "bluegreen_app: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
    exit(2);
  }
  return fd;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  clock_gettime(CLOCK_MONOTONIC, &started);
  struct sigaction action = {0};
  action.sa_handler = on_sigterm;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  signal(SIGPIPE, SIG_IGN);
  long port = env_number("PORT", 0);
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "bluegreen_app: set PORT to the TCP port to listen on\n");
    return 2;
  }
  if (getenv("APP_VERSION")) app_version = getenv("APP_VERSION");
  health_fail = env_number("HEALTH_FAIL", 0);
  fail_after_ms = env_number("FAIL_AFTER_MS", -1);
  slow_ms = env_number("SLOW_MS", 0);
  for (long waited = 0, delay = env_number("START_DELAY_MS", 0); waited < delay && !stopping; waited += 10) sleep_ms(10);
  if (stopping) return 0;
  int listener = listen_on((int)port);
  printf("bluegreen_app version %s listening on 127.0.0.1:%ld\n", app_version, port);
  while (!stopping) {
    struct pollfd p = {listener, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    atomic_fetch_add(&open_connections, 1);
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attributes, serve_connection, (void *)(intptr_t)fd) != 0) {
      close(fd);
      atomic_fetch_sub(&open_connections, 1);
    }
    pthread_attr_destroy(&attributes);
  }
  close(listener);
  printf("bluegreen_app version %s: SIGTERM, draining %d connection(s)\n", app_version, atomic_load(&open_connections));
  while (atomic_load(&open_connections) > 0) sleep_ms(10);
  printf("bluegreen_app version %s: stopped\n", app_version);
  return 0;
}
