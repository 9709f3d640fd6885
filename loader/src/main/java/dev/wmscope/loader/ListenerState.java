package dev.wmscope.loader;

import java.net.InetAddress;

/**
 * A listening socket on a watched port, from one iterator pass ({@code struct wm_listener}).
 *
 * @param acceptQueue connections completed by the kernel, waiting for accept()
 * @param acceptLimit the backlog the application asked for (capped by net.core.somaxconn)
 * @param drops       connections and SYNs this listener dropped since it was created (queue
 *                    overflows among them): a monotonic counter
 * @param sockInode   the socket's inode, to find the processes that hold it in /proc/PID/fd
 */
public record ListenerState(InetAddress address, int port, long acceptQueue, long acceptLimit, long drops, long sockInode) {}
