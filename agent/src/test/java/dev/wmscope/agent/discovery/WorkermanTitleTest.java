package dev.wmscope.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.ListenUri.Transport;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class WorkermanTitleTest {

    /** Worker titles: cmdline, expected name, listen text, scheme, transport, host, port, path. */
    static Stream<Arguments> workerTitles() {
        return Stream.of(
                // Workerman's own examples and the stand-in's output
                Arguments.of("WorkerMan: worker process  none websocket://0.0.0.0:2346",
                        "none", "websocket://0.0.0.0:2346", "websocket", Transport.TCP, "0.0.0.0", 2346, null),
                Arguments.of("WorkerMan: worker process  Chat Worker text://127.0.0.1:23471",
                        "Chat Worker", "text://127.0.0.1:23471", "text", Transport.TCP, "127.0.0.1", 23471, null),
                Arguments.of("WorkerMan: worker process  webman http://0.0.0.0:8787",
                        "webman", "http://0.0.0.0:8787", "http", Transport.TCP, "0.0.0.0", 8787, null),
                // webman plugins name their processes plugin.<vendor>.<app>.<process> (config/plugin/.../process.php)
                Arguments.of("WorkerMan: worker process  plugin.webman.push.server websocket://0.0.0.0:3131",
                        "plugin.webman.push.server", "websocket://0.0.0.0:3131", "websocket", Transport.TCP, "0.0.0.0",
                        3131, null),
                Arguments.of("WorkerMan: worker process  workcrontab websocket://0.0.0.0:22986",
                        "workcrontab", "websocket://0.0.0.0:22986", "websocket", Transport.TCP, "0.0.0.0", 22986, null),
                // GatewayWorker demo: Register forces text, Gateway written "Text://" shows lcfirst'ed
                Arguments.of("WorkerMan: worker process  Register text://0.0.0.0:1238",
                        "Register", "text://0.0.0.0:1238", "text", Transport.TCP, "0.0.0.0", 1238, null),
                Arguments.of("WorkerMan: worker process  YourAppGateway text://0.0.0.0:8282",
                        "YourAppGateway", "text://0.0.0.0:8282", "text", Transport.TCP, "0.0.0.0", 8282, null),
                // IPv6, with brackets removed from the host
                Arguments.of("WorkerMan: worker process  api v6 http://[::1]:8080",
                        "api v6", "http://[::1]:8080", "http", Transport.TCP, "::1", 8080, null),
                Arguments.of("WorkerMan: worker process  none tcp://[::]:1234",
                        "none", "tcp://[::]:1234", "tcp", Transport.TCP, "::", 1234, null),
                Arguments.of("WorkerMan: worker process  gw websocket://[fe80::1%eth0]:7272",
                        "gw", "websocket://[fe80::1%eth0]:7272", "websocket", Transport.TCP, "fe80::1%eth0", 7272, null),
                // transports
                Arguments.of("WorkerMan: worker process  udp server udp://0.0.0.0:9292",
                        "udp server", "udp://0.0.0.0:9292", "udp", Transport.UDP, "0.0.0.0", 9292, null),
                Arguments.of("WorkerMan: worker process  local unix:///run/app/app.sock",
                        "local", "unix:///run/app/app.sock", "unix", Transport.UNIX, null, ListenUri.NO_PORT,
                        "/run/app/app.sock"),
                Arguments.of("WorkerMan: worker process  tls ssl://0.0.0.0:443",
                        "tls", "ssl://0.0.0.0:443", "ssl", Transport.SSL, "0.0.0.0", 443, null),
                Arguments.of("WorkerMan: worker process  frames frame://127.0.0.1:9000",
                        "frames", "frame://127.0.0.1:9000", "frame", Transport.TCP, "127.0.0.1", 9000, null),
                // custom protocol: only the first letter is lower-cased by Workerman
                Arguments.of("WorkerMan: worker process  json jsonNL://0.0.0.0:5678",
                        "json", "jsonNL://0.0.0.0:5678", "jsonnl", Transport.TCP, "0.0.0.0", 5678, null),
                Arguments.of("WorkerMan: worker process  ws client ws://example.com:80",
                        "ws client", "ws://example.com:80", "ws", Transport.TCP, "example.com", 80, null),
                // non-ASCII names are common
                Arguments.of("WorkerMan: worker process  聊天 服务 websocket://0.0.0.0:7272",
                        "聊天 服务", "websocket://0.0.0.0:7272", "websocket", Transport.TCP, "0.0.0.0", 7272, null),
                // a custom Worker::$processTitle
                Arguments.of("MyChat: worker process  push text://0.0.0.0:2000",
                        "push", "text://0.0.0.0:2000", "text", Transport.TCP, "0.0.0.0", 2000, null));
    }

    @ParameterizedTest
    @MethodSource("workerTitles")
    void parsesWorkerTitles(String title, String name, String listen, String scheme, Transport transport,
                            String host, int port, String path) {
        // As /proc shows it after cli_set_process_title: NUL-padded to the old argv length.
        byte[] cmdline = (title + "\0".repeat(37)).getBytes(StandardCharsets.UTF_8);

        WorkermanTitle.Worker w = (WorkermanTitle.Worker) WorkermanTitle.parse(cmdline).orElseThrow();

        assertThat(w.name()).isEqualTo(name);
        assertThat(w.listen()).isEqualTo(listen);
        assertThat(w.truncated()).isFalse();
        ListenUri uri = w.listenUri().orElseThrow();
        assertThat(uri.raw()).isEqualTo(listen);
        assertThat(uri.scheme()).isEqualTo(scheme);
        assertThat(uri.transport()).isEqualTo(transport);
        assertThat(uri.host()).isEqualTo(host);
        assertThat(uri.port()).isEqualTo(port);
        assertThat(uri.path()).isEqualTo(path);
        // The same as text, and as ps prints it (no NULs, maybe trailing blanks).
        assertThat(WorkermanTitle.parse(title + "\0")).contains(w);
        assertThat(WorkermanTitle.parse(title + "   ")).contains(w);
    }

    @Test
    void workerWithoutListenerShowsNone() {
        WorkermanTitle.Worker w = (WorkermanTitle.Worker) WorkermanTitle
                .parse("WorkerMan: worker process  YourAppBusinessWorker none\0\0\0").orElseThrow();

        assertThat(w.name()).isEqualTo("YourAppBusinessWorker");
        assertThat(w.listen()).isEqualTo("none");
        assertThat(w.listenUri()).isEmpty();
        assertThat(w.hasListener()).isFalse();
    }

    @Test
    void workerWithDefaultNameAndNoListener() {
        assertThat(WorkermanTitle.parse("WorkerMan: worker process  none none"))
                .contains(new WorkermanTitle.Worker("WorkerMan", "none", "none", Optional.empty(), false));
    }

    @Test
    void nameWithSpacesAndNoneListener() {
        WorkermanTitle.Worker w = (WorkermanTitle.Worker) WorkermanTitle
                .parse("WorkerMan: worker process  Timer  worker  2 none").orElseThrow();

        assertThat(w.name()).isEqualTo("Timer  worker  2");
        assertThat(w.listen()).isEqualTo("none");
    }

    @Test
    void workerTitleWithoutListenPartKeepsTheWholeName() {
        WorkermanTitle.Worker w = (WorkermanTitle.Worker) WorkermanTitle
                .parse("WorkerMan: worker process  Chat Worker").orElseThrow();

        assertThat(w.name()).isEqualTo("Chat Worker");
        assertThat(w.listen()).isEmpty();
        assertThat(w.listenUri()).isEmpty();
    }

    @Test
    void unparsableListenIsKeptAsText() {
        WorkermanTitle.Worker w = (WorkermanTitle.Worker) WorkermanTitle
                .parse("WorkerMan: worker process  odd text://0.0.0.0:http").orElseThrow();

        assertThat(w.name()).isEqualTo("odd");
        assertThat(w.listen()).isEqualTo("text://0.0.0.0:http");
        assertThat(w.listenUri()).isEmpty();
    }

    @Test
    void parsesMasterTitles() {
        assertThat(WorkermanTitle.parse("WorkerMan: master process  start_file=/srv/chat/start.php\0\0\0\0"))
                .contains(new WorkermanTitle.Master("WorkerMan", "/srv/chat/start.php", false));
        // spaces in the path, as Workerman writes it unquoted
        assertThat(WorkermanTitle.parse("WorkerMan: master process  start_file=/srv/app two/start.php\0"))
                .contains(new WorkermanTitle.Master("WorkerMan", "/srv/app two/start.php", false));
        // webman runs from its "start.php"; ThinkPHP's think-worker from "think"
        assertThat(WorkermanTitle.parse("WorkerMan: master process  start_file=/www/wwwroot/site/think"))
                .contains(new WorkermanTitle.Master("WorkerMan", "/www/wwwroot/site/think", false));
        assertThat(WorkermanTitle.parse("MyChat: master process  start_file=/srv/push/start.php"))
                .contains(new WorkermanTitle.Master("MyChat", "/srv/push/start.php", false));
    }

    @Test
    void recognisesTitlesTruncatedByPhp() {
        // `env -i php start.php start`: the argv area is 24 bytes, PHP cuts the title to fit.
        assertThat(WorkermanTitle.parse("WorkerMan: worker proc\0\0"))
                .contains(new WorkermanTitle.Worker("WorkerMan", "", "", Optional.empty(), true));
        assertThat(WorkermanTitle.parse("WorkerMan: master proce\0\0"))
                .contains(new WorkermanTitle.Master("WorkerMan", "", true));
        assertThat(WorkermanTitle.parse("WorkerMan: master process  start_file="))
                .contains(new WorkermanTitle.Master("WorkerMan", "", true));
        // cut right after the fixed part: the trailing blanks are indistinguishable from padding
        assertThat(WorkermanTitle.parse("WorkerMan: worker process  "))
                .contains(new WorkermanTitle.Worker("WorkerMan", "", "", Optional.empty(), true));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "\0\0\0", "php\0start.php\0start\0", "/usr/sbin/nginx\0-g\0daemon off;\0",
            "nginx: master process /usr/sbin/nginx", "nginx: worker process",
            "grep\0WorkerMan: master process  start_file=/srv/chat/start.php\0",
            "pgrep\0-f\0WorkerMan: worker process  Chat text://0.0.0.0:1\0",
            "WorkerMan", "WorkerMan: ", "WorkerMan: x", "WorkerMan: worker process Chat text://0.0.0.0:1",
            ": master process  start_file=/x", "postgres: checkpointer",
    })
    void ignoresOtherProcesses(String cmdline) {
        assertThat(WorkermanTitle.parse(cmdline)).isEmpty();
        assertThat(WorkermanTitle.parse(cmdline.getBytes(StandardCharsets.UTF_8))).isEmpty();
    }

    @Test
    void nullIsNotATitle() {
        assertThat(WorkermanTitle.parse((String) null)).isEmpty();
        assertThat(WorkermanTitle.parse((byte[]) null)).isEmpty();
    }
}
