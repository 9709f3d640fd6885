/* tracked: socket-local storage on every connection in live_conns (accepted, initiated or
 * adopted), removed at its close. It is the gate of the state-change and send/recv tracepoints,
 * which run for every socket of the host: an untracked socket costs them one pointer check.
 * The value holds enum wm_tracked_flags. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} tracked SEC(".maps");
