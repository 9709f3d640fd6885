// wsload.c - WebSocket echo load for bench/requests.sh: one epoll loop, loopback only, bounded.
//
//   wsload -p PORT [-a 127.0.0.1] [-c CONNECTIONS] [-d SECONDS] [-m PAYLOAD_BYTES]
//     Opens CONNECTIONS connections, upgrades each (RFC 6455 handshake, 101 awaited), then keeps
//     one masked text message of PAYLOAD_BYTES (< 65536) in flight per connection: send it, read
//     the server's unmasked echo frame, send the next, until SECONDS have passed. Every message
//     is one read and one send of the server, as a chat or push worker under load.
//
// Output: one line "mode=ws connections=N messages=M io_errors=E seconds=S": M echoes completed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"

static char frame[65536 + 8];
static size_t frame_len;
static size_t echo_len; // the server's frame: 2 or 4 header bytes and the payload

struct ws {
  int fd;
  size_t got; // bytes of the current echo read so far
};

static int handshake(int fd) {
  static const char req[] = "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n";
  if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
    return -1;
  }
  char buf[1024];
  size_t n = 0;
  while (n < sizeof buf - 1) { // the 101 answer, up to its blank line (nothing follows it yet)
    ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
    if (r <= 0) {
      return -1;
    }
    n += (size_t)r;
    buf[n] = 0;
    if (strstr(buf, "\r\n\r\n")) {
      return strncmp(buf, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
    }
  }
  return -1;
}

int main(int argc, char **argv) {
  const char *addr = "127.0.0.1";
  int port = 0, nconns = 32, payload = 64;
  double seconds = 10;
  int opt;
  while ((opt = getopt(argc, argv, "p:a:c:d:m:")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 'a': addr = optarg; break;
      case 'c': nconns = atoi(optarg); break;
      case 'd': seconds = atof(optarg); break;
      case 'm': payload = atoi(optarg); break;
      default: fprintf(stderr, "usage: wsload -p PORT [-a ADDR] [-c CONNS] [-d SECONDS] [-m PAYLOAD]\n"); return 2;
    }
  }
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (port <= 0 || nconns < 1 || nconns > 10000 || payload < 1 || payload > 65535 || seconds <= 0 || seconds > 600 ||
      inet_pton(AF_INET, addr, &dst.sin_addr) != 1 || (ntohl(dst.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "wsload: bad arguments (loopback destination, 1..10000 connections, payload 1..65535)\n");
    return 2;
  }
  // one masked text frame, sent again and again (the same mask: valid, and the server unmasks it)
  static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  size_t h = 0;
  frame[h++] = (char)0x81;
  if (payload < 126) {
    frame[h++] = (char)(0x80 | payload);
  } else {
    frame[h++] = (char)(0x80 | 126);
    frame[h++] = (char)(payload >> 8);
    frame[h++] = (char)(payload & 0xff);
  }
  memcpy(frame + h, mask, 4);
  h += 4;
  for (int i = 0; i < payload; i++) {
    frame[h + (size_t)i] = (char)("wmscope-ws-bench"[i % 16] ^ mask[i % 4]);
  }
  frame_len = h + (size_t)payload;
  echo_len = (payload < 126 ? 2 : 4) + (size_t)payload;

  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  raise_nofile((rlim_t)nconns + 64);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    die("epoll_create1");
  }
  struct ws *conns = calloc((size_t)nconns, sizeof *conns);
  long messages = 0, io_errors = 0;
  int open = 0;
  for (int i = 0; i < nconns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 || handshake(fd) != 0) {
      io_errors++;
      if (fd >= 0) {
        close(fd);
      }
      conns[i].fd = -1;
      continue;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    open++;
  }
  double t0 = mono_now(), end = t0 + seconds;
  for (int i = 0; i < nconns; i++) {
    if (conns[i].fd >= 0 && write(conns[i].fd, frame, frame_len) != (ssize_t)frame_len) {
      io_errors++;
    }
  }
  struct epoll_event events[1024];
  char buf[65536 + 8];
  while (!stop_requested && mono_now() < end) {
    int n = epoll_wait(ep, events, 1024, 100);
    for (int k = 0; k < n; k++) {
      struct ws *c = &conns[events[k].data.u32];
      if (c->fd < 0) {
        continue;
      }
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) {
          continue;
        }
        io_errors++;
        close(c->fd);
        c->fd = -1;
        open--;
        continue;
      }
      c->got += (size_t)r;
      if (c->got > echo_len) { // one message in flight: more than its echo is a protocol error
        io_errors++;
        close(c->fd);
        c->fd = -1;
        open--;
      } else if (c->got == echo_len) {
        messages++;
        c->got = 0;
        if (write(c->fd, frame, frame_len) != (ssize_t)frame_len) {
          io_errors++;
        }
      }
    }
  }
  double took = mono_now() - t0;
  for (int i = 0; i < nconns; i++) {
    if (conns[i].fd >= 0) {
      close(conns[i].fd);
    }
  }
  printf("mode=ws connections=%d messages=%ld io_errors=%ld seconds=%.3f\n", open, messages, io_errors, took);
  return 0;
}
