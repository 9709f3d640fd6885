/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Connection event family: the one contract between the kernel programs and Java.
 * The Java mirror is dev.wmscope.loader.ConnEventLayout; ConnEventLayoutKernelIT checks its
 * size and offsets against the BTF of the compiled object, so the two cannot drift silently.
 * Fixed-width fields only, explicit padding (the build uses -Wpadded -Werror).
 */
#ifndef WMSCOPE_CONN_H
#define WMSCOPE_CONN_H

#define WM_ADDR_LEN 16
#define WM_COMM_LEN 16

/* First field of every ring-buffer record. Mirrored by dev.wmscope.loader.ConnEventType. */
enum wm_event_type {
	WM_EVENT_CONN_OPEN = 1,  /* a watched connection reached ESTABLISHED */
	WM_EVENT_CONN_CLOSE = 2, /* it reached CLOSE; counters are final */
};

/* Which end this host is. Mirrored by dev.wmscope.loader.ConnSide. */
enum wm_conn_side {
	WM_SIDE_SERVER = 0, /* accepted by a local listener (passive open) */
	WM_SIDE_CLIENT = 1, /* initiated by a local process (active open) */
};

/* Bits of wm_conn_event.flags. Mirrored by dev.wmscope.loader.ConnRecord. */
enum wm_conn_flags {
	WM_CONN_OPEN_SENT = 1,       /* the open record was emitted (kernel bookkeeping) */
	WM_CONN_ATTRIBUTED = 2,      /* pid and comm are those of the process that used the socket */
	WM_CONN_PREEXISTING = 4,     /* open before wmscope watched it: found by the tcp iterator */
	WM_CONN_RST_SENT = 8,        /* we sent a reset on it */
	WM_CONN_RST_RECEIVED = 16,   /* the peer reset it */
	WM_CONN_FIN_LOCAL_FIRST = 32, /* we closed first (FIN_WAIT1 before any FIN from the peer) */
	WM_CONN_FIN_PEER_FIRST = 64, /* the peer closed first (CLOSE_WAIT) */
};

/* Indexes of the drop_counters map. Mirrored by dev.wmscope.loader.DropReason. */
enum wm_drop_reason {
	WM_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed: a record was lost */
	WM_DROP_CONN_MAP_FULL = 1, /* over the --max-connections budget (or no memory for its record): not tracked */
	WM_DROP_DATA_RINGBUF_FULL = 2, /* a data record (request capture) was lost: that stream resyncs */
	WM_DROP__COUNT = 3,
};

struct wm_conn_event {
	__u32 type;                    /* enum wm_event_type */
	__u16 family;                  /* AF_INET or AF_INET6 */
	__u8 side;                     /* enum wm_conn_side */
	__u8 flags;                    /* enum wm_conn_flags */
	__u64 cookie;                  /* socket cookie: unique per socket while the kernel runs */
	__u64 start_ns;                /* bpf_ktime_get_ns() at established (CLOCK_MONOTONIC) */
	__u64 end_ns;                  /* at close; 0 in an open event */
	__u8 local_addr[WM_ADDR_LEN];  /* network order; IPv4 in the first 4 bytes */
	__u8 remote_addr[WM_ADDR_LEN];
	__u16 local_port;              /* host order */
	__u16 remote_port;             /* host order */
	__u32 pid;                     /* owner tgid, 0 when not known */
	__u64 bytes_received;          /* payload bytes received (FIN excluded) */
	__u64 bytes_acked;             /* payload bytes sent and acked by the peer (FIN excluded) */
	__u32 data_segs_in;
	__u32 data_segs_out;
	__u32 srtt_us;                 /* smoothed RTT, microseconds */
	__u32 total_retrans;           /* retransmitted segments over the connection's life */
	__u8 comm[WM_COMM_LEN];        /* owner thread name, empty when not known */
	__u32 prev_state;              /* TCP state before CLOSE (enum from include/net/tcp_states.h) */
	__u32 sk_err;                  /* socket error at close: ECONNREFUSED, ETIMEDOUT, ECONNRESET or 0 */
	__u64 sock_inode;              /* socket inode (preexisting opens): user space maps it to a process */
};

