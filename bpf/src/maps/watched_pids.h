/* watched_pids: process ids (tgid) whose outbound connections are tracked; fed by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} watched_pids SEC(".maps");
