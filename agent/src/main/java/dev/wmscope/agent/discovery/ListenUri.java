package dev.wmscope.agent.discovery;

import java.util.Locale;
import java.util.Optional;

/**
 * A Workerman listen address ("socket name") as it appears in a worker's process title, for
 * example {@code text://0.0.0.0:2347}, {@code websocket://[::1]:8282} or
 * {@code unix:///run/app.sock}.
 *
 * <p>Workerman shows the socket name as the application wrote it, only with its first letter
 * lower-cased, so the scheme keeps any further capitals ({@code jsonNL://}); {@link #scheme()}
 * is lower-cased here for comparisons and {@link #raw()} keeps the original text. The scheme is
 * the Workerman protocol (text, frame, http, websocket, ws, a custom protocol class) or one of
 * its built-in transports (tcp, udp, unix, ssl). What the title cannot show, such as
 * {@code $worker->transport = 'ssl'} on a websocket worker, stays unknown: such a worker is
 * reported as {@link Transport#TCP}.
 *
 * @param raw       the text as it appeared in the title
 * @param scheme    the scheme, lower-cased
 * @param transport the transport derived from the scheme
 * @param host      the host without IPv6 brackets; {@code null} for unix sockets
 * @param port      the port, or {@link #NO_PORT} for unix sockets
 * @param path      the socket path for unix sockets, otherwise {@code null}
 */
public record ListenUri(String raw, String scheme, Transport transport, String host, int port, String path) {
    /** From a title any local user sets: escaped and capped (see {@link ProcText}). */
    public ListenUri {
        raw = ProcText.clean(raw, ProcText.PATH_LIMIT);
        scheme = ProcText.clean(scheme, ProcText.NAME_LIMIT);
        host = ProcText.clean(host, ProcText.NAME_LIMIT);
        path = ProcText.clean(path, ProcText.PATH_LIMIT);
    }

    /** {@link #port()} of a listener without a port (a unix socket). */
    public static final int NO_PORT = -1;

    /** How the listener is reached. Workerman's built-in transports. */
    public enum Transport {
        TCP, UDP, UNIX, SSL;

        /** Lower-case name, as Workerman writes it. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Parses a socket name such as {@code http://0.0.0.0:8080}.
     *
     * @return the parsed address, or empty when the text is not {@code scheme://address} with a
     *     numeric port (or a path, for {@code unix://}); {@code none} is empty too
     */
    public static Optional<ListenUri> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String s = text.strip();
        int sep = s.indexOf("://");
        if (sep <= 0) {
            return Optional.empty();
        }
        String scheme = s.substring(0, sep).toLowerCase(Locale.ROOT);
        String address = s.substring(sep + 3);
        Transport transport = switch (scheme) {
            case "udp" -> Transport.UDP;
            case "unix" -> Transport.UNIX;
            case "ssl" -> Transport.SSL;
            default -> Transport.TCP;
        };
        if (transport == Transport.UNIX) {
            // unix:///run/app.sock -> /run/app.sock; Workerman drops the two slashes after "unix:".
            return address.isEmpty()
                    ? Optional.empty()
                    : Optional.of(new ListenUri(s, scheme, transport, null, NO_PORT, address));
        }
        String host;
        String portText;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
                return Optional.empty();
            }
            host = address.substring(1, close);
            portText = address.substring(close + 2);
        } else {
            int colon = address.lastIndexOf(':');
            if (colon < 0) {
                return Optional.empty();
            }
            host = address.substring(0, colon);
            portText = address.substring(colon + 1);
        }
        int port = parsePort(portText);
        if (port < 0) {
            return Optional.empty();
        }
        return Optional.of(new ListenUri(s, scheme, transport, host, port, null));
    }

    private static int parsePort(String text) {
        // Tolerate a trailing path ("http://0.0.0.0:8080/"), never a non-numeric port.
        int end = 0;
        while (end < text.length() && end < 6 && Character.isDigit(text.charAt(end))) {
            end++;
        }
        if (end == 0 || (end < text.length() && text.charAt(end) != '/')) {
            return -1;
        }
        int port = Integer.parseInt(text.substring(0, end));
        return port <= 65535 ? port : -1;
    }

    /** Whether this listener has a port (everything but unix sockets). */
    public boolean hasPort() {
        return port != NO_PORT;
    }

    /** Whether connections to it are TCP connections (tcp and ssl transports). */
    public boolean isTcp() {
        return transport == Transport.TCP || transport == Transport.SSL;
    }

    /** Whether the host is a wildcard address (0.0.0.0, ::, or empty): every local address. */
    public boolean isAnyAddress() {
        return host != null && (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")
                || host.equals("0:0:0:0:0:0:0:0"));
    }

    @Override
    public String toString() {
        return raw;
    }
}