/*
 * Data event family (request capture): one record per read or send of a captured connection,
 * in the data_events ring buffer, followed by `captured` bytes: the first bytes of what the
 * call moved, at most the configured budget. Stream offsets let user space frame messages
 * exactly and see a lost record (an offset that does not follow on). Mirrored by
 * dev.wmscope.loader.DataRecord.
 */
enum wm_data_direction {
	WM_DATA_RECEIVE = 0, /* the owner read bytes from the peer */
	WM_DATA_SEND = 1,    /* the owner sent bytes to the peer */
};

/* Bits of wm_data_event.flags. */
enum wm_data_flags {
	WM_DATA_NO_BUFFER = 1,   /* not a read/recv/write/send family syscall (e.g. sendfile): no bytes */
	WM_DATA_READ_FAILED = 2, /* the user buffer could not be read (not resident): no bytes */
	WM_DATA_ADOPTED = 4,     /* the connection predates tracking: offset 0 is not a stream start */
};

/* The most a data record can carry; the configured budget is at most this. */
#define WM_CAPTURE_MAX 16384

struct wm_data_event {
	__u64 cookie;     /* the connection (wm_conn_event.cookie) */
	__u64 ts_ns;      /* bpf_ktime_get_ns() when the call returned */
	__u64 stream_off; /* bytes of this direction the owner moved before this call, since tracked */
	__u32 len;        /* bytes this call moved */
	__u32 captured;   /* bytes that follow the record: the first min(len, budget) of them */
	__u32 pid;        /* the calling process (tgid) */
	__u8 direction;   /* enum wm_data_direction */
	__u8 flags;       /* enum wm_data_flags */
	__u16 _pad0;
};

/* Kinds of records the tcp iterator writes (each starts with __u32 kind). */
enum wm_iter_kind {
	WM_ITER_CONN = 1,     /* struct wm_live_conn: counters of a tracked open connection */
	WM_ITER_LISTENER = 2, /* struct wm_listener: a listening socket on a watched port */
	WM_ITER_CLIENT_CANDIDATE = 3, /* struct wm_client_candidate: an untracked connection to a watched port on this host */
};

/* Live counters of a tracked connection, read every poll interval (iter/tcp). */
struct wm_live_conn {
	__u32 kind;                    /* WM_ITER_CONN */
	__u32 state;                   /* TCP state */
	__u64 cookie;
	__u64 bytes_received;          /* payload since tracked */
	__u64 bytes_acked;
	__u32 data_segs_in;
	__u32 data_segs_out;
	__u32 srtt_us;
	__u32 total_retrans;
	__u32 rcv_queue;               /* received, not yet read by the application (rcv_nxt - copied_seq) */
	__u32 snd_queue;               /* written by the application, not yet acked (write_seq - snd_una) */
	__u32 copied_seq;              /* how far the application has read: a stall does not move it */
	__u32 _pad0;
};

/* A listening socket on a watched port: accept-queue pressure. */
struct wm_listener {
	__u32 kind;                    /* WM_ITER_LISTENER */
	__u16 family;
	__u16 port;                    /* host order */
	__u8 addr[WM_ADDR_LEN];
	__u32 accept_queue;            /* connections waiting for accept() (sk_ack_backlog) */
	__u32 accept_limit;            /* the backlog given to listen() (sk_max_ack_backlog) */
	__u32 drops;                   /* sk_drops: SYNs and completed connections dropped (overflows) */
	__u32 _pad0;
	__u64 sock_inode;              /* user space maps it to the processes holding the socket */
};

/*
 * An untracked established connection from this host to a watched port on this host (its remote
 * address is loopback or its own local address), that predates tracking: the client end of an
 * internal link (a BusinessWorker's connection to a Gateway's inner port), or of a local proxy's
 * connection (nginx in front of webman). User space adopts it (adopt_clients) only when a
 * watched process holds it, found by inode.
 */
struct wm_client_candidate {
	__u32 kind;                    /* WM_ITER_CLIENT_CANDIDATE */
	__u16 family;
	__u16 local_port;              /* host order */
	__u64 cookie;
	__u64 sock_inode;
	__u8 local_addr[WM_ADDR_LEN];
	__u8 remote_addr[WM_ADDR_LEN];
	__u16 remote_port;             /* host order */
	__u16 _pad0;
	__u32 _pad1;
};

#endif /* WMSCOPE_CONN_H */
