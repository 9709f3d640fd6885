// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sched_switch_floor.bpf.c - what any BPF program on the sched_switch tracepoint costs every
 * context switch of the host before it does anything: the tracepoint's dispatch into BPF. It
 * returns at once. bench/health.sh runs it (through bench/c/bpf_runner) as the "floor" condition
 * next to wmscope's worker health, whose sched_switch program does one pointer test more for an
 * unwatched task. Its name avoids "wmscope" so leak checks of wmscope's tests never count it.
 */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpadded"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(bench_sw_floor, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	return 0;
}
