package dev.wmscope.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VersionProviderTest {

  @Test
  void versionShowsBuildLibbpfKernelAndJava() {
    StringWriter out = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    assertThat(cli.execute("--version")).isZero();
    List<String> lines = out.toString().lines().toList();
    assertThat(lines).hasSize(4);
    // the build writes build-info.properties before the tests run, so these are real values
    assertThat(lines.get(0)).matches("wmscope \\S+ \\(commit ([0-9a-f]{7,}|unknown).*\\)");
    assertThat(lines.get(1)).startsWith("libbpf");
    assertThat(lines.get(2)).startsWith("kernel Linux " + System.getProperty("os.version"));
    assertThat(lines.get(3)).startsWith("Java " + Runtime.version());
  }

  @Test
  void buildInfoDescribesCommitTimeAndLocalChanges() {
    Properties p = new Properties();
    p.setProperty("version", "1.2.3");
    p.setProperty("commit", "0123456789ab");
    p.setProperty("commit.time", "2026-11-24T23:42:01+00:00");
    p.setProperty("dirty", "true");
    assertThat(BuildInfo.of(p).describe())
        .isEqualTo("wmscope 1.2.3 (commit 0123456789ab with local changes, 2026-11-24T23:42:01+00:00)");
    assertThat(BuildInfo.of(new Properties()).describe()).isEqualTo("wmscope dev (commit unknown)");
  }

  @Test
  void libbpfVersionComesFromTheFileTheSonameLinksTo(@TempDir Path dir) throws IOException {
    Path real = Files.createFile(dir.resolve("libbpf.so.1.1.2"));
    Path soname = Files.createSymbolicLink(dir.resolve("libbpf.so.1"), real.getFileName());
    var found = LibbpfVersion.find(List.of(dir.resolve("missing/libbpf.so.1"), soname)).orElseThrow();
    assertThat(found.version()).isEqualTo("1.1.2");
    assertThat(found.path()).isEqualTo(real.toRealPath());
    assertThat(LibbpfVersion.find(List.of(dir.resolve("nothing/libbpf.so.1")))).isEmpty();
  }

  @Test
  void libbpfVersionWithoutAVersionedFileSaysSo() {
    assertThat(LibbpfVersion.versionOf("libbpf.so.1.3.0")).isEqualTo("1.3.0");
    assertThat(LibbpfVersion.versionOf("libbpf.so.1")).isEqualTo("1 (exact version unknown)");
    assertThat(LibbpfVersion.versionOf("libbpf-custom.so")).isEqualTo("(version unknown)");
  }

  @Test
  void ldconfigCacheEntriesPreferTheNativeWordSize() {
    List<String> cache = List.of(
        "1234 libs found in cache `/etc/ld.so.cache'",
        "\tlibbpf.so.1 (libc6) => /usr/lib/i386-linux-gnu/libbpf.so.1",
        "\tlibbpf.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libbpf.so.1",
        "\tlibbpf.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libbpf.so",
        "\tlibbz2.so.1.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libbz2.so.1.0");
    assertThat(LibbpfVersion.fromCache(cache)).containsExactly(
        Path.of("/lib/x86_64-linux-gnu/libbpf.so.1"), Path.of("/usr/lib/i386-linux-gnu/libbpf.so.1"));
  }
}
