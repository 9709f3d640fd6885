package dev.wmscope.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemoryLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Java layout of wm_conn_event must match the C struct as compiled: same members, same
 * offsets, same size. Reads the BTF of the packaged object (opening needs no privileges).
 */
class ConnEventLayoutTest {

  @Test
  void javaLayoutMatchesCompiledStruct() {
    Map<String, Long> btf;
    try (BpfObject object = BpfObject.openResource(ConnectionProbe.class, ConnectionProbe.OBJECT_RESOURCE)) {
      btf = object.btfStructLayout("wm_conn_event");
    }
    assertThat(offsets(ConnEventLayout.LAYOUT)).containsExactlyEntriesOf(btf);
  }

  @Test
  void javaLayoutsMatchCompiledStructs() {
    try (BpfObject object = BpfObject.openResource(ConnectionProbe.class, ConnectionProbe.OBJECT_RESOURCE)) {
      assertThat(offsets(IterLayouts.LIVE_CONN)).containsExactlyEntriesOf(object.btfStructLayout("wm_live_conn"));
      assertThat(offsets(IterLayouts.LISTENER)).containsExactlyEntriesOf(object.btfStructLayout("wm_listener"));
      assertThat(offsets(IterLayouts.CLIENT_CANDIDATE))
          .containsExactlyEntriesOf(object.btfStructLayout("wm_client_candidate"));
      assertThat(offsets(ConnectionProbe.BUDGET)).containsExactlyEntriesOf(object.btfStructLayout("wm_budget"));
      assertThat(offsets(DataRecord.LAYOUT)).containsExactlyEntriesOf(object.btfStructLayout("wm_data_event"));
    }
  }

  @Test
  void healthLayoutsMatchCompiledStructs() {
    try (BpfObject object = BpfObject.openResource(WorkerHealthProbe.class, WorkerHealthProbe.OBJECT_RESOURCE)) {
      assertThat(offsets(LoopState.LAYOUT)).containsExactlyEntriesOf(object.btfStructLayout("wm_loop"));
      assertThat(offsets(HealthEvent.LAYOUT)).containsExactlyEntriesOf(object.btfStructLayout("wm_health_event"));
    }
  }

  private static Map<String, Long> offsets(java.lang.foreign.StructLayout layout) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (MemoryLayout member : layout.memberLayouts()) {
      String name = member.name().orElseThrow();
      out.put(name, layout.byteOffset(MemoryLayout.PathElement.groupElement(name)));
    }
    out.put("sizeof", layout.byteSize());
    return out;
  }

  @Test
  void openedObjectReportsConfiguredSizes() {
    try (BpfObject object = BpfObject.openResource(ConnectionProbe.class, ConnectionProbe.OBJECT_RESOURCE)) {
      object.setMaxEntries(ConnectionProbe.MAP_WATCHED_PIDS, 1234);
      assertThat(object.maxEntries(ConnectionProbe.MAP_WATCHED_PIDS)).isEqualTo(1234);
    }
  }
}
