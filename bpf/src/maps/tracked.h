/* tracked: the state of every tracked socket, in the socket's own local storage: a connection's
 * record (accepted, initiated or adopted; removed at its close) or the mark of a listener on a
 * watched port. Keeping the record with the socket, not in a map keyed by cookie, makes every
 * hook that finds it one storage lookup, and it is also the gate of the state-change and
 * send/recv tracepoints, which run for every socket of the host: an untracked socket costs
 * them one pointer check. */
struct wm_tracked {
	struct wm_conn_event conn; /* the record (zero for a listener) */
	__u32 mark;                /* enum wm_tracked_flags */
	__u32 _pad0;
	__u64 received_off;        /* request capture: bytes the owner read since tracked */
	__u64 sent_off;            /* and sent */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct wm_tracked);
} tracked SEC(".maps");
