// loadgen.c - wmscope's benchmark load generator: one epoll loop, loopback only, bounded.
//
//   loadgen churn -p PORT [-a 127.0.0.1] [-c CONCURRENCY] [-n MAX_CONNS] [-d SECONDS] [-r RATE]
//                 [-m MSG_BYTES] [-s SOURCES] [-w TIMEOUT_MS] [-v]
//     Opens, uses and closes short connections as fast as it can (or at RATE new connections/s):
//     connect, send MSG_BYTES ("ping...\n", a line for text protocols), read the echo, close (the
//     client closes first, so TIME_WAIT stays on the client side). At most CONCURRENCY at once;
//     stops starting new ones after MAX_CONNS or SECONDS, whichever comes first, then waits at
//     most 3 s for the ones in flight. -v prints completions per 100 ms to stderr (stalls).
//
//   loadgen hold -p PORT -n CONNS [-a 127.0.0.1] [-d SECONDS] [-i INTERVAL_MS] [-m MSG_BYTES]
//                [-s SOURCES] [-R OPEN_RATE]
//     Opens CONNS connections (at most OPEN_RATE/s, 60 s at most), prints "ready established=N"
//     and then, for SECONDS, sends one message per connection every INTERVAL_MS (spread evenly)
//     and reads the echoes; then closes them all.
//
// Source addresses: with SOURCES > 1 the client binds 127.0.0.2 .. 127.0.0.(SOURCES+1) in turn
// (IP_BIND_ADDRESS_NO_PORT, port chosen at connect), so churn at tens of thousands of
// connections/s does not run out of ephemeral ports while earlier ones sit in TIME_WAIT. The
// destination must then be a 127.0.0.0/8 address.
//
// Output: one summary line of key=value pairs on stdout (and "ready ..." in hold mode first).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum state { FREE = 0, CONNECTING, WAITING_ECHO, IDLE };

struct conn {
  int fd;
  enum state st;
  uint32_t got;     // echo bytes received for the current message
  double started;   // when the current phase began (connect or send)
};

static const char *dst_addr = "127.0.0.1";
static int port;
static int concurrency = 64;
static long max_conns = 1000000;
static double duration = 10;
static double rate; // new connections per second, 0 = as fast as possible
static int msg_bytes = 16;
static int sources = 16;
static int timeout_ms = 2000;
static int interval_ms = 1000;
static int timeline; // -v: completions per 100 ms on stderr (to see stalls)
static double open_rate = 5000;
static char msg[65536];

static struct conn *conns;
static int nslots;
static int ep;
static struct sockaddr_in dst;

// counters
static long started_n, established_n, completed_n, connect_errors, io_errors, timeouts, sent_msgs, echoed_msgs;

// Descriptors for `need` connections plus headroom; says so when the limit stays lower.
static void need_nofile(long need) {
  rlim_t want = (rlim_t)need + 1024;
  rlim_t got = raise_nofile(want);
  if (got < want) {
    fprintf(stderr, "loadgen: descriptor limit %lu < %lu needed; raise ulimit -n\n", (unsigned long)got,
            (unsigned long)want);
  }
}

static void close_slot(int slot) {
  struct conn *c = &conns[slot];
  close(c->fd);
  c->fd = -1;
  c->st = FREE;
}

// Starts one non-blocking connect in a free slot; returns 0, or -1 when the connect failed at once.
static int start_conn(int slot) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    connect_errors++;
    return -1;
  }
  if (sources > 1) {
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(started_n % sources)); // 127.0.0.2+k
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
      close(fd);
      connect_errors++;
      return -1;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  started_n++;
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
    close(fd);
    connect_errors++;
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)slot};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    connect_errors++;
    return -1;
  }
  conns[slot] = (struct conn){.fd = fd, .st = CONNECTING, .got = 0, .started = mono_now()};
  return 0;
}

static int send_msg(int slot) {
  struct conn *c = &conns[slot];
  ssize_t w = write(c->fd, msg, (size_t)msg_bytes);
  if (w != msg_bytes) {
    return -1;
  }
  sent_msgs++;
  c->got = 0;
  c->st = WAITING_ECHO;
  c->started = mono_now();
  return 0;
}

