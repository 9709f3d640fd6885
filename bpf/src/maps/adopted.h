/* adopted: socket-local storage on connections adopted by the iterator; gates the state-change
 * tracepoint so every other socket's state change costs one pointer check. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} adopted SEC(".maps");
