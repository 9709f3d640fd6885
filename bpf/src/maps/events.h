/* events: ring buffer of wm_conn_event records (open and close) for the loader; the loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");
