// echo_server.c - the "fast server" of wmscope's benchmarks: an epoll TCP echo server.
//
// Each thread owns a listening socket (SO_REUSEPORT, so the kernel spreads connections across
// threads like Workerman's reusePort workers) and one level-triggered epoll loop that accepts
// until EAGAIN and echoes whatever it reads. It never initiates traffic and only listens on the
// address it is given (127.0.0.1 by default): loopback only.
//
// Bounded: it exits by itself after -T seconds (default 900) and on SIGINT/SIGTERM, printing
// one summary line to stdout: "accepted=N closed=N echoed_bytes=N". "ready" is printed to
// stdout once every listener is bound, so a script can wait for it.
//
// -w MICROS stands in for a handler's own work: before echoing what one read returned, the
// thread spends MICROS of its own CPU time (measured on its CPU-time clock, so preemption does
// not shorten it). 0, the default, is the bare echo.
//
// Usage: echo_server -p PORT [-a 127.0.0.1] [-t THREADS] [-T SECONDS] [-b BACKLOG] [-w MICROS]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_THREADS 64
#define MAX_EVENTS 512
#define BUF_BYTES 16384

static const char *bind_addr = "127.0.0.1";
static int port;
static int backlog = 4096;
static double deadline; // CLOCK_MONOTONIC seconds
static long work_us;     // CPU time spent per read, standing in for a handler's work

static double thread_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void handler_work(void) {
  if (work_us <= 0) {
    return;
  }
  double until = thread_cpu_now() + (double)work_us / 1e6;
  while (thread_cpu_now() < until) {
    // spin: CPU work, as a PHP handler's parsing and logic would be
  }
}

static atomic_ulong total_accepted, total_closed, total_bytes;

static int open_listener(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    die("socket");
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
    fprintf(stderr, "echo_server: bad address %s\n", bind_addr);
    exit(2);
  }
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    die("bind");
  }
  if (listen(fd, backlog) != 0) {
    die("listen");
  }
  return fd;
}

static void *serve(void *arg) {
  int lfd = (int)(long)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    die("epoll_create1");
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
    die("epoll_ctl listener");
  }
  static __thread char buf[BUF_BYTES];
  struct epoll_event events[MAX_EVENTS];
  unsigned long accepted = 0, closed = 0, bytes = 0;
  while (!stop_requested && mono_now() < deadline) {
    int n = epoll_wait(ep, events, MAX_EVENTS, 200);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) { // level-triggered listener: accept what is queued now, bounded by the backlog
          int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) {
            break; // EAGAIN, or a transient error (EMFILE, ECONNABORTED): retried on the next wakeup
          }
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0) {
            close(c);
            closed++;
          }
          accepted++;
        }
        continue;
      }
      int done = 0;
      for (int round = 0; round < 4; round++) { // drain a little, then let other sockets run
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
          handler_work();
          ssize_t off = 0;
          while (off < r) { // small echoes fit the send buffer; a full one only stalls this socket
            ssize_t w = write(fd, buf + off, (size_t)(r - off));
            if (w <= 0) {
              if (w < 0 && errno == EINTR) {
                continue;
              }
              break;
            }
            off += w;
          }
          bytes += (unsigned long)off;
          if (r < (ssize_t)sizeof buf) {
            break;
          }
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          done = 1;
          break;
        } else {
          break;
        }
      }
      if (done) {
        close(fd); // closing the last descriptor also removes it from the epoll set
        closed++;
      }
    }
  }
  atomic_fetch_add(&total_accepted, accepted);
  atomic_fetch_add(&total_closed, closed);
  atomic_fetch_add(&total_bytes, bytes);
  close(ep);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = 1;
  double timeout = 900;
  int opt;
  while ((opt = getopt(argc, argv, "a:p:t:T:b:w:")) != -1) {
    switch (opt) {
    case 'a': bind_addr = optarg; break;
    case 'p': port = atoi(optarg); break;
    case 't': threads = atoi(optarg); break;
    case 'T': timeout = atof(optarg); break;
    case 'b': backlog = atoi(optarg); break;
    case 'w': work_us = atol(optarg); break;
    default:
      fprintf(stderr, "usage: echo_server -p PORT [-a ADDR] [-t THREADS] [-T SECONDS] [-b BACKLOG] [-w MICROS]\n");
      return 2;
    }
  }
  if (port <= 0 || port > 65535 || threads < 1 || threads > MAX_THREADS || timeout <= 0 || work_us < 0 ||
      work_us > 1000000) {
    fprintf(stderr, "echo_server: need -p 1..65535, -t 1..%d, -T > 0, -w 0..1000000\n", MAX_THREADS);
    return 2;
  }
  raise_nofile((rlim_t)1 << 18); // the long-lived benchmark holds 10,000+ connections
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  deadline = mono_now() + timeout;

  pthread_t tids[MAX_THREADS];
  int lfds[MAX_THREADS];
  for (int i = 0; i < threads; i++) {
    lfds[i] = open_listener();
  }
  printf("ready\n");
  fflush(stdout);
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&tids[i], NULL, serve, (void *)(long)lfds[i]) != 0) {
      die("pthread_create");
    }
  }
  for (int i = 0; i < threads; i++) {
    pthread_join(tids[i], NULL);
    close(lfds[i]);
  }
  printf("accepted=%lu closed=%lu echoed_bytes=%lu\n", atomic_load(&total_accepted),
         atomic_load(&total_closed), atomic_load(&total_bytes));
  return 0;
}
