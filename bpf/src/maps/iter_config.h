/* iter_config: [0] = 1 when the tcp iterator may adopt untracked connections on watched ports
 * (connections that predate wmscope); set by the loader only when attached to the root cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} iter_config SEC(".maps");
