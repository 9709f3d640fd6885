package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Internal traffic: connections between two watched processes on this host. Addresses are
 * loopback (local on every host) and TEST-NET-1 192.0.2.0/24 (never a local address).
 */
class InternalTrafficTest {
  private static final boolean CLIENT = false;
  private static final boolean SERVER = true;
  private static final int GATEWAY_PORT = 8282;
  private static final int BUSINESS_PORT = 2900;
  private static final int REDIS_PORT = 6379;

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static final InetAddress LO = ip("127.0.0.1");
  private static final InetAddress LO6 = ip("::1");
  private static final InetAddress REMOTE = ip("192.0.2.10");

  private InternalTraffic internal;

  @BeforeEach
  void watched() {
    internal = new InternalTraffic(new LocalAddresses());
    internal.setWatchedPorts(Set.of(GATEWAY_PORT, BUSINESS_PORT));
  }

  @Test
  void clientSideToAWatchedLocalPortIsInternal() {
    assertThat(internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT)).isTrue();
    assertThat(internal.opened(2, CLIENT, LO6, 40002, LO6, BUSINESS_PORT)).isTrue();
  }

  @Test
  void clientSideToARemoteHostIsNotInternalEvenOnAWatchedPortNumber() {
    assertThat(internal.opened(1, CLIENT, ip("192.0.2.1"), 40001, REMOTE, BUSINESS_PORT)).isFalse();
  }

  @Test
  void clientSideToAnUnwatchedLocalPortIsNotInternal() {
    // a local Redis or MySQL the app uses is not a watched Workerman server
    assertThat(internal.opened(1, CLIENT, LO, 40001, LO, REDIS_PORT)).isFalse();
  }

  @Test
  void serverSideIsInternalWhenThePeerIsAnOpenClientEndOfAWatchedProcess() {
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);

    assertThat(internal.opened(2, SERVER, LO, BUSINESS_PORT, LO, 40001)).isTrue();
  }

  @Test
  void serverSideFromALocalProcessThatIsNotWatchedIsNotInternal() {
    // curl on this host: a local peer, but no client-side record from a watched process
    assertThat(internal.opened(2, SERVER, LO, GATEWAY_PORT, LO, 40001)).isFalse();
  }

  @Test
  void serverSideFromAnotherLocalEndpointIsNotInternal() {
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);

    assertThat(internal.opened(2, SERVER, LO, BUSINESS_PORT, LO, 40002)).as("other port").isFalse();
    assertThat(internal.opened(3, SERVER, LO, BUSINESS_PORT, ip("127.0.0.2"), 40001)).as("other address").isFalse();
  }

  @Test
  void serverSideFromARemotePeerIsNotInternal() {
    // same port numbers, but the peer is another host
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);

    assertThat(internal.opened(2, SERVER, ip("192.0.2.1"), BUSINESS_PORT, REMOTE, 40001)).isFalse();
  }

  @Test
  void serverDecisionIsKeptUntilCloseEvenAfterTheClientClosedFirst() {
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);
    internal.opened(2, SERVER, LO, BUSINESS_PORT, LO, 40001);

    assertThat(internal.closed(1, CLIENT, LO, 40001, LO, BUSINESS_PORT)).isTrue();
    // the client end is gone now, yet the server side closes as it opened
    assertThat(internal.closed(2, SERVER, LO, BUSINESS_PORT, LO, 40001)).isTrue();
  }

  @Test
  void clientDecisionIsKeptUntilCloseWhenTheWatchedPortsChange() {
    assertThat(internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT)).isTrue();
    assertThat(internal.opened(2, CLIENT, LO, 40002, LO, REDIS_PORT)).isFalse();

    // the business app stops (its port is unwatched) and Redis becomes watched before the
    // connections close: open and close must agree, or the active-connection gauge drifts
    internal.setWatchedPorts(Set.of(GATEWAY_PORT, REDIS_PORT));

    assertThat(internal.closed(1, CLIENT, LO, 40001, LO, BUSINESS_PORT)).isTrue();
    assertThat(internal.closed(2, CLIENT, LO, 40002, LO, REDIS_PORT)).isFalse();
  }

  @Test
  void aClosedClientEndNoLongerMarksANewServerConnection() {
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);
    internal.closed(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);

    // the ephemeral port is reused by an unwatched process
    assertThat(internal.opened(3, SERVER, LO, BUSINESS_PORT, LO, 40001)).isFalse();
  }

  @Test
  void closeForgetsTheDecision() {
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);
    internal.opened(2, SERVER, LO, BUSINESS_PORT, LO, 40001);
    internal.closed(2, SERVER, LO, BUSINESS_PORT, LO, 40001);

    // a close seen twice (or a stray close without an open) is not internal
    assertThat(internal.closed(2, SERVER, LO, BUSINESS_PORT, LO, 40001)).isFalse();
  }

  @Test
  void serverCloseWithoutAnOpenIsNotInternal() {
    assertThat(internal.closed(9, SERVER, LO, BUSINESS_PORT, LO, 40001)).isFalse();
  }

  @Test
  void clientCloseWithoutAnOpenIsDecidedAtClose() {
    // a refused or timed-out connect has no open record
    assertThat(internal.closed(9, CLIENT, LO, 40009, LO, BUSINESS_PORT)).isTrue();
    assertThat(internal.closed(10, CLIENT, LO, 40010, LO, REDIS_PORT)).isFalse();
  }
  @Test
  void aServerEndWhoseClientEndOpensLaterTurnsInternalOnceAndClosesInternal() {
    // a BusinessWorker linked before discovery watched it: its client end is adopted later
    assertThat(internal.opened(2, SERVER, LO, BUSINESS_PORT, LO, 40001)).isFalse();
    assertThat(turned()).isEmpty();

    assertThat(internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT)).isTrue();

    assertThat(turned()).containsExactly(2L);
    assertThat(turned()).as("handed over once").isEmpty();
    assertThat(internal.closed(2, SERVER, LO, BUSINESS_PORT, LO, 40001)).isTrue();
  }

  @Test
  void onlyTheServerEndOfThatVeryConnectionTurns() {
    internal.opened(2, SERVER, LO, GATEWAY_PORT, LO, 40001); // curl from 40001 to the gateway
    internal.opened(3, SERVER, LO, BUSINESS_PORT, ip("127.0.0.2"), 40001); // another address

    // a watched process's connection from the same port number to another server
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);

    assertThat(turned()).isEmpty();
    assertThat(internal.closed(2, SERVER, LO, GATEWAY_PORT, LO, 40001)).isFalse();
    assertThat(internal.closed(3, SERVER, LO, BUSINESS_PORT, ip("127.0.0.2"), 40001)).isFalse();
  }

  @Test
  void aServerEndClosedBeforeAClientEndOpensIsNotTurned() {
    internal.opened(2, SERVER, LO, BUSINESS_PORT, LO, 40001);
    internal.closed(2, SERVER, LO, BUSINESS_PORT, LO, 40001);

    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT); // the port reused for a new link

    assertThat(turned()).isEmpty();
  }

  @Test
  void aServerEndWithARemotePeerNeverTurns() {
    internal.opened(2, SERVER, ip("192.0.2.1"), BUSINESS_PORT, REMOTE, 40001);
    internal.opened(1, CLIENT, REMOTE, 40001, ip("192.0.2.1"), BUSINESS_PORT); // not this host's ends

    assertThat(turned()).isEmpty();
  }

  @Test
  void aClientEndToAPortWatchedOnlyLaterTurnsInternalWhenItsServerEndOpens() {
    // a BusinessWorker reconnects to a restarted Gateway's inner port before discovery saw it
    assertThat(internal.opened(1, CLIENT, LO, 40001, LO, REDIS_PORT)).isFalse();
    internal.setWatchedPorts(Set.of(GATEWAY_PORT, BUSINESS_PORT, REDIS_PORT));

    assertThat(internal.opened(2, SERVER, LO, REDIS_PORT, LO, 40001)).isTrue(); // adopted now

    assertThat(turned()).containsExactly(1L);
    assertThat(internal.closed(1, CLIENT, LO, 40001, LO, REDIS_PORT)).isTrue();
    assertThat(internal.closed(2, SERVER, LO, REDIS_PORT, LO, 40001)).isTrue();
  }

  @Test
  void aClientEndToALocalServiceThatIsNeverWatchedStaysClientTraffic() {
    internal.opened(1, CLIENT, LO, 40001, LO, REDIS_PORT);
    internal.opened(2, SERVER, LO, GATEWAY_PORT, LO, 40002); // another connection's server end

    assertThat(turned()).isEmpty();
    assertThat(internal.closed(1, CLIENT, LO, 40001, LO, REDIS_PORT)).isFalse();
  }

  @Test
  void aLocalClientSharingALinksPortNumberToAnotherServerIsNotInternal() {
    // the kernel gives one local port to connections to different servers: a local proxy's
    // connection to the Gateway may come from the port of a BusinessWorker's link
    internal.opened(1, CLIENT, LO, 40001, LO, BUSINESS_PORT);

    assertThat(internal.opened(2, SERVER, LO, GATEWAY_PORT, LO, 40001)).isFalse();
    assertThat(internal.opened(3, SERVER, LO, BUSINESS_PORT, LO, 40001)).isTrue();
  }

  private java.util.List<Long> turned() {
    java.util.List<Long> out = new java.util.ArrayList<>();
    internal.drainTurnedInternal(out::add);
    return out;
  }
}
