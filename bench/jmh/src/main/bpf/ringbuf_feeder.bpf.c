// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ringbuf_feeder.bpf.c - fills a ring buffer with wmscope connection records on demand, so the
 * JMH benchmark can measure the user-space side of the ring-buffer path (ring_buffer__poll, the
 * FFM upcall, decoding) at rates no real connection churn on this machine reaches.
 *
 * Trigger: the benchmark thread calls getppid(); this tp_btf/sys_enter program sees that syscall
 * from the configured tgid and writes `count` close records (struct wm_conn_event, the real
 * layout from bpf/include/wmscope_conn.h) with bpf_loop. Every other syscall on the host costs
 * one map lookup and two compares while it is attached. Names avoid "wmscope" so the leak
 * checks of wmscope's own tests never mistake it for theirs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "wmscope_conn.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct feeder_config {
	__u32 tgid;      /* the benchmark's process */
	__u32 count;     /* records per trigger */
	__s64 trigger_nr; /* syscall number of getppid on this architecture */
};

/* feeder_config: the one entry the benchmark writes before it triggers. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct feeder_config);
} feeder_config SEC(".maps");

/* events: the ring buffer under test, sized like the agent's default (8 MiB). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* feeder_drops: reservations that failed (the benchmark asserts there are none). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} feeder_drops SEC(".maps");

static long fill_one(__u64 i, void *ctx)
{
	struct wm_conn_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 k = 0;
		__u64 *d = bpf_map_lookup_elem(&feeder_drops, &k);
		if (d)
			(*d)++;
		return 1; /* stop: the ring is full */
	}
	/* a typical accepted connection closed by the peer: 127.0.0.2:(40000+i%20000) -> 127.0.0.1:2347 */
	__builtin_memset(e, 0, sizeof(*e));
	e->type = WM_EVENT_CONN_CLOSE;
	e->family = 2; /* AF_INET */
	e->side = WM_SIDE_SERVER;
	e->flags = WM_CONN_ATTRIBUTED | WM_CONN_FIN_PEER_FIRST;
	e->cookie = 1000000 + i;
	e->start_ns = 5000000000ULL + i * 1000;
	e->end_ns = e->start_ns + 850000;
	e->local_addr[0] = 127;
	e->local_addr[3] = 1;
	e->remote_addr[0] = 127;
	e->remote_addr[3] = 2;
	e->local_port = 2347;
	e->remote_port = 40000 + (__u16)(i % 20000);
	e->pid = 4242;
	e->bytes_received = 27;
	e->bytes_acked = 27;
	e->data_segs_in = 1;
	e->data_segs_out = 1;
	e->srtt_us = 24;
	e->comm[0] = 'p';
	e->comm[1] = 'h';
	e->comm[2] = 'p';
	e->prev_state = 9; /* LAST_ACK */
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_rbfeeder, struct pt_regs *regs, long id)
{
	__u32 k = 0;
	struct feeder_config *c = bpf_map_lookup_elem(&feeder_config, &k);

	if (!c || id != c->trigger_nr || (bpf_get_current_pid_tgid() >> 32) != c->tgid)
		return 0;
	bpf_loop(c->count, fill_one, NULL, 0);
	return 0;
}
