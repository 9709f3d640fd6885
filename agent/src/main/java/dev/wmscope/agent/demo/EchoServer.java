package dev.wmscope.agent.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** A loopback line-echo server on an ephemeral port, one virtual thread per connection. */
public final class EchoServer implements AutoCloseable {
  private final ServerSocket socket;

  private EchoServer(ServerSocket socket) {
    this.socket = socket;
  }

  public static EchoServer start() throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    EchoServer server = new EchoServer(s);
    Thread.ofPlatform().name("demo-echo").daemon().start(server::acceptLoop);
    return server;
  }

  public int port() {
    return socket.getLocalPort();
  }

  private void acceptLoop() {
    while (!socket.isClosed()) {
      try {
        Socket c = socket.accept();
        Thread.ofVirtual().start(() -> echo(c));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void echo(Socket c) {
    try (c) {
      c.setSoTimeout(10_000);
      InputStream in = c.getInputStream();
      OutputStream out = c.getOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) {
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      // client went away
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
