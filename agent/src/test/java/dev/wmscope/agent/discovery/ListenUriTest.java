package dev.wmscope.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wmscope.agent.discovery.ListenUri.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ListenUriTest {

    @Test
    void parsesIpv4() {
        assertThat(ListenUri.parse("text://0.0.0.0:2347")).contains(
                new ListenUri("text://0.0.0.0:2347", "text", Transport.TCP, "0.0.0.0", 2347, null));
    }

    @Test
    void parsesBracketedIpv6WithoutBrackets() {
        ListenUri uri = ListenUri.parse("websocket://[::1]:8282").orElseThrow();

        assertThat(uri.host()).isEqualTo("::1");
        assertThat(uri.port()).isEqualTo(8282);
        assertThat(uri.isTcp()).isTrue();
        assertThat(uri.isAnyAddress()).isFalse();
    }

    @Test
    void toleratesUnbracketedIpv6() {
        ListenUri uri = ListenUri.parse("tcp://::1:1234").orElseThrow();

        assertThat(uri.host()).isEqualTo("::1");
        assertThat(uri.port()).isEqualTo(1234);
    }

    @Test
    void parsesUnixSocketPaths() {
        ListenUri uri = ListenUri.parse("unix:///tmp/app.sock").orElseThrow();

        assertThat(uri.transport()).isEqualTo(Transport.UNIX);
        assertThat(uri.path()).isEqualTo("/tmp/app.sock");
        assertThat(uri.host()).isNull();
        assertThat(uri.hasPort()).isFalse();
        assertThat(uri.isTcp()).isFalse();
        // relative paths and abstract names are kept as written
        assertThat(ListenUri.parse("unix://run/app.sock").orElseThrow().path()).isEqualTo("run/app.sock");
        assertThat(ListenUri.parse("unix://@wm").orElseThrow().path()).isEqualTo("@wm");
    }

    @Test
    void schemeIsLowerCasedRawIsKept() {
        ListenUri uri = ListenUri.parse("WebSocket://0.0.0.0:1").orElseThrow();

        assertThat(uri.scheme()).isEqualTo("websocket");
        assertThat(uri.raw()).isEqualTo("WebSocket://0.0.0.0:1");
        assertThat(uri.toString()).isEqualTo("WebSocket://0.0.0.0:1");
    }

    @Test
    void wildcardHosts() {
        assertThat(ListenUri.parse("http://0.0.0.0:80").orElseThrow().isAnyAddress()).isTrue();
        assertThat(ListenUri.parse("http://[::]:80").orElseThrow().isAnyAddress()).isTrue();
        assertThat(ListenUri.parse("http://127.0.0.1:80").orElseThrow().isAnyAddress()).isFalse();
    }

    @Test
    void sslIsTcp() {
        ListenUri uri = ListenUri.parse("ssl://0.0.0.0:443").orElseThrow();

        assertThat(uri.transport()).isEqualTo(Transport.SSL);
        assertThat(uri.isTcp()).isTrue();
        assertThat(Transport.SSL.wireName()).isEqualTo("ssl");
    }

    @Test
    void trailingSlashAfterPort() {
        assertThat(ListenUri.parse("http://0.0.0.0:8080/").orElseThrow().port()).isEqualTo(8080);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "", "text:/0.0.0.0:1", "://0.0.0.0:1", "text://0.0.0.0", "text://0.0.0.0:",
            "text://0.0.0.0:x1", "text://0.0.0.0:65536", "text://[::1]8080", "text://[::1", "unix://",
            "text://0.0.0.0:1234567"})
    void rejectsWhatIsNotASocketName(String text) {
        assertThat(ListenUri.parse(text)).isEmpty();
    }

    @Test
    void nullIsEmpty() {
        assertThat(ListenUri.parse(null)).isEmpty();
    }
}
