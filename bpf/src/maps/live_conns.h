/* live_conns: every tracked open connection by socket cookie, removed on close; the loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct wm_conn_event);
} live_conns SEC(".maps");
