/* conn_budget: how many connections are tracked now and how many may be (--max-connections).
 * The loader writes the limit before attaching; the hooks count up on tracking and down at the
 * close. Beyond the limit a connection is not tracked and counted as WM_DROP_CONN_MAP_FULL. */
struct wm_budget {
	__s64 open;
	__s64 max;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wm_budget);
} conn_budget SEC(".maps");
