package dev.wmscope.agent.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The reconciler touches the kernel maps only for differences between successive passes. */
class WatchReconcilerTest {

  /** Records every call the reconciler makes, in order ("+port 80", "-pid 7"). */
  private static final class RecordingMaps implements WatchReconciler.WatchMaps {
    final List<String> calls = new ArrayList<>();

    @Override
    public void watchPort(int port) {
      calls.add("+port " + port);
    }

    @Override
    public void watchPort(int port, boolean capture) {
      calls.add((capture ? "+capture " : "+port ") + port);
    }

    @Override
    public void unwatchPort(int port) {
      calls.add("-port " + port);
    }

    @Override
    public void watchPid(int pid) {
      calls.add("+pid " + pid);
    }

    @Override
    public void unwatchPid(int pid) {
      calls.add("-pid " + pid);
    }

    List<String> drain() {
      List<String> out = List.copyOf(calls);
      calls.clear();
      return out;
    }
  }

  private static WatchTargets targets(Set<Integer> ports, Set<Integer> pids) {
    return new WatchTargets(ports, pids, Map.of());
  }

  private final RecordingMaps maps = new RecordingMaps();
  private final WatchReconciler reconciler = new WatchReconciler(maps);

  @Test
  void aPortsCaptureFlagIsSetWithItAndChangedWhenItsWorkerChanges() {
    reconciler.apply(new WatchTargets(Set.of(8080, 2347), Set.of(), Map.of(), Set.of(8080)));
    assertThat(maps.drain()).containsExactlyInAnyOrder("+capture 8080", "+port 2347");
    reconciler.apply(new WatchTargets(Set.of(8080, 2347), Set.of(), Map.of(), Set.of(8080)));
    assertThat(maps.drain()).as("nothing changed").isEmpty();
    // a reload brought a text worker to 8080 and an HTTP one to 2347
    reconciler.apply(new WatchTargets(Set.of(8080, 2347), Set.of(), Map.of(), Set.of(2347)));
    assertThat(maps.drain()).containsExactlyInAnyOrder("+port 8080", "+capture 2347");
  }

  @Test
  void firstPassAddsEverything() {
    reconciler.apply(targets(Set.of(8282, 2900), Set.of(11, 12)));

    assertThat(maps.drain()).containsExactlyInAnyOrder("+port 8282", "+port 2900", "+pid 11", "+pid 12");
    assertThat(reconciler.ports()).containsExactlyInAnyOrder(8282, 2900);
    assertThat(reconciler.pids()).containsExactlyInAnyOrder(11, 12);
  }

  @Test
  void laterPassesAddAndRemoveExactlyTheDifferences() {
    reconciler.apply(targets(Set.of(8282, 2900), Set.of(11, 12, 13)));
    maps.drain();

    // a reload: pids 11 and 12 replaced by 21 and 22, 13 kept; port 2900 gone, 3131 new
    reconciler.apply(targets(Set.of(8282, 3131), Set.of(13, 21, 22)));

    assertThat(maps.drain()).containsExactlyInAnyOrder("+port 3131", "-port 2900", "+pid 21", "+pid 22", "-pid 11", "-pid 12");
    assertThat(reconciler.ports()).containsExactlyInAnyOrder(8282, 3131);
    assertThat(reconciler.pids()).containsExactlyInAnyOrder(13, 21, 22);
  }

  @Test
  void unchangedTargetsTouchNothing() {
    reconciler.apply(targets(Set.of(8282), Set.of(11)));
    maps.drain();

    for (int i = 0; i < 3; i++) {
      reconciler.apply(targets(Set.of(8282), Set.of(11)));
    }

    assertThat(maps.calls).isEmpty();
    assertThat(reconciler.ports()).containsExactly(8282);
    assertThat(reconciler.pids()).containsExactly(11);
  }

  @Test
  void applyingTheSameChangeTwiceIsIdempotent() {
    reconciler.apply(targets(Set.of(1, 2), Set.of(3)));
    reconciler.apply(targets(Set.of(2, 4), Set.of()));
    maps.drain();

    reconciler.apply(targets(Set.of(2, 4), Set.of()));

    assertThat(maps.calls).isEmpty();
    assertThat(reconciler.ports()).containsExactlyInAnyOrder(2, 4);
    assertThat(reconciler.pids()).isEmpty();
  }

  @Test
  void emptyTargetsRemoveEverythingOnce() {
    reconciler.apply(targets(Set.of(8282), Set.of(11, 12)));
    maps.drain();

    reconciler.apply(WatchTargets.NONE);
    assertThat(maps.drain()).containsExactlyInAnyOrder("-port 8282", "-pid 11", "-pid 12");

    reconciler.apply(WatchTargets.NONE);
    assertThat(maps.calls).isEmpty();
  }

  @Test
  void portsAndPidsAreSeparateSets() {
    // the same number as a port and as a pid are two different entries
    reconciler.apply(targets(Set.of(4000), Set.of(4000)));
    reconciler.apply(targets(Set.of(4000), Set.of()));

    assertThat(maps.drain()).containsExactly("+port 4000", "+pid 4000", "-pid 4000");
    assertThat(reconciler.ports()).containsExactly(4000);
    assertThat(reconciler.pids()).isEmpty();
  }

  @Test
  void theAnyKeyIsAnOrdinaryEntry() {
    // --cgroup alone selects key 0 ("any"); it is added once and never re-added
    reconciler.apply(targets(Set.of(0), Set.of(0)));
    reconciler.apply(targets(Set.of(0), Set.of(0)));

    assertThat(maps.drain()).containsExactlyInAnyOrder("+port 0", "+pid 0");
  }
}
