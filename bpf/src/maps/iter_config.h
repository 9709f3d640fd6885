/* iter_config: switches of the iterators (and one of the state tracepoint), set by the loader.
 * [WM_ITER_ADOPT] = 1: the tcp iterator may adopt untracked connections on watched ports
 *   (connections that predate wmscope); only when attached to the root cgroup.
 * [WM_ITER_ATTRIBUTE_BY_INODE] = 1: no attribution hook is in use (the kernel refused both the
 *   getpeername hooks and sock_recv_length), so the live reads emit the open record of an
 *   accepted socket once a process holds it, with its inode for the agent to find the owner.
 * [WM_CFG_TP_LEAVES_SOCKOPS_CLOSES] = 1: tests only: the state tracepoint leaves the close of
 *   every connection sock_ops tracked (all but adopted ones) to sock_ops' state callback, so a
 *   test shows that path finishes connections on its own; 0 (always in the agent): the
 *   tracepoint is the net under it. */
enum wm_iter_config_key {
	WM_ITER_ADOPT = 0,
	WM_ITER_ATTRIBUTE_BY_INODE = 1,
	WM_CFG_TP_LEAVES_SOCKOPS_CLOSES = 2,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u32);
} iter_config SEC(".maps");

/* adopt_clients: cookies of client-side candidates (struct wm_client_candidate) that user space
 * found held by a watched process; the next tcp pass adopts each one and deletes its key. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} adopt_clients SEC(".maps");
