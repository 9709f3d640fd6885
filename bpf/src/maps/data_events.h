/* data_events: ring buffer of wm_data_event records (request capture), apart from the
 * connection records so that a burst of traffic can never cost a connection's open or close
 * record. The loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} data_events SEC(".maps");

/* capture_config[0]: bytes to copy per read or send of a captured connection (the header
 * budget, at most WM_CAPTURE_MAX); 0 copies nothing. capture_config[1]: 1 when
 * wmscope_tp_recv_data also attributes at the first receive (recv_attribution is in use and its
 * own program is not attached). Set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} capture_config SEC(".maps");

/* data_scratch: one record being built per CPU (too large for the BPF stack), indexed by CPU
 * number (tracing programs do not migrate), sent with bpf_ringbuf_output at its filled size.
 * Twice WM_CAPTURE_MAX so that a length masked to 2 * WM_CAPTURE_MAX - 1 is in bounds for the
 * verifier whatever registers clang picks (a per-CPU array could not hold that much: 32 KiB is
 * its value limit). The loader sets max_entries to the number of possible CPUs. */
struct wm_data_scratch {
	struct wm_data_event hdr;
	__u8 data[2 * WM_CAPTURE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wm_data_scratch);
} data_scratch SEC(".maps");
