// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wmscope kernel side, worker health: how each watched Workerman worker's event loop spends its
 * time, and how watched processes end. A separate object from wmscope.bpf.c, so that a kernel
 * refusing any of this (task storage, a sched tracepoint) costs worker health only and never
 * connection tracking.
 *
 * Only tasks with a wm_loop in task storage are looked at: the agent creates one through a
 * pidfd for the main thread of each watched worker (and master, signals only). Every other task
 * of the host costs one test of its storage pointer per context switch, signal or exit: no hash
 * lookup, and no syscall tracepoint (those would put every thread of the host on the syscall
 * slow path).
 *
 * Event loop (tp_btf/sched_switch): a Workerman worker is one thread that waits for events in
 * one syscall (epoll_wait/epoll_pwait for the Event, Ev, Swoole and Swow loops, select/pselect6
 * for the Select loop and Revolt's stream_select driver). poll/ppoll are not waits for events:
 * PHP's blocking stream I/O with a timeout (mysqlnd, phpredis, fgets on a client socket) waits
 * in poll() on the one descriptor it reads, so a worker in poll is blocked in a handler; the
 * descriptor is read from the first pollfd (at sched_switch the current task is still the one
 * going to sleep, so its user memory is readable). When it goes to sleep, the syscall it sleeps in comes from
 * its user registers (bpf_task_pt_regs): in the event wait it is idle, in any other syscall it
 * is blocked in a handler (a database read, a usleep). The time from the switch back in after a
 * wait to the next sleep in the wait is a busy stretch. A loop whose wait always finds events
 * ready never sleeps in it: its stretch only ends at its next idle moment (utilization near 1
 * is then the truth; the agent tells such a saturated loop from a blocked one by its system
 * time).
 *
 * Exits (tp_btf/signal_generate, sched_process_exit, mark_victim): the last signal generated
 * for a watched task, with its sender, and its exit status; the OOM killer's choice. Forks of a
 * watched master (sched_process_fork): when each worker, replacements included, started.
 */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpadded"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "wmscope_health.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct wm_loop);
} loop_state SEC(".maps");

/* signals, exits and OOM choices of watched tasks: rare, a small ring is plenty */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} health_events SEC(".maps");

/* health_drops[0]: events lost to a full ring */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} health_drops SEC(".maps");

#if defined(__TARGET_ARCH_x86)
#define WM_NR_POLL 7
#define WM_NR_SELECT 23
#define WM_NR_NANOSLEEP 35
#define WM_NR_CLOCK_NANOSLEEP 230
#define WM_NR_EPOLL_WAIT 232
#define WM_NR_PSELECT6 270
#define WM_NR_PPOLL 271
#define WM_NR_EPOLL_PWAIT 281
#define WM_NR_EPOLL_PWAIT2 441
#endif

#define WM_SIGPIPE 13
#define WM_SIGALRM 14
#define WM_SIGCHLD 17
#define WM_SIGURG 23
#define WM_SIGWINCH 28
#define WM_SI_KERNEL 0x80

static __always_inline int is_event_wait(__u64 nr, __u32 flags)
{
#if defined(__TARGET_ARCH_x86)
	switch (nr) {
	case WM_NR_EPOLL_WAIT:
	case WM_NR_EPOLL_PWAIT:
	case WM_NR_EPOLL_PWAIT2:
	case WM_NR_SELECT:
	case WM_NR_PSELECT6:
		return 1;
	case WM_NR_NANOSLEEP:
	case WM_NR_CLOCK_NANOSLEEP:
		return (flags & WM_LOOP_SLEEP_IS_WAIT) != 0;
	}
#endif
	return 0;
}

