/* untracked: a mark on each connection the --max-connections budget had no room for (at
 * establishment, or when the tcp iterator tried to adopt it). The iterator meets such a socket
 * again on every full walk (with the tracked-sockets iterator refused, on every live read); the
 * mark makes it count in WM_DROP_CONN_MAP_FULL once, not once per walk. It goes with the socket;
 * only connections beyond the budget get one. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} untracked SEC(".maps");
