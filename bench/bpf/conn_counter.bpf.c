// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * conn_counter.bpf.c - the floor any sock_ops connection monitor pays, for wmscope's benchmarks.
 *
 * The smallest useful sock_ops program: it counts established connections (passive and active)
 * in a per-CPU array and does nothing else: no per-connection state, no callbacks requested, no
 * ring buffer. bench/lib.sh loads it with bpftool (type sockops), attaches it to the cgroup v2
 * root next to whatever else is there (multi) and always detaches and unpins it at the end.
 * Names avoid "wmscope" so leak checks of wmscope's own tests never mistake it for theirs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* bench_conncnt: established connections, index 0 passive (accepted), 1 active (initiated). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} bench_conncnt SEC(".maps");

SEC("sockops")
int bench_conncount(struct bpf_sock_ops *skops)
{
	__u32 key;

	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		key = 0;
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		key = 1;
		break;
	default:
		return 1;
	}
	__u64 *count = bpf_map_lookup_elem(&bench_conncnt, &key);
	if (count)
		(*count)++; /* per-CPU slot: no atomic needed */
	return 1;
}
