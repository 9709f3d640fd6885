// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test object for the loader's feature probing (FeatureLoaderKernelIT): a core program, an
 * optional program every kernel loads, and one every verifier refuses, so the test sees a real
 * kernel refusal on any machine, whatever that kernel allows of wmscope's own programs.
 */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpadded"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wmt_core, struct sock *sk, int old_state, int new_state)
{
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(wmt_loads, const struct sock *sk)
{
	return 0;
}

/* Dereferences a map lookup without the NULL check: "invalid mem access 'map_value_or_null'". */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(wmt_refused, struct sock *sk)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &zero);

	return (int)*n;
}
