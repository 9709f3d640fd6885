// Shared by echo_server.c and loadgen.c (header only: each tool stays one gcc call): the
// monotonic clock, the stop flag that SIGINT/SIGTERM set, fatal errors, and lifting the
// descriptor limit for benchmarks that hold 10,000+ connections in one process.
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static volatile sig_atomic_t stop_requested;

static inline double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static inline void die(const char *what) {
  perror(what);
  exit(1);
}

// Lifts the descriptor limit to `want` (raising the hard limit too, which root may), else as
// far as the hard limit allows. Returns the soft limit in force afterwards.
static inline rlim_t raise_nofile(rlim_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return RLIM_INFINITY; // unknown: let the caller try
  }
  if (rl.rlim_max < want) {
    struct rlimit hard = {want, want};
    if (setrlimit(RLIMIT_NOFILE, &hard) == 0) {
      return want;
    }
  }
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

#endif
