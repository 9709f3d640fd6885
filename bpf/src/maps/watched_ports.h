/* watched_ports: local TCP ports (host order) whose accepted connections are tracked; fed by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u8);
} watched_ports SEC(".maps");
