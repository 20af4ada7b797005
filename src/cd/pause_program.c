/* The holder of a test job's container pod (cd/docker_pods.h): the first process of a container
 * whose only purpose is to keep a network namespace alive for the job's steps and services. It
 * waits, forever, for a signal that never comes: as PID 1 of its container it ignores every
 * signal it has no handler for, so only SIGKILL (a forced removal) ends it.
 *
 * Freestanding on purpose: built with -static -nostdlib (no libc, no loader, a few hundred
 * bytes), so that the image is this one file, made on the machine with no pull. */

#if defined(__x86_64__)
static void wait_for_ever(void) {
  for (;;) {
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(34L) /* pause */ : "rcx", "r11", "memory");
  }
}
#elif defined(__aarch64__)
static void wait_for_ever(void) {
  /* aarch64 has no pause(2): ppoll with no descriptors and no timeout blocks the same way. */
  for (;;) {
    register long x8 __asm__("x8") = 73; /* ppoll */
    register long x0 __asm__("x0") = 0;
    register long x1 __asm__("x1") = 0;
    register long x2 __asm__("x2") = 0;
    register long x3 __asm__("x3") = 0;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  }
}
#else
#error "the pod holder (pause_program.c) knows x86_64 and aarch64 only"
#endif

void _start(void);

void _start(void) { wait_for_ever(); }
