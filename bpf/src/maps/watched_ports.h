/* watched_ports: indexed by local TCP port (host order), non-zero when that port's accepted
 * connections are tracked; index 0 means every port. An array, so a check is two inlined loads
 * instead of two hash lookups (the check runs for every connection of the host). Fed by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} watched_ports SEC(".maps");
