/* conn_owner: socket-local storage on each tracked accepted socket until a process touches it;
 * its presence is the cheap gate of the send/recv tracepoints (untracked sockets have none). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} conn_owner SEC(".maps");
