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
    Map<String, Long> java = new LinkedHashMap<>();
    for (MemoryLayout member : ConnEventLayout.LAYOUT.memberLayouts()) {
      String name = member.name().orElseThrow();
      java.put(name, ConnEventLayout.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(name)));
    }
    java.put("sizeof", ConnEventLayout.LAYOUT.byteSize());

    assertThat(java).containsExactlyEntriesOf(btf);
  }

  @Test
  void openedObjectReportsConfiguredSizes() {
    try (BpfObject object = BpfObject.openResource(ConnectionProbe.class, ConnectionProbe.OBJECT_RESOURCE)) {
      object.setMaxEntries(ConnectionProbe.MAP_LIVE_CONNS, 1234);
      assertThat(object.maxEntries(ConnectionProbe.MAP_LIVE_CONNS)).isEqualTo(1234);
    }
  }
}
