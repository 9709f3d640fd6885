package dev.wmscope.agent.health;

import java.util.Map;
import java.util.Set;

/** x86-64 syscall numbers a blocked PHP worker is found in, by name; and which take a descriptor first. */
final class Syscalls {
  private Syscalls() {}

  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(0, "read"), Map.entry(1, "write"), Map.entry(2, "open"), Map.entry(3, "close"),
      Map.entry(7, "poll"), Map.entry(17, "pread64"), Map.entry(18, "pwrite64"), Map.entry(19, "readv"),
      Map.entry(20, "writev"), Map.entry(23, "select"), Map.entry(34, "pause"), Map.entry(35, "nanosleep"),
      Map.entry(42, "connect"), Map.entry(43, "accept"), Map.entry(44, "sendto"), Map.entry(45, "recvfrom"),
      Map.entry(46, "sendmsg"), Map.entry(47, "recvmsg"), Map.entry(61, "wait4"), Map.entry(72, "fcntl"),
      Map.entry(73, "flock"), Map.entry(74, "fsync"), Map.entry(75, "fdatasync"), Map.entry(130, "rt_sigsuspend"),
      Map.entry(202, "futex"), Map.entry(230, "clock_nanosleep"), Map.entry(232, "epoll_wait"),
      Map.entry(247, "waitid"), Map.entry(257, "openat"), Map.entry(270, "pselect6"), Map.entry(271, "ppoll"),
      Map.entry(281, "epoll_pwait"), Map.entry(288, "accept4"), Map.entry(441, "epoll_pwait2"));

  /** Calls whose first argument is a descriptor (poll/ppoll: the kernel side stores the first pollfd's). */
  private static final Set<Integer> ON_DESCRIPTOR = Set.of(0, 1, 3, 7, 17, 18, 19, 20, 42, 43, 44, 45, 46, 47, 72,
      73, 74, 75, 271, 288);

  static String name(int nr) {
    return NAMES.getOrDefault(nr, "syscall " + nr);
  }

  static boolean onDescriptor(int nr) {
    return ON_DESCRIPTOR.contains(nr);
  }
}
