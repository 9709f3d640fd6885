// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wmscope kernel side: TCP connection lifecycle from sock_ops on a cgroup v2 hierarchy.
 *
 * A connection is tracked when its local port is watched (accepted, server side) or when a
 * watched process initiates it (client side). Key 0 in watched_ports / watched_pids means
 * "every port" / "every process" (used with a container's cgroup). On established we keep a
 * record in the socket's `tracked` storage; the state changes of tracked sockets
 * (tp_btf/inet_sock_set_state) note who closed first, and on the transition to CLOSE we emit
 * the record with final counters to the ring buffer and delete the storage. The number of
 * tracked connections is capped by conn_budget (--max-connections).
 *
 * Cost: no sock_ops callbacks are requested. STATE/RTT/RETRANS callbacks would run sock_ops
 * several more times per connection and once per ACK of new data (bench/profile.sh measured
 * them as most of the kernel-side cost), while the close is seen by the state tracepoint as
 * well (it fires in the same tcp_set_state() call, for adopted connections too) and srtt and
 * retransmits are read from tcp_sock by the iterator every poll and at close.
 *
 * Attribution: sock_ops runs in softirq for accepted sockets, so it cannot tell which process
 * owns them (with a shared listener any worker may accept). The first moment the owner touches
 * the socket marks it (WM_TRACKED_NEEDS_OWNER in the socket's storage, cleared then) and emits
 * the open record with its pid: accept() asking for the peer's address (PHP's
 * stream_socket_accept, Java and most servers do) runs the cgroup getpeername hook in the
 * accepting process; otherwise the first receive (tp_btf/sock_recv_length), or for a server that
 * never reads, the close (the FIN_WAIT1/LAST_ACK transition runs in the owner's close()). No
 * send hook: sock_send_length would run on every send of every socket of the host.
 *
 * Live state: every poll interval the agent runs an iterator that writes the current counters
 * of every tracked connection and the accept queue of every watched listener. iter/tcp walks
 * every TCP socket of the namespace (TIME_WAIT included: 131,072 of them on a host under
 * churn), so it runs only when something may be new to it: it marks the listeners of watched
 * ports and adopts connections on watched ports that predate wmscope. Every other pass walks
 * only the `tracked` storage map (iter/bpf_sk_storage_map): the connections and listeners
 * wmscope watches, whichever network namespace they are in. Resets are marked by
 * tp_btf/tcp_send_reset and tcp_receive_reset.
 *
 * Only sock_ops and the state tracepoint are the core. Every other program is optional: the
 * loader probes it and leaves out what the kernel refuses (the 2026-12-02 6.18.44 build refuses
 * map-element iterators, EPERM at load: then every live read is the iter/tcp walk). Without
 * both attribution hooks the live reads emit the open record of an accepted socket once a
 * process holds it (attribute_by_inode).
 */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpadded"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "wmscope_conn.h"
#include "maps/watched_ports.h"
#include "maps/watched_pids.h"
#include "maps/events.h"
#include "maps/drop_counters.h"
#include "maps/iter_config.h"
#include "maps/tracked.h"
#include "maps/conn_budget.h"
#include "maps/untracked.h"
#include "maps/data_events.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_DONE 1 /* enum sock_flags: set by tcp_fin() when the peer's FIN is processed */

/* Bits of a socket's `tracked` storage value. */
enum wm_tracked_flags {
	WM_TRACKED_NEEDS_OWNER = 1, /* accepted, no process has sent or received on it yet */
	WM_TRACKED_LISTENER = 2,    /* a listener on a watched port, marked by the tcp iterator */
	WM_TRACKED_CAPTURE = 4,     /* its reads and sends go to data_events (request capture) */
};

/* Bits of a watched_ports value. */
enum wm_port_flags {
	WM_PORT_WATCHED = 1, /* track the connections accepted on it */
	WM_PORT_CAPTURE = 2, /* and capture their first bytes of each read and send */
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The iterator's records only live on the stack, and clang emits no BTF for such types; these
 * read-only anchors put them into the object's BTF so the Java layouts can be checked against
 * them (ConnEventLayoutTest). 112 bytes of .rodata, never read. */
const volatile struct wm_live_conn wm_btf_live_conn = {};
const volatile struct wm_listener wm_btf_listener = {};

static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drop_counters, &reason);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* The watched_ports flags of a port (the port's own entry, else the every-port entry 0). */
static __always_inline __u8 port_flags(__u16 port)
{
	__u32 key = port, any = 0;
	__u8 *p = bpf_map_lookup_elem(&watched_ports, &key);

	if (p && *p)
		return *p;
	p = bpf_map_lookup_elem(&watched_ports, &any);
	return p ? *p : 0;
}

static __always_inline bool port_watched(__u16 port)
{
	return port_flags(port) & WM_PORT_WATCHED;
}

static __always_inline bool pid_watched(__u32 tgid)
{
	__u32 any = 0;

	return bpf_map_lookup_elem(&watched_pids, &tgid) || bpf_map_lookup_elem(&watched_pids, &any);
}

static __always_inline void fill_tuple(struct wm_conn_event *e, struct bpf_sock_ops *skops)
{
	e->family = (__u16)skops->family;
	if (skops->family == AF_INET) {
		__builtin_memcpy(e->local_addr, &skops->local_ip4, 4);
		__builtin_memcpy(e->remote_addr, &skops->remote_ip4, 4);
	} else {
		/* ctx fields are read 4 bytes at a time; v4-mapped addresses stay as they are and
		 * user space reports them as IPv4 */
		__u32 *l = (__u32 *)e->local_addr, *r = (__u32 *)e->remote_addr;

		l[0] = skops->local_ip6[0];
		l[1] = skops->local_ip6[1];
		l[2] = skops->local_ip6[2];
		l[3] = skops->local_ip6[3];
		r[0] = skops->remote_ip6[0];
		r[1] = skops->remote_ip6[1];
		r[2] = skops->remote_ip6[2];
		r[3] = skops->remote_ip6[3];
	}
	e->local_port = (__u16)skops->local_port;
	/* remote_port holds the network-order port in its upper half (little endian) */
	e->remote_port = (__u16)bpf_ntohl(skops->remote_port);
}

/* The same tuple from a kernel socket (iterator and tracepoints). */
static __always_inline void fill_tuple_sk(struct wm_conn_event *e, struct sock_common *skc)
{
	e->family = skc->skc_family;
	if (e->family == AF_INET) {
		*(__u32 *)e->local_addr = skc->skc_rcv_saddr;
		*(__u32 *)e->remote_addr = skc->skc_daddr;
	} else {
		__builtin_memcpy(e->local_addr, skc->skc_v6_rcv_saddr.in6_u.u6_addr8, WM_ADDR_LEN);
		__builtin_memcpy(e->remote_addr, skc->skc_v6_daddr.in6_u.u6_addr8, WM_ADDR_LEN);
	}
	e->local_port = skc->skc_num;
	e->remote_port = bpf_ntohs(skc->skc_dport);
}

/* Submits a copy of e as an event of the given type; counts the loss when the buffer is full. */
static __always_inline void emit(const struct wm_conn_event *e, __u32 type)
{
	struct wm_conn_event *out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);

	if (!out) {
		count_drop(WM_DROP_RINGBUF_FULL);
		return;
	}
	__builtin_memcpy(out, e, sizeof(*out));
	out->type = type;
	bpf_ringbuf_submit(out, 0);
}

static __always_inline struct wm_tracked *tracked_of(void *sk)
{
	return bpf_sk_storage_get(&tracked, sk, 0, 0);
}

/* tracked_of for the tracing programs, which run for every socket of the host: a socket that no
 * BPF program gave storage returns at one load, before the helper call. */
static __always_inline struct wm_tracked *tracked_sock(struct sock *sk)
{
	if (!sk->sk_bpf_storage)
		return NULL;
	return bpf_sk_storage_get(&tracked, sk, 0, 0);
}

/* Counts a connection the budget has no room for, once: the iterator meets the same socket
 * again at every full walk, and one that sock_ops already counted too (its `untracked` mark). */
static __always_inline void count_budget_full(void *sk)
{
	__u8 *seen = bpf_sk_storage_get(&untracked, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (seen && *seen)
		return;
	if (seen)
		*seen = 1;
	count_drop(WM_DROP_CONN_MAP_FULL);
}

/* Creates the record of a newly tracked connection in sk's storage, within the
 * --max-connections budget. NULL (counted as not tracked) when the budget is spent or there is
 * no memory; NULL (not counted) when the socket is tracked already. sk is a sock_ops socket or
 * a kernel socket (iterator): the helper takes either. */
static __always_inline struct wm_tracked *start_tracking(void *sk, __u64 cookie)
{
	__u32 zero = 0;
	struct wm_budget *b = bpf_map_lookup_elem(&conn_budget, &zero);
	struct wm_tracked *t;

	if (!b || !sk)
		return NULL;
	if (__sync_fetch_and_add(&b->open, 1) >= b->max) {
		__sync_fetch_and_add(&b->open, -1);
		count_budget_full(sk);
		return NULL;
	}
	t = bpf_sk_storage_get(&tracked, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!t || t->conn.cookie || t->mark) {
		__sync_fetch_and_add(&b->open, -1);
		if (!t)
			count_budget_full(sk);
		return NULL; /* or: tracked already (a listener or a connection), keep what is there */
	}
	t->conn.cookie = cookie;
	return t;
}

/* Forgets a tracked connection after its close record. */
static __always_inline void stop_tracking(struct sock *sk)
{
	__u32 zero = 0;
	struct wm_budget *b = bpf_map_lookup_elem(&conn_budget, &zero);

	if (b)
		__sync_fetch_and_add(&b->open, -1);
	bpf_sk_storage_delete(&tracked, sk);
}

/* Who closed first, from the state transitions (the close cause of a normal close). */
static __always_inline void note_transition(struct wm_conn_event *e, __u32 new_state)
{
	if (new_state == BPF_TCP_FIN_WAIT1 && !(e->flags & WM_CONN_FIN_PEER_FIRST))
		e->flags |= WM_CONN_FIN_LOCAL_FIRST;
	else if (new_state == BPF_TCP_CLOSE_WAIT && !(e->flags & WM_CONN_FIN_LOCAL_FIRST))
		e->flags |= WM_CONN_FIN_PEER_FIRST;
}

/* Asks for sock_ops' state callback on this tracked socket (BPF_SOCK_OPS_STATE_CB): its state
 * changes then reach wmscope_sockops too. The state tracepoint sees them as well, but a tracing
 * program does not run while it is already running on the same CPU (the kernel counts a
 * "recursion miss" and skips it): a softirq that closes a connection on top of the tracepoint
 * running in a process's close() left that connection's close record out (1 in 23,000 in a
 * soak). cgroup programs have no such guard, so sock_ops closes every connection it tracked;
 * the tracepoint closes adopted ones (no sock_ops callback can be asked for them) and sees every
 * other transition. */
static __always_inline void follow_states(struct bpf_sock_ops *skops)
{
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* Starts tracking at established (or continues what connect() started: t): the record keeps the
 * counters at this point as baselines, so the close record reports only what this connection
 * moved after it was established. */
static __always_inline void track(struct bpf_sock_ops *skops, __u8 side, struct wm_tracked *t)
{
	struct wm_conn_event *e;

	if (!t) {
		t = start_tracking(skops->sk, bpf_get_socket_cookie(skops));
		if (!t)
			return;
		/* an accepted socket's owner is unknown until a process touches it (send/recv hooks) */
		if (side == WM_SIDE_SERVER)
			t->mark = WM_TRACKED_NEEDS_OWNER |
				  ((port_flags((__u16)skops->local_port) & WM_PORT_CAPTURE) ? WM_TRACKED_CAPTURE : 0);
	}
	follow_states(skops);
	e = &t->conn;
	e->side = side;
	e->start_ns = bpf_ktime_get_ns();
	fill_tuple(e, skops);
	e->bytes_received = skops->bytes_received;
	e->bytes_acked = skops->bytes_acked;
	e->data_segs_in = skops->data_segs_in;
	e->data_segs_out = skops->data_segs_out;
	e->total_retrans = skops->total_retrans;
	if (side == WM_SIDE_CLIENT) {
		e->flags |= WM_CONN_OPEN_SENT;
		emit(e, WM_EVENT_CONN_OPEN);
	}
}

/* Payload bytes moved since the baselines in e. The kernel's bytes_received counts the peer's
 * FIN (SOCK_DONE is set exactly when tcp_fin() ran on this socket) and bytes_acked counts the
 * ack of ours (acked when it was queued, i.e. a FIN state, and nothing remains unacknowledged);
 * both are removed, for live reads and close records alike, so the two always agree. */
static __always_inline void payload_since(struct wm_conn_event *e, struct tcp_sock *tp, __u32 state,
					  __u64 *received, __u64 *acked)
{
	__u64 rx = tp->bytes_received - e->bytes_received;
	__u64 tx = tp->bytes_acked - e->bytes_acked;

	if (rx && (tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags & (1UL << SOCK_DONE)))
		rx -= 1;
	if (tx &&
	    (state == BPF_TCP_FIN_WAIT1 || state == BPF_TCP_FIN_WAIT2 || state == BPF_TCP_CLOSING ||
	     state == BPF_TCP_LAST_ACK) &&
	    tp->snd_una == tp->write_seq)
		tx -= 1;
	*received = rx;
	*acked = tx;
}

/* Fills e's counters with what moved since its baselines (prev_state: the state before CLOSE). */
static __always_inline void final_counts(struct wm_conn_event *e, struct tcp_sock *tp, __u32 prev_state)
{
	__u64 received, acked;

	payload_since(e, tp, prev_state, &received, &acked);
	e->bytes_received = received;
	e->bytes_acked = acked;
	e->data_segs_in = tp->data_segs_in - e->data_segs_in;
	e->data_segs_out = tp->data_segs_out - e->data_segs_out;
	e->total_retrans = tp->total_retrans - e->total_retrans;
	e->srtt_us = tp->srtt_us >> 3; /* the kernel keeps srtt scaled by 8 */
	e->sk_err = tp->inet_conn.icsk_inet.sk.sk_err;
}

/* Emits the close record of a tracked connection. */
static __always_inline void finish(struct wm_conn_event *e, struct tcp_sock *tp, __u32 prev_state)
{
	if (!(e->flags & WM_CONN_OPEN_SENT)) {
		/* closed before any process touched it (e.g. reset in the accept queue) */
		e->flags |= WM_CONN_OPEN_SENT;
		emit(e, WM_EVENT_CONN_OPEN);
	}
	e->end_ns = bpf_ktime_get_ns();
	e->prev_state = prev_state;
	final_counts(e, tp, prev_state);
	emit(e, WM_EVENT_CONN_CLOSE);
}

/* connect() runs in the caller's context: the one moment sock_ops knows the owner of a
 * client connection. Remember it until the handshake completes (or fails: the record exists
 * from now on, so a refused connect, SYN_SENT -> CLOSE, is seen too). */
static __always_inline void on_connect(struct bpf_sock_ops *skops)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct wm_tracked *t;
	struct wm_conn_event *e;

	if (!pid_watched(tgid))
		return;
	t = start_tracking(skops->sk, bpf_get_socket_cookie(skops));
	if (!t)
		return;
	follow_states(skops);
	e = &t->conn;
	e->side = WM_SIDE_CLIENT;
	e->pid = tgid;
	e->flags = WM_CONN_ATTRIBUTED;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->start_ns = bpf_ktime_get_ns();
	fill_tuple(e, skops);
}

static __always_inline void state_changed(struct sock *sk, struct wm_tracked *t, int old_state, int new_state);

SEC("sockops")
int wmscope_sockops(struct bpf_sock_ops *skops)
{
	struct wm_tracked *t;
	struct bpf_sock *sk;

	switch (skops->op) {
	case BPF_SOCK_OPS_STATE_CB: /* a socket that follow_states() asked it for */
		/* the close only: the other transitions (who closed first, attribution at close()) stay
		 * with the tracepoint, where a skipped run costs a close cause or a late attribution,
		 * not a close record; each run here is ~60 ns of dispatch even when it does nothing */
		if (skops->args[1] != BPF_TCP_CLOSE)
			break;
		sk = skops->sk;
		t = sk ? tracked_of(sk) : NULL;
		if (t)
			state_changed((struct sock *)sk, t, (int)skops->args[0], BPF_TCP_CLOSE);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (port_watched((__u16)skops->local_port))
			track(skops, WM_SIDE_SERVER, NULL);
		break;
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		/* a connect of a watched pid started the record; most clients are not ours. Never by
		 * local port: an ephemeral port on another address may have a watched port's number
		 * (127.0.0.3:P to a watched 127.0.0.1:P), and such a client is any process's */
		sk = skops->sk;
		t = sk ? tracked_of(sk) : NULL;
		if (t)
			track(skops, WM_SIDE_CLIENT, t);
		break;
	default:
		break;
	}
	return 1;
}

/* The owner's first touch of a tracked accepted socket (accept, first receive or close, in its
 * own syscall): record who it is and emit the open record. Untracked sockets return at the first
 * check, tracked ones at the second once attributed. */
static __always_inline void attribute_record(struct wm_tracked *t)
{
	struct wm_conn_event *e;

	if (!t || !(t->mark & WM_TRACKED_NEEDS_OWNER))
		return;
	t->mark &= ~WM_TRACKED_NEEDS_OWNER; /* once per connection */
	e = &t->conn;
	if (e->flags & WM_CONN_OPEN_SENT)
		return;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->flags |= WM_CONN_OPEN_SENT | WM_CONN_ATTRIBUTED;
	emit(e, WM_EVENT_CONN_OPEN);
}

static __always_inline void attribute(struct sock *sk)
{
	attribute_record(tracked_of(sk)); /* sk may be a cgroup program's bpf_sock: no field loads */
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(wmscope_tp_recv, struct sock *sk, int ret, int flags)
{
	attribute_record(tracked_sock(sk));
	return 0;
}

/*
 * Request capture. sock_recv_length and sock_send_length fire in sock_recvmsg/sock_sendmsg, in
 * the syscall of the process that reads or sends, after the bytes moved: the user buffer holds
 * them. Every socket of the host passes here; an untracked or uncaptured one returns at the
 * storage check. The syscall's own arguments (bpf_task_pt_regs) give the buffer: for
 * read/recvfrom/write/sendto the second argument, for readv/writev and recvmsg/sendmsg the first
 * iovec. Other callers (sendfile, io_uring, recvmmsg) are counted with their length only.
 */
#if defined(__TARGET_ARCH_x86)
#define WM_NR_READ 0
#define WM_NR_WRITE 1
#define WM_NR_READV 19
#define WM_NR_WRITEV 20
#define WM_NR_SENDTO 44
#define WM_NR_RECVFROM 45
#define WM_NR_SENDMSG 46
#define WM_NR_RECVMSG 47
#endif
#define WM_MSG_PEEK 2

/* The user buffer holding the bytes of the current syscall and how many of them it can hold
 * (0: none to read). */
static __always_inline __u64 user_buffer(struct task_struct *task, __u64 *room)
{
#if defined(__TARGET_ARCH_x86)
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	/* the syscall number and arguments, read once into registers: the verifier refuses an
	 * instruction that clang would share between this pointer and the stack */
	__u64 nr = regs->orig_ax, arg2 = regs->si, arg3 = regs->dx;
	struct user_msghdr mh;
	struct iovec iov;
	__u64 iovp;

	barrier_var(nr);
	barrier_var(arg2);
	barrier_var(arg3);
	switch (nr) {
	case WM_NR_READ:
	case WM_NR_WRITE:
	case WM_NR_SENDTO:
	case WM_NR_RECVFROM:
		*room = arg3;
		return arg2;
	case WM_NR_READV:
	case WM_NR_WRITEV:
		iovp = arg2;
		break;
	case WM_NR_SENDMSG:
	case WM_NR_RECVMSG:
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)arg2))
			return 0;
		iovp = (__u64)mh.msg_iov;
		break;
	default:
		return 0;
	}
	if (!iovp || bpf_probe_read_user(&iov, sizeof(iov), (void *)iovp))
		return 0;
	*room = iov.iov_len;
	return (__u64)iov.iov_base;
#else
	return 0;
#endif
}

/* n masked to the scratch buffer, in an asm the compiler cannot drop: clang knows n is clamped
 * already and would test a copy, leaving the verifier an unbounded register. */
static __always_inline __u64 bounded(__u64 n)
{
	asm volatile("%[n] &= %[mask]" : [n] "+r"(n) : [mask] "i"(2 * WM_CAPTURE_MAX - 1));
	return n;
}

static __always_inline void capture(struct wm_tracked *t, int ret, __u8 direction)
{
	struct task_struct *task;
	struct wm_data_scratch *s;
	__u32 zero = 0, cpu = bpf_get_smp_processor_id(), *budget, n;
	__u64 buf, room = 0, size = 0;

	if (ret <= 0 || !t || !(t->mark & WM_TRACKED_CAPTURE))
		return;
	task = bpf_get_current_task_btf();
	s = bpf_map_lookup_elem(&data_scratch, &cpu);
	budget = bpf_map_lookup_elem(&capture_config, &zero);
	if (!s || !budget)
		return;
	s->hdr.cookie = t->conn.cookie;
	s->hdr.ts_ns = bpf_ktime_get_ns();
	/* one owner thread reads (or sends) a socket at a time; the add keeps the offsets right
	 * even when two do */
	s->hdr.stream_off = __sync_fetch_and_add(direction == WM_DATA_SEND ? &t->sent_off : &t->received_off,
						 (__u64)ret);
	s->hdr.len = (__u32)ret;
	s->hdr.pid = task->tgid;
	s->hdr.direction = direction;
	s->hdr.flags = (t->conn.flags & WM_CONN_PREEXISTING) ? WM_DATA_ADOPTED : 0;
	s->hdr.captured = 0;
	buf = user_buffer(task, &room);
	if (!buf) {
		s->hdr.flags |= WM_DATA_NO_BUFFER;
	} else {
		n = (__u32)ret;
		if (room < n)
			n = (__u32)room;
		if (*budget < n)
			n = *budget;
		if (n > WM_CAPTURE_MAX)
			n = WM_CAPTURE_MAX;
		size = bounded(n);
		if (size && bpf_probe_read_user(s->data, size, (void *)buf)) {
			s->hdr.flags |= WM_DATA_READ_FAILED;
			size = 0;
		}
		s->hdr.captured = (__u32)size;
	}
	size = bounded(s->hdr.captured);
	if (bpf_ringbuf_output(&data_events, s, sizeof(s->hdr) + size, 0))
		count_drop(WM_DROP_DATA_RINGBUF_FULL);
}

/* Attribution at the first receive (as wmscope_tp_recv) and capture, with one storage lookup: the
 * loader attaches this instead of wmscope_tp_recv when request capture is on, so every receive of
 * every socket of the host runs one program, not two. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(wmscope_tp_recv_data, struct sock *sk, int ret, int flags)
{
	struct wm_tracked *t = tracked_sock(sk);
	__u32 one = 1, *attributes;

	if (!t)
		return 0;
	if (t->mark & WM_TRACKED_NEEDS_OWNER) {
		attributes = bpf_map_lookup_elem(&capture_config, &one);
		if (attributes && *attributes)
			attribute_record(t);
	}
	if (!(flags & WM_MSG_PEEK)) /* a peek (PHP's feof) leaves the bytes for the next read */
		capture(t, ret, WM_DATA_RECEIVE);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(wmscope_tp_send_data, struct sock *sk, int ret, int flags)
{
	capture(tracked_sock(sk), ret, WM_DATA_SEND);
	return 0;
}

/* accept() with an address buffer asks for the new socket's peer: in the accepting process, once
 * per connection (also for explicit getpeername() calls, which return at the mark). One hook per
 * address family. */
static __always_inline int on_getpeername(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (sk)
		attribute((struct sock *)sk);
	return 1;
}

SEC("cgroup/getpeername4")
int wmscope_accept4(struct bpf_sock_addr *ctx)
{
	return on_getpeername(ctx);
}

SEC("cgroup/getpeername6")
int wmscope_accept6(struct bpf_sock_addr *ctx)
{
	return on_getpeername(ctx);
}

/* Resets: mark the tracked connection so its close record says who reset it. */
static __always_inline void mark(const struct sock *sk, __u8 flag)
{
	struct wm_tracked *t;

	if (!sk)
		return; /* a reset for a segment that matched no socket */
	t = tracked_sock((struct sock *)sk);
	if (t && !(t->mark & WM_TRACKED_LISTENER))
		t->conn.flags |= flag;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(wmscope_tp_send_reset, const struct sock *sk)
{
	mark(sk, WM_CONN_RST_SENT);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(wmscope_tp_recv_reset, struct sock *sk)
{
	mark(sk, WM_CONN_RST_RECEIVED);
	return 0;
}

static __always_inline bool iter_switch(__u32 key)
{
	__u32 *on = bpf_map_lookup_elem(&iter_config, &key);

	return on && *on;
}

/* A state change of a tracked connection, from the state tracepoint (every change) or sock_ops
 * (the close of a connection it tracked: whichever runs first at CLOSE emits the close record and
 * forgets the connection, the other finds nothing): who closed first, and the close record on
 * CLOSE. */
static __always_inline void state_changed(struct sock *sk, struct wm_tracked *t, int old_state, int new_state)
{
	struct tcp_sock *tp;

	if (new_state != BPF_TCP_CLOSE) {
		/* FIN_WAIT1 and LAST_ACK are entered in close()/shutdown(), the owner's syscall: a
		 * server that never received (and was accepted without asking the peer's address) is
		 * attributed here */
		if (new_state == BPF_TCP_FIN_WAIT1 || new_state == BPF_TCP_LAST_ACK)
			attribute_record(t); /* the record is in hand: no second lookup */
		note_transition(&t->conn, new_state);
		return;
	}
	tp = bpf_skc_to_tcp_sock(sk);
	if (tp)
		finish(&t->conn, tp, old_state);
	stop_tracking(sk);
}

/* State changes of every socket of the host (untracked ones return at the storage check):
 * listeners' closes, and state_changed() for tracked connections. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wmscope_tp_set_state, struct sock *sk, int old_state, int new_state)
{
	struct wm_tracked *t = tracked_sock(sk);

	if (!t)
		return 0;
	if (t->mark & WM_TRACKED_LISTENER) {
		if (new_state == BPF_TCP_CLOSE)
			bpf_sk_storage_delete(&tracked, sk); /* the listener closed */
		return 0;
	}
	if (new_state == BPF_TCP_CLOSE && !(t->conn.flags & WM_CONN_PREEXISTING) &&
	    iter_switch(WM_CFG_TP_LEAVES_SOCKOPS_CLOSES))
		return 0; /* tests: sock_ops tracked it, so sock_ops alone must finish it */
	state_changed(sk, t, old_state, new_state);
	return 0;
}

static __always_inline __u64 sock_inode(struct sock *sk)
{
	return sk->sk_socket->file->f_inode->i_ino;
}

/* Starts tracking a connection that was open before its port was watched (server side) or before
 * its owner was watched (client side, see wm_client_candidate). Counters are taken as baselines
 * (the agent reports traffic from now on) and the span starts now. */
static __always_inline void adopt(struct tcp_sock *tp, struct sock *sk, __u8 side)
{
	struct wm_tracked *t = start_tracking(sk, bpf_get_socket_cookie(sk));
	struct wm_conn_event *e;

	if (!t)
		return;
	if (side == WM_SIDE_SERVER && (port_flags(sk->__sk_common.skc_num) & WM_PORT_CAPTURE))
		t->mark |= WM_TRACKED_CAPTURE; /* offsets count from now: user space resyncs */
	e = &t->conn;
	e->side = side;
	e->flags = WM_CONN_PREEXISTING;
	e->start_ns = bpf_ktime_get_ns();
	fill_tuple_sk(e, &sk->__sk_common);
	e->bytes_received = tp->bytes_received;
	e->bytes_acked = tp->bytes_acked;
	e->data_segs_in = tp->data_segs_in;
	e->data_segs_out = tp->data_segs_out;
	e->total_retrans = tp->total_retrans;
	e->srtt_us = tp->srtt_us >> 3;
	e->sock_inode = sock_inode(sk);
	if (!e->sock_inode) {
		/* still in the accept queue: no process holds it yet, so no inode names its owner. The
		 * worker that accepts it attributes it as any accepted socket (the mark), or the live
		 * reads do once it has a file (attribute_by_inode) */
		t->mark |= WM_TRACKED_NEEDS_OWNER;
		return;
	}
	e->flags |= WM_CONN_OPEN_SENT;
	emit(e, WM_EVENT_CONN_OPEN);
}

static __always_inline void write_listener(struct seq_file *seq, struct sock *sk, __u16 port)
{
	struct wm_listener l = {};

	l.kind = WM_ITER_LISTENER;
	l.family = sk->__sk_common.skc_family;
	l.port = port;
	if (l.family == AF_INET)
		*(__u32 *)l.addr = sk->__sk_common.skc_rcv_saddr;
	else
		__builtin_memcpy(l.addr, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, WM_ADDR_LEN);
	l.accept_queue = sk->sk_ack_backlog;
	l.accept_limit = sk->sk_max_ack_backlog;
	l.drops = sk->sk_drops.counter;
	l.sock_inode = sock_inode(sk);
	bpf_seq_write(seq, &l, sizeof(l));
}

/* The fallback when no attribution hook runs (see iter_config.h), and for a connection adopted
 * while it waited in the accept queue (no hook may see its accept: a server that accepted
 * without asking the peer's address and never reads): an accepted socket that a process has
 * taken from the accept queue has a file by now; its inode names the owner. */
static __always_inline void attribute_by_inode(struct wm_tracked *t, struct sock *sk)
{
	__u64 inode;

	if (!(t->mark & WM_TRACKED_NEEDS_OWNER) || (t->conn.flags & WM_CONN_OPEN_SENT) ||
	    (!iter_switch(WM_ITER_ATTRIBUTE_BY_INODE) && !(t->conn.flags & WM_CONN_PREEXISTING)))
		return;
	inode = sock_inode(sk); /* 0 while it waits in the accept queue (no file yet) */
	if (!inode)
		return;
	t->mark &= ~WM_TRACKED_NEEDS_OWNER;
	t->conn.sock_inode = inode;
	t->conn.flags |= WM_CONN_OPEN_SENT;
	emit(&t->conn, WM_EVENT_CONN_OPEN);
}

static __always_inline void write_live(struct seq_file *seq, struct tcp_sock *tp, struct wm_conn_event *e, __u32 state)
{
	struct wm_live_conn c = {};
	__u32 rcv_nxt = tp->rcv_nxt;
	__u32 copied = tp->copied_seq;

	c.kind = WM_ITER_CONN;
	c.state = state;
	c.cookie = e->cookie;
	payload_since(e, tp, state, &c.bytes_received, &c.bytes_acked);
	c.data_segs_in = tp->data_segs_in - e->data_segs_in;
	c.data_segs_out = tp->data_segs_out - e->data_segs_out;
	c.srtt_us = tp->srtt_us >> 3;
	c.total_retrans = tp->total_retrans - e->total_retrans;
	c.rcv_queue = rcv_nxt - copied;
	c.snd_queue = tp->write_seq - tp->snd_una;
	c.copied_seq = copied;
	bpf_seq_write(seq, &c, sizeof(c));
}

/* Whether a connection's remote end is this host: loopback, or its own local address (a
 * connection to the host's own IP has the same address at both ends). */
static __always_inline bool to_this_host(struct sock_common *skc)
{
	if (skc->skc_family == AF_INET)
		return (skc->skc_daddr & 0xff) == 127 || skc->skc_daddr == skc->skc_rcv_saddr;
	__u32 *d = skc->skc_v6_daddr.in6_u.u6_addr32;
	__u32 *l = skc->skc_v6_rcv_saddr.in6_u.u6_addr32;
	if (d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == bpf_htonl(1))
		return true; /* ::1 */
	if (d[0] == 0 && d[1] == 0 && d[2] == bpf_htonl(0xffff) && (d[3] & 0xff) == 127)
		return true; /* ::ffff:127.x.y.z */
	return d[0] == l[0] && d[1] == l[1] && d[2] == l[2] && d[3] == l[3];
}

/* Not inlined: its parameter puts struct wm_client_candidate in the object's BTF, where the Java
 * layout is checked against it. */
static __noinline void write_candidate(struct seq_file *seq, struct wm_client_candidate *c)
{
	bpf_seq_write(seq, c, sizeof(*c));
}

/* An untracked connection to a watched port on this host: adopted as a client end when user space
 * found it held by a watched process (its cookie in adopt_clients), else reported as a candidate. */
static __always_inline void client_candidate(struct seq_file *seq, struct tcp_sock *tp, struct sock *sk)
{
	struct sock_common *skc = &sk->__sk_common;
	struct wm_client_candidate c = {};
	__u64 cookie = bpf_get_socket_cookie(sk);

	if (bpf_map_lookup_elem(&adopt_clients, &cookie)) {
		bpf_map_delete_elem(&adopt_clients, &cookie);
		adopt(tp, sk, WM_SIDE_CLIENT);
		return;
	}
	c.kind = WM_ITER_CLIENT_CANDIDATE;
	c.family = skc->skc_family;
	c.local_port = skc->skc_num;
	c.remote_port = bpf_ntohs(skc->skc_dport);
	c.cookie = cookie;
	c.sock_inode = sock_inode(sk);
	if (c.family == AF_INET) {
		*(__u32 *)c.local_addr = skc->skc_rcv_saddr;
		*(__u32 *)c.remote_addr = skc->skc_daddr;
	} else {
		__builtin_memcpy(c.local_addr, skc->skc_v6_rcv_saddr.in6_u.u6_addr8, WM_ADDR_LEN);
		__builtin_memcpy(c.remote_addr, skc->skc_v6_daddr.in6_u.u6_addr8, WM_ADDR_LEN);
	}
	write_candidate(seq, &c);
}

/* Whether an established socket was accepted from a listener rather than connected: a child is
 * a copy of its listener (sk_clone_lock) and keeps its non-zero accept backlog limit; a socket
 * that connected never listened (0). A client's ephemeral port may have the number of a port
 * listened on another address (bind(127.0.0.3, 0) next to a listener on 127.0.0.1:P). Blind
 * spot: the children of a listener with backlog 0 are never adopted. */
static __always_inline bool accepted(struct sock *sk)
{
	return sk->sk_max_ack_backlog > 0;
}

/* Every TCP socket of the reader's network namespace, once per poll interval. */
SEC("iter/tcp")
int wmscope_iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct wm_tracked *t;
	struct tcp_sock *tp;
	struct sock *sk;
	__u16 port;
	__u8 state;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc); /* NULL for request and time-wait sockets */
	if (!tp)
		return 0;
	sk = (struct sock *)tp;
	state = skc->skc_state;
	port = skc->skc_num;
	if (state == BPF_TCP_LISTEN) {
		if (port_watched(port)) {
			t = bpf_sk_storage_get(&tracked, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
			if (t)
				t->mark = WM_TRACKED_LISTENER; /* seen by the tracked-sockets pass from now on */
			write_listener(seq, sk, port);
		}
		return 0;
	}
	t = tracked_of(sk);
	if (t) {
		if (!(t->mark & WM_TRACKED_LISTENER)) {
			attribute_by_inode(t, sk);
			write_live(seq, tp, &t->conn, state);
		}
		return 0;
	}
	if (!iter_switch(WM_ITER_ADOPT) || (state != BPF_TCP_ESTABLISHED && state != BPF_TCP_CLOSE_WAIT))
		return 0;
	if (port_watched(port) && accepted(sk))
		adopt(tp, sk, WM_SIDE_SERVER);
	else if (port_watched(bpf_ntohs(skc->skc_dport)) && to_this_host(skc))
		client_candidate(seq, tp, sk);
	return 0;
}

/* The tracked sockets only (see the top of this file): tracked connections, wherever they live,
 * and the listeners the last tcp pass marked while their port stays watched. */
SEC("iter/bpf_sk_storage_map")
int wmscope_iter_tracked(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct sock *sk = ctx->sk;
	struct wm_tracked *t = ctx->value;
	struct tcp_sock *tp;
	__u16 port;

	if (!sk || !t)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	if (t->mark & WM_TRACKED_LISTENER) {
		port = sk->__sk_common.skc_num;
		if (sk->__sk_common.skc_state == BPF_TCP_LISTEN && port_watched(port))
			write_listener(seq, (struct sock *)tp, port);
		return 0;
	}
	attribute_by_inode(t, (struct sock *)tp);
	write_live(seq, tp, &t->conn, sk->__sk_common.skc_state);
	return 0;
}
