/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Worker health: the contract between bpf/src/wmscope_health.bpf.c and Java
 * (dev.wmscope.loader.health). WorkerHealthKernelIT checks the Java layouts against the BTF of
 * the compiled object. Fixed-width fields only, explicit padding (-Wpadded -Werror).
 */
#ifndef WMSCOPE_HEALTH_H
#define WMSCOPE_HEALTH_H

#define WM_HEALTH_COMM_LEN 16
/* Busy-stretch histogram: upper bounds in ns of buckets 0 .. WM_LOOP_BOUNDS-1; the last bucket
 * (index WM_LOOP_BOUNDS) holds longer stretches. 1 ms .. 10 s; mirrored in Java. */
#define WM_LOOP_BOUNDS 13
#define WM_LOOP_BUCKETS (WM_LOOP_BOUNDS + 1)

/* wm_loop.state */
enum wm_loop_state {
	WM_LOOP_UNKNOWN = 0, /* not seen switching since it was watched */
	WM_LOOP_WAITING = 1, /* asleep in its event wait (epoll_wait, select, poll ...) */
	WM_LOOP_BUSY = 2,    /* left the wait: handling events (or blocked in a handler) */
};

/* wm_loop.flags, set by the agent when it starts watching the task */
enum wm_loop_flags {
	WM_LOOP_SLEEP_IS_WAIT = 1, /* nanosleep counts as the wait: Workerman's Select loop with no
				    * descriptor (a process without a listener) usleeps until its next timer */
	WM_LOOP_SIGNALS_ONLY = 2,  /* a master: only its signals and exit are recorded */
};

/*
 * Per watched task, in task-local storage (created by the agent through a pidfd: only the main
 * thread of a watched worker or master carries one, so every other task of the host costs one
 * pointer test in each hook).
 */
struct wm_loop {
	__u64 wait_ns;          /* total time asleep in the event wait, finished waits only */
	__u64 busy_ns;          /* total of finished busy stretches */
	__u64 stretches;        /* finished busy stretches */
	__u64 buckets[WM_LOOP_BUCKETS]; /* finished busy stretches by length */
	__u64 since_ns;         /* WAITING: when the wait began; BUSY: when the stretch began */
	__u64 sleep_since_ns;   /* asleep in another syscall since (0: not asleep in one) */
	__u64 sleep_arg0;       /* that syscall's first argument (a descriptor for most; poll/ppoll: the
				 * first pollfd's descriptor, -1 when unreadable) */
	__u64 on_cpu_ns;        /* total time on a CPU, finished runs only */
	__u64 switched_in_ns;   /* on a CPU since (0: off CPU) */
	__u64 preemptions;      /* switched out while runnable */
	__u64 signal_ns;        /* when the last signal was generated for it */
	__u32 sleep_nr;         /* syscall number it sleeps in (valid with sleep_since_ns) */
	__u32 state;            /* enum wm_loop_state */
	__u32 flags;            /* enum wm_loop_flags */
	__u32 signal;           /* last signal generated for it (0: none) */
	__u32 signal_sender;    /* tgid of the task that generated it (0: the kernel) */
	__s32 signal_code;      /* its si_code (SI_USER 0, SI_KERNEL 0x80, SI_TKILL -6 ...) */
	char signal_comm[WM_HEALTH_COMM_LEN]; /* the sender's comm */
	__u32 oom;              /* 1 once the OOM killer chose it */
	__u32 _pad0;
};

/* wm_health_event.type */
enum wm_health_event_type {
	WM_HEALTH_SIGNAL = 1, /* a signal was generated for a watched task */
	WM_HEALTH_EXIT = 2,   /* a watched task exited */
	WM_HEALTH_OOM = 3,    /* the OOM killer chose a watched task */
	WM_HEALTH_FORK = 4,   /* a watched master forked a process (pid: the child, sender: the master) */
};

/* Ring buffer record (health_events). */
struct wm_health_event {
	__u64 ts_ns;          /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u32 type;           /* enum wm_health_event_type */
	__u32 pid;            /* the watched task (tgid) */
	__u32 signal;         /* SIGNAL: the signal; EXIT: the last signal it was sent (0: none) */
	__u32 sender;         /* SIGNAL/EXIT: the sender's tgid (0: the kernel) */
	__s32 code;           /* SIGNAL: si_code; EXIT: exit status as wait() reports it */
	__s32 result;         /* SIGNAL: the kernel's delivery result (0 delivered, 1 ignored ...) */
	char comm[WM_HEALTH_COMM_LEN]; /* SIGNAL/EXIT: the sender's comm */
	__u64 signal_ns;      /* EXIT: when that last signal was sent */
	__u32 oom;            /* EXIT: the OOM killer chose it */
	__u32 _pad0;
};

#endif
