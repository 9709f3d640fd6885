// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test object for BpfProgram.missedRuns() (ConnectionProbeKernelIT): a run the kernel skips
 * because the program is already running on that CPU, made on purpose. wmr_trigger runs at the
 * test process's getppid() (its pid and the syscall number are set in trigger_config) and writes
 * one trace_printk line; wmr_nested runs at that line's bpf_trace_printk tracepoint and writes
 * one itself, which fires the tracepoint again inside wmr_nested: the kernel skips that run and
 * counts one recursion miss. So every getppid() of the test process is exactly one miss.
 */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpadded"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct trigger {
	__u32 tgid;
	__u32 _pad;
	__u64 syscall_nr;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trigger);
} trigger_config SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(wmr_trigger, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	struct trigger *t = bpf_map_lookup_elem(&trigger_config, &zero);

	if (!t || !t->tgid || bpf_get_current_pid_tgid() >> 32 != t->tgid || id != (long)t->syscall_nr)
		return 0;
	bpf_printk("wmscope test: trigger");
	return 0;
}

SEC("tp_btf/bpf_trace_printk")
int BPF_PROG(wmr_nested, const char *buf)
{
	bpf_printk("wmscope test: nested");
	return 0;
}
