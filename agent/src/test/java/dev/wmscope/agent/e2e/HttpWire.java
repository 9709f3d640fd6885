package dev.wmscope.agent.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A raw HTTP/1.1 and WebSocket client for end-to-end tests: the test decides exactly how bytes
 * are written (one request per write, several pipelined in one, one split over several) and
 * reads responses by their own framing, so the ground truth is the bytes on the wire.
 */
final class HttpWire implements AutoCloseable {
  /** A response as read: status, body length, and whether the server closed after it. */
  record Response(int status, int bodyBytes, String body) {}

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  HttpWire(InetAddress host, int port) throws IOException {
    socket = new Socket(host, port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  int localPort() {
    return socket.getLocalPort();
  }

  static String get(String path, String... headers) {
    StringBuilder b = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (String h : headers) {
      b.append(h).append("\r\n");
    }
    return b.append("\r\n").toString();
  }

  HttpWire write(String s) throws IOException {
    return write(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  HttpWire write(byte[] b) throws IOException {
    out.write(b);
    out.flush();
    return this;
  }

  /** Reads one response (Content-Length or chunked framing). */
  Response read() throws IOException {
    String head = readHead();
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].substring(9, 12));
    long length = -1;
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      String l = lines[i].toLowerCase(Locale.ROOT);
      if (l.startsWith("content-length:")) {
        length = Long.parseLong(l.substring(15).strip());
      } else if (l.startsWith("transfer-encoding:") && l.contains("chunked")) {
        chunked = true;
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      while (true) {
        int size = Integer.parseInt(readLine().split(";")[0].strip(), 16);
        if (size == 0) {
          readLine(); // the empty line after the last chunk (no trailers here)
          break;
        }
        body.writeBytes(in.readNBytes(size));
        readLine();
      }
    } else if (status != 101 && length > 0) {
      body.writeBytes(in.readNBytes((int) length));
    }
    return new Response(status, body.size(), body.size() < 200 ? body.toString(StandardCharsets.ISO_8859_1) : "");
  }

  private String readHead() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("connection closed in a response head: " + b);
      }
      b.write(c);
      String s = b.toString(StandardCharsets.ISO_8859_1);
      if (s.endsWith("\r\n\r\n")) {
        return s;
      }
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** A masked client frame (RFC 6455) with a zero-filled payload of {@code size} bytes. */
  static byte[] clientFrame(int opcode, int size) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(0x80 | opcode);
    if (size < 126) {
      f.write(0x80 | size);
    } else if (size < 65536) {
      f.write(0x80 | 126);
      f.write(size >> 8);
      f.write(size & 0xff);
    } else {
      f.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) (((long) size >> (8 * i)) & 0xff));
      }
    }
    f.writeBytes(new byte[] {9, 8, 7, 6});
    byte[] payload = new byte[size];
    for (int i = 0; i < size; i++) {
      payload[i] = (byte) ('a' ^ new byte[] {9, 8, 7, 6}[i % 4]); // 'a' after unmasking: valid text
    }
    f.writeBytes(payload);
    return f.toByteArray();
  }

  /** Reads one server frame; returns {opcode, payload length}. */
  long[] readFrame() throws IOException {
    int b0 = in.read();
    int b1 = in.read();
    if (b0 < 0 || b1 < 0) {
      throw new IOException("closed before a frame");
    }
    long len = b1 & 0x7f;
    if (len == 126) {
      len = (in.read() << 8) | in.read();
    } else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; i++) {
        len = (len << 8) | in.read();
      }
    }
    in.readNBytes((int) len);
    return new long[] {b0 & 0x0f, len};
  }

  /** Waits for the server to close (EOF), at most the socket timeout. */
  void awaitClose() throws IOException {
    try {
      while (in.read() >= 0) {
        // drain
      }
    } catch (java.net.SocketException reset) {
      // closed with a reset: closed all the same
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