// Handles readiness of one slot. churn: 1 when the connection finished (slot freed).
static int on_ready(int slot, uint32_t events, int churn) {
  struct conn *c = &conns[slot];
  if (c->st == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      connect_errors++;
      close_slot(slot);
      return 1;
    }
    established_n++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)slot};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    if (churn) {
      if (send_msg(slot) != 0) {
        io_errors++;
        close_slot(slot);
        return 1;
      }
    } else {
      c->st = IDLE;
    }
    return 0;
  }
  char buf[65536];
  for (;;) {
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r > 0) {
      c->got += (uint32_t)r;
      if (c->st == WAITING_ECHO && c->got >= (uint32_t)msg_bytes) {
        echoed_msgs++;
        if (churn) {
          completed_n++;
          close_slot(slot);
          return 1;
        }
        c->st = IDLE;
      }
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      return 0;
    }
    // EOF or reset before the echo was complete
    io_errors++;
    close_slot(slot);
    return 1;
  }
}

static int parse(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "a:p:c:n:d:r:m:s:w:i:R:v")) != -1) {
    switch (opt) {
    case 'a': dst_addr = optarg; break;
    case 'p': port = atoi(optarg); break;
    case 'c': concurrency = atoi(optarg); break;
    case 'n': max_conns = atol(optarg); break;
    case 'd': duration = atof(optarg); break;
    case 'r': rate = atof(optarg); break;
    case 'm': msg_bytes = atoi(optarg); break;
    case 's': sources = atoi(optarg); break;
    case 'w': timeout_ms = atoi(optarg); break;
    case 'i': interval_ms = atoi(optarg); break;
    case 'R': open_rate = atof(optarg); break;
    case 'v': timeline = 1; break;
    default: return -1;
    }
  }
  if (port <= 0 || port > 65535 || concurrency < 1 || max_conns < 1 || duration <= 0 || duration > 3600 ||
      msg_bytes < 1 || msg_bytes > (int)sizeof msg || sources < 1 || sources > 250 || interval_ms < 1 ||
      open_rate <= 0) {
    return -1;
  }
  return 0;
}

static int run_churn(void) {
  nslots = concurrency;
  conns = calloc((size_t)nslots, sizeof *conns);
  int *free_slots = malloc(sizeof(int) * (size_t)nslots);
  int nfree = nslots;
  for (int i = 0; i < nslots; i++) {
    free_slots[i] = nslots - 1 - i;
    conns[i].fd = -1;
  }
  struct epoll_event events[512];
  double t0 = mono_now(), deadline = t0 + duration, next_sweep = t0 + 0.1, stopped_at = 0;
  double next_tick = t0 + 0.1;
  long ticked = 0;
  for (;;) {
    double now = mono_now();
    if (timeline && now >= next_tick) {
      fprintf(stderr, "t=%.1f completed=%ld inflight=%d\n", now - t0, completed_n - ticked, nslots - nfree);
      ticked = completed_n;
      next_tick += 0.1;
    }
    int starting = !stop_requested && now < deadline && started_n + connect_errors < max_conns;
    if (!starting && stopped_at == 0) {
      stopped_at = now;
    }
    while (starting && nfree > 0 && started_n + connect_errors < max_conns &&
           (rate <= 0 || started_n + connect_errors < rate * (now - t0))) {
      int slot = free_slots[--nfree];
      if (start_conn(slot) != 0) {
        free_slots[nfree++] = slot;
      }
    }
    int inflight = nslots - nfree;
    if (!starting && (inflight == 0 || now > stopped_at + 3)) {
      break;
    }
    int n = epoll_wait(ep, events, 512, rate > 0 ? 1 : 50);
    for (int i = 0; i < n; i++) {
      int slot = (int)events[i].data.u32;
      if (conns[slot].st != FREE && on_ready(slot, events[i].events, 1)) {
        free_slots[nfree++] = slot;
      }
    }
    if (now >= next_sweep) { // a lost SYN or a stalled server must not hold a slot forever
      next_sweep = now + 0.1;
      for (int s = 0; s < nslots; s++) {
        if (conns[s].st != FREE && now - conns[s].started > timeout_ms / 1000.0) {
          timeouts++;
          close_slot(s);
          free_slots[nfree++] = s;
        }
      }
    }
  }
  double elapsed = (stopped_at > 0 ? stopped_at : mono_now()) - t0;
  long abandoned = 0;
  for (int s = 0; s < nslots; s++) {
    if (conns[s].st != FREE) {
      abandoned++;
      close_slot(s);
    }
  }
  printf("mode=churn started=%ld established=%ld completed=%ld connect_errors=%ld io_errors=%ld "
         "timeouts=%ld abandoned=%ld elapsed_s=%.3f rate=%.1f\n",
         started_n, established_n, completed_n, connect_errors, io_errors, timeouts, abandoned, elapsed,
         elapsed > 0 ? completed_n / elapsed : 0.0);
  return 0;
}

