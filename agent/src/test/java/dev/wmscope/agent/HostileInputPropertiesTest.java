package dev.wmscope.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.config.ConfigException;
import dev.wmscope.agent.config.ConfigFile;
import dev.wmscope.agent.discovery.ListenUri;
import dev.wmscope.agent.discovery.ProcEntry;
import dev.wmscope.agent.discovery.ProcText;
import dev.wmscope.agent.discovery.WorkermanTitle;
import dev.wmscope.agent.http.HttpAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Property-based tests with what any local user controls: process titles and command lines, a
 * config file, HTTP addresses. Nothing may throw past the parser's documented error, and no
 * value that reaches logs, tables or exported attributes may carry a control character or
 * exceed its cap. Bounded tries, so they run in CI on every build.
 */
class HostileInputPropertiesTest {
  /** Titles around Workerman's real forms, with hostile characters and lengths mixed in. */
  @Provide
  Arbitrary<String> titles() {
    Arbitrary<String> junk = Arbitraries.strings().all().ofMaxLength(3000);
    Arbitrary<String> nasty = Arbitraries.strings().withChars("\n\r\t\u001b\u0000\u007f\u0085\u2028 :/@[]")
        .withCharRange('a', 'z').ofMaxLength(40);
    Arbitrary<String> master = Arbitraries.of("WorkerMan", "MyApp", "x").flatMap(t ->
        Arbitraries.oneOf(junk, nasty).map(f -> t + ": master process  start_file=" + f));
    Arbitrary<String> worker = Arbitraries.of("WorkerMan", "GatewayWorker").flatMap(t ->
        Arbitraries.oneOf(junk, nasty).flatMap(name -> Arbitraries.oneOf(nasty,
            Arbitraries.of("none", "text://0.0.0.0:2346", "websocket://[::1]:80", "http://:99999", "tcp://a:b"))
            .map(listen -> t + ": worker process  " + name + " " + listen)));
    return Arbitraries.oneOf(master, worker, junk, nasty);
  }

  @Property(tries = 3000)
  void anyTitleParsesToCleanCappedFields(@ForAll("titles") String title) {
    WorkermanTitle.parse(title.getBytes(StandardCharsets.UTF_8)).ifPresent(t -> {
      assertClean(t.processTitle(), ProcText.NAME_LIMIT);
      switch (t) {
        case WorkermanTitle.Master m -> assertClean(m.startFile(), ProcText.PATH_LIMIT);
        case WorkermanTitle.Worker w -> {
          assertClean(w.name(), ProcText.NAME_LIMIT);
          assertClean(w.listen(), ProcText.PATH_LIMIT);
          w.listenUri().ifPresent(u -> {
            assertThat(u.port()).isBetween(ListenUri.NO_PORT, 65535);
            assertClean(u.raw(), ProcText.PATH_LIMIT);
            assertClean(u.host(), ProcText.NAME_LIMIT);
            assertClean(u.path(), ProcText.PATH_LIMIT);
          });
        }
      }
    });
  }

  @Property(tries = 2000)
  void anyCommandLineAndCommShowCleanInTables(@ForAll @Size(max = 2000) String cmdline, @ForAll String comm) {
    ProcEntry e = new ProcEntry(1, 0, comm, 0, cmdline);
    assertClean(e.comm(), ProcText.NAME_LIMIT);
    assertClean(e.displayCmdline(), ProcText.PATH_LIMIT);
  }

  @Property(tries = 2000)
  void anyListenTextParsesOrIsEmpty(@ForAll @Size(max = 300) String listen) {
    ListenUri.parse(listen).ifPresent(u -> {
      assertThat(u.port()).isBetween(ListenUri.NO_PORT, 65535);
      assertClean(u.raw(), ProcText.PATH_LIMIT);
    });
  }

  @Property(tries = 1000)
  void anyConfigFileIsAConfigOrAConfigError(@ForAll("yamlish") String text) {
    try {
      ConfigFile.parse(Path.of("/etc/wmscope/wmscope.yaml"), text);
    } catch (ConfigException expected) {
      assertThat(expected.getMessage()).startsWith("config /etc/wmscope/wmscope.yaml");
    }
  }

  @Provide
  Arbitrary<String> yamlish() {
    Arbitrary<String> keys = Arbitraries.of("poll-interval", "port", "http-address", "max-connections", "x", "");
    Arbitrary<String> values = Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(30),
        Arbitraries.of("[1, 2]", "{a: b}", "&a [*a]", "!!binary AAAA", "- - -", "~", "'", "\"", "1s"));
    Arbitrary<String> line = keys.flatMap(k -> values.map(v -> k + ": " + v));
    return Arbitraries.oneOf(line.list().ofMaxSize(6).map(l -> String.join("\n", l)),
        Arbitraries.strings().all().ofMaxLength(200));
  }

  @Property(tries = 2000)
  void anyHttpAddressParsesOrSaysWhy(@ForAll @Size(max = 60) String text) {
    try {
      HttpAddress a = HttpAddress.parse(text);
      assertThat(a.port()).isBetween(0, 65535);
      assertThat(a.host()).isNotBlank();
    } catch (IllegalArgumentException expected) {
      assertThat(HttpAddress.reason(text, expected)).isNotBlank();
    }
  }

  private static void assertClean(String s, int limit) {
    if (s == null) {
      return;
    }
    assertThat(s.length()).as("capped: %s...", s.length() > 40 ? s.substring(0, 40) : s).isLessThanOrEqualTo(limit + 1);
    assertThat(s.chars()).as("no control character in %s", s).noneMatch(c -> c < 0x20 || (c >= 0x7f && c <= 0x9f)
        || c == 0x2028 || c == 0x2029);
  }
}