static __always_inline __u32 bucket_of(__u64 ns)
{
	/* the bounds of WM_LOOP_BOUNDS, in ns */
	if (ns <= 1000000ULL) return 0;
	if (ns <= 2500000ULL) return 1;
	if (ns <= 5000000ULL) return 2;
	if (ns <= 10000000ULL) return 3;
	if (ns <= 25000000ULL) return 4;
	if (ns <= 50000000ULL) return 5;
	if (ns <= 100000000ULL) return 6;
	if (ns <= 250000000ULL) return 7;
	if (ns <= 500000000ULL) return 8;
	if (ns <= 1000000000ULL) return 9;
	if (ns <= 2500000000ULL) return 10;
	if (ns <= 5000000000ULL) return 11;
	if (ns <= 10000000000ULL) return 12;
	return 13;
}

static __always_inline void switched_out(struct wm_loop *l, struct task_struct *prev, bool preempt,
					 unsigned int prev_state, __u64 now)
{
	struct pt_regs *regs;
	__u64 nr, arg0, len;

	if (l->switched_in_ns) {
		l->on_cpu_ns += now - l->switched_in_ns;
		l->switched_in_ns = 0;
	}
	if (preempt || prev_state == 0) { /* still runnable: preempted or yielded */
		l->preemptions++;
		if (l->state == WM_LOOP_UNKNOWN) {
			l->state = WM_LOOP_BUSY;
			l->since_ns = now;
		}
		return;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	if (!regs)
		return;
	nr = BPF_CORE_READ(regs, orig_ax);
	arg0 = BPF_CORE_READ(regs, di);
	if (is_event_wait(nr, l->flags)) {
		if (l->state == WM_LOOP_BUSY) {
			len = now - l->since_ns;
			l->busy_ns += len;
			l->stretches++;
			__u32 b = bucket_of(len);
			if (b < WM_LOOP_BUCKETS)
				l->buckets[b]++;
		}
		l->state = WM_LOOP_WAITING;
		l->since_ns = now;
		l->sleep_since_ns = 0;
		return;
	}
	/* asleep in a handler's syscall: the stretch goes on */
#if defined(__TARGET_ARCH_x86)
	if (nr == WM_NR_POLL || nr == WM_NR_PPOLL) {
		int fd = -1;

		if (bpf_probe_read_user(&fd, sizeof(fd), (void *)arg0)) /* pollfd.fd, the first */
			fd = -1;
		arg0 = (__u64)(__s64)fd;
	}
#endif
	if (l->state != WM_LOOP_BUSY) {
		l->state = WM_LOOP_BUSY;
		l->since_ns = now;
	}
	l->sleep_nr = (__u32)nr;
	l->sleep_arg0 = arg0;
	l->sleep_since_ns = now;
}

static __always_inline void switched_in(struct wm_loop *l, __u64 now)
{
	if (l->state == WM_LOOP_WAITING) {
		l->wait_ns += now - l->since_ns;
		l->state = WM_LOOP_BUSY;
		l->since_ns = now;
	}
	l->sleep_since_ns = 0;
	l->switched_in_ns = now;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(wmscope_tp_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct wm_loop *l;
	__u64 now = 0;

	/* Every context switch of the host comes here. A task that carries no BPF storage at all
	 * (nearly every task) is told by one load of its pointer: the helper call, with its per-CPU
	 * busy counter, only for the few that do (bench/health.sh measured the difference). */
	l = prev->bpf_storage ? bpf_task_storage_get(&loop_state, prev, 0, 0) : 0;
	if (l && !(l->flags & WM_LOOP_SIGNALS_ONLY)) {
		now = bpf_ktime_get_ns();
		switched_out(l, prev, preempt, prev_state, now);
	}
	l = next->bpf_storage ? bpf_task_storage_get(&loop_state, next, 0, 0) : 0;
	if (l && !(l->flags & WM_LOOP_SIGNALS_ONLY)) {
		if (!now)
			now = bpf_ktime_get_ns();
		switched_in(l, now);
	}
	return 0;
}

/* not inlined: its parameter puts struct wm_health_event in the object's BTF, where the Java
 * layout is checked against it */
static __noinline void emit(struct wm_health_event *e)
{
	__u32 zero = 0;
	__u64 *drops;

	if (bpf_ringbuf_output(&health_events, e, sizeof(*e), 0)) {
		drops = bpf_map_lookup_elem(&health_drops, &zero);
		if (drops)
			(*drops)++;
	}
}

SEC("tp_btf/signal_generate")
int BPF_PROG(wmscope_tp_signal, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
	     int result)
{
	struct wm_health_event e = {};
	struct wm_loop *l;
	__s32 code;

	l = bpf_task_storage_get(&loop_state, task, 0, 0);
	if (!l)
		return 0;
	switch (sig) {
	case WM_SIGCHLD: case WM_SIGALRM: case WM_SIGPIPE: case WM_SIGURG: case WM_SIGWINCH:
		return 0; /* bookkeeping signals of every PHP process, never a cause of exit */
	}
	/* SEND_SIG_NOINFO (0) is a user's signal from current, SEND_SIG_PRIV (1) the kernel's */
	if ((unsigned long)info == 0)
		code = 0;
	else if ((unsigned long)info == 1)
		code = WM_SI_KERNEL;
	else
		code = BPF_CORE_READ(info, si_code);
	e.ts_ns = bpf_ktime_get_ns();
	e.type = WM_HEALTH_SIGNAL;
	e.pid = BPF_CORE_READ(task, tgid);
	e.signal = (__u32)sig;
	e.sender = code == WM_SI_KERNEL ? 0 : (__u32)(bpf_get_current_pid_tgid() >> 32);
	e.code = code;
	e.result = result;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	l->signal = e.signal;
	l->signal_sender = e.sender;
	l->signal_code = code;
	l->signal_ns = e.ts_ns;
	__builtin_memcpy(l->signal_comm, e.comm, sizeof(e.comm));
	emit(&e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(wmscope_tp_task_exit, struct task_struct *p)
{
	struct wm_health_event e = {};
	struct wm_loop *l;

	l = bpf_task_storage_get(&loop_state, p, 0, 0);
	if (!l)
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.type = WM_HEALTH_EXIT;
	e.pid = BPF_CORE_READ(p, tgid);
	e.code = BPF_CORE_READ(p, exit_code);
	e.signal = l->signal;
	e.sender = l->signal_sender;
	e.signal_ns = l->signal_ns;
	e.oom = l->oom;
	__builtin_memcpy(e.comm, l->signal_comm, sizeof(e.comm));
	emit(&e);
	return 0;
}

/* A master forks its workers (and their replacements on reload, crash or stop timeout): the
 * child's start, to the microsecond, for the reload report's "no running worker" time. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(wmscope_tp_fork, struct task_struct *parent, struct task_struct *child)
{
	struct wm_health_event e = {};
	struct wm_loop *l;

	l = bpf_task_storage_get(&loop_state, parent, 0, 0);
	if (!l || !(l->flags & WM_LOOP_SIGNALS_ONLY))
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.type = WM_HEALTH_FORK;
	e.pid = BPF_CORE_READ(child, tgid);
	e.sender = BPF_CORE_READ(parent, tgid);
	emit(&e);
	/* watched from its first instant: a worker that dies before the agent's next discovery pass
	 * (a crash loop: a fatal error in onWorkerStart) still reports its exit and its cause. The
	 * agent sets its flags when it watches it. */
	bpf_task_storage_get(&loop_state, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(wmscope_tp_oom_victim, struct task_struct *task)
{
	struct wm_health_event e = {};
	struct wm_loop *l;

	l = bpf_task_storage_get(&loop_state, task, 0, 0);
	if (!l)
		return 0;
	l->oom = 1;
	e.ts_ns = bpf_ktime_get_ns();
	e.type = WM_HEALTH_OOM;
	e.pid = BPF_CORE_READ(task, tgid);
	emit(&e);
	return 0;
}