static int run_hold(void) {
  nslots = (int)max_conns;
  need_nofile(max_conns);
  conns = calloc((size_t)nslots, sizeof *conns);
  for (int i = 0; i < nslots; i++) {
    conns[i].fd = -1;
  }
  struct epoll_event events[1024];
  // phase 1: open, at most 256 connects pending and open_rate per second, 60 s at most
  double t0 = mono_now();
  int next = 0;
  long pending = 0;
  while (!stop_requested && mono_now() - t0 < 60) {
    double now = mono_now();
    while (next < nslots && pending < 256 && next < open_rate * (now - t0) + 1) {
      if (start_conn(next) == 0) {
        pending++;
      }
      next++;
    }
    if (next >= nslots && pending == 0) {
      break;
    }
    int n = epoll_wait(ep, events, 1024, 5);
    for (int i = 0; i < n; i++) {
      int slot = (int)events[i].data.u32;
      enum state before = conns[slot].st;
      if (before == FREE) {
        continue;
      }
      on_ready(slot, events[i].events, 0);
      if (before == CONNECTING && conns[slot].st != CONNECTING) {
        pending--;
      }
    }
  }
  double open_s = mono_now() - t0;
  printf("ready established=%ld connect_errors=%ld open_s=%.3f\n", established_n, connect_errors, open_s);
  fflush(stdout);

  // phase 2: one message per connection per interval, spread evenly over the interval
  double t1 = mono_now(), end = t1 + duration, per = interval_ms / 1000.0;
  long cursor = 0; // sends due so far across all connections
  double max_wait = 0;
  while (!stop_requested) {
    double now = mono_now();
    if (now >= end) {
      break;
    }
    long due = (long)((now - t1) / per * nslots);
    for (; cursor < due; cursor++) {
      int slot = (int)(cursor % nslots);
      if (conns[slot].st == IDLE) {
        if (send_msg(slot) != 0) {
          io_errors++;
          close_slot(slot);
        }
      } else if (conns[slot].st == WAITING_ECHO && now - conns[slot].started > max_wait) {
        max_wait = now - conns[slot].started;
      }
    }
    int n = epoll_wait(ep, events, 1024, 2);
    for (int i = 0; i < n; i++) {
      int slot = (int)events[i].data.u32;
      if (conns[slot].st != FREE) {
        on_ready(slot, events[i].events, 0);
      }
    }
  }
  long open_at_end = 0;
  for (int s = 0; s < nslots; s++) {
    if (conns[s].st != FREE) {
      open_at_end++;
      close_slot(s);
    }
  }
  printf("mode=hold established=%ld open_at_end=%ld connect_errors=%ld io_errors=%ld sent=%ld echoed=%ld "
         "max_echo_wait_ms=%.1f traffic_s=%.3f\n",
         established_n, open_at_end, connect_errors, io_errors, sent_msgs, echoed_msgs, max_wait * 1000,
         mono_now() - t1);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "churn") != 0 && strcmp(argv[1], "hold") != 0)) {
    fprintf(stderr, "usage: loadgen churn|hold -p PORT [options] (see the header of loadgen.c)\n");
    return 2;
  }
  int churn = strcmp(argv[1], "churn") == 0;
  if (!churn) {
    max_conns = 10000;
    duration = 30;
  }
  if (parse(argc - 1, argv + 1) != 0) {
    fprintf(stderr, "loadgen: bad arguments (see the header of loadgen.c)\n");
    return 2;
  }
  dst = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, dst_addr, &dst.sin_addr) != 1 || (ntohl(dst.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "loadgen: destination must be a 127.0.0.0/8 address (loopback only): %s\n", dst_addr);
    return 2;
  }
  for (int i = 0; i < msg_bytes - 1; i++) {
    msg[i] = "ping0123456789abcdefghijklmnopqrstuvwxyz"[i % 40];
  }
  msg[msg_bytes - 1] = '\n';
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  need_nofile(concurrency);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    die("epoll_create1");
  }
  return churn ? run_churn() : run_hold();
}
