// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * conn_state_cost.bpf.c - what keeping per-connection state costs the kernel, one way at a time,
 * for bench/state-cost.sh. Every variant has the two hooks wmscope has on the connection path
 * (sock_ops on the cgroup v2 root and tp_btf/inet_sock_set_state) and differs only in where a
 * connection's state lives; compiled once per variant with -DVARIANT_*:
 *
 *   EMPTY    the hooks and nothing else: what attaching them costs
 *   STORAGE  socket-local storage created at PASSIVE_ESTABLISHED, found by the state
 *            tracepoint, deleted at CLOSE (what wmscope does)
 *   LINGER   the same, but left at CLOSE for the kernel to free with the socket
 *   HASH     a preallocated hash keyed by socket cookie, with the socket marked by requesting
 *            the (rare) RTO callback, which the tracepoint reads as its gate
 *   HASHMA   the same with a hash that allocates on insert (BPF_F_NO_PREALLOC: the BPF memory
 *            allocator's per-CPU caches, no memory held for connections that do not exist)
 *
 * The value is wmscope's record size (144 bytes). Only connections to the port in .rodata are
 * tracked. Names avoid "wmscope" so wmscope's leak checks never mistake these for theirs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct bench_state {
	__u8 bytes[144];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bench_state);
} bench_sk_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct bench_state);
#ifdef VARIANT_HASHMA
	__uint(map_flags, BPF_F_NO_PREALLOC);
#endif
} bench_hash_state SEC(".maps");

const volatile __u16 bench_port = 0;

SEC("sockops")
int bench_state_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || skops->local_port != bench_port)
		return 1;
#if defined(VARIANT_STORAGE) || defined(VARIANT_LINGER)
	struct bpf_sock *sk = skops->sk;
	struct bench_state *s;

	if (!sk)
		return 1;
	s = bpf_sk_storage_get(&bench_sk_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (s)
		s->bytes[0] = 1;
#elif defined(VARIANT_HASH) || defined(VARIANT_HASHMA)
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct bench_state s = {};

	s.bytes[0] = 1;
	if (!bpf_map_update_elem(&bench_hash_state, &cookie, &s, BPF_ANY))
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTO_CB_FLAG);
#endif
	return 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bench_state_set_state, struct sock *sk, int old_state, int new_state)
{
#if defined(VARIANT_STORAGE) || defined(VARIANT_LINGER)
	struct bench_state *s = bpf_sk_storage_get(&bench_sk_state, sk, 0, 0);

	if (!s || new_state != BPF_TCP_CLOSE)
		return 0;
#ifdef VARIANT_STORAGE
	bpf_sk_storage_delete(&bench_sk_state, sk);
#else
	s->bytes[1] = 1;
#endif
#elif defined(VARIANT_HASH) || defined(VARIANT_HASHMA)
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u64 cookie;

	if (!tp || !(tp->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_RTO_CB_FLAG))
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	if (bpf_map_lookup_elem(&bench_hash_state, &cookie) && new_state == BPF_TCP_CLOSE)
		bpf_map_delete_elem(&bench_hash_state, &cookie);
#endif
	return 0;
}
