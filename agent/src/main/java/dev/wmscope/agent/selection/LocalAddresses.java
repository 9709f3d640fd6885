package dev.wmscope.agent.selection;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * The addresses of this host (loopback ranges and every interface address), to tell traffic
 * between two local processes from traffic with other hosts. Refreshed by the caller.
 */
public final class LocalAddresses {
  private volatile Set<InetAddress> addresses = Set.of();

  public LocalAddresses() {
    refresh();
  }

  public void refresh() {
    Set<InetAddress> found = new HashSet<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        found.addAll(Collections.list(nif.getInetAddresses()).stream()
            .map(LocalAddresses::withoutScope).toList());
      }
    } catch (SocketException e) {
      // keep loopback detection only
    }
    addresses = Set.copyOf(found);
  }

  public boolean isLocal(InetAddress address) {
    return address.isLoopbackAddress() || address.isAnyLocalAddress() || addresses.contains(withoutScope(address));
  }

  private static InetAddress withoutScope(InetAddress a) {
    try {
      return InetAddress.getByAddress(a.getAddress());
    } catch (java.net.UnknownHostException e) {
      return a;
    }
  }
}
