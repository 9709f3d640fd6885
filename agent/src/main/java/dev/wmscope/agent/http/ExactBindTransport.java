package dev.wmscope.agent.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.transport.Transport;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.ThreadFactory;

/**
 * Vert.x's NIO transport, except that server sockets are opened as IPv4 sockets. The JDK opens
 * every socket as IPv6 when the host has IPv6, and binds an IPv4 wildcard (0.0.0.0) as the
 * dual-stack IPv6 one (::), so {@code --http-address 0.0.0.0:9464} would also listen on every
 * IPv6 address of the host, which nobody asked for. With this transport the socket is exactly
 * the IPv4 one that was configured.
 */
final class ExactBindTransport implements Transport {
  private static final io.vertx.core.spi.transport.Transport NIO = Transport.NIO.implementation();

  /** A Vert.x whose server sockets bind {@code address} as given: IPv4 sockets for IPv4 addresses. */
  static Vertx vertxFor(HttpAddress address) {
    return isIpv4(address.host()) ? Vertx.builder().withTransport(new ExactBindTransport()).build() : Vertx.vertx();
  }

  static boolean isIpv4(String host) {
    return host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  @Override
  public String name() {
    return "nio-ipv4-server";
  }

  @Override
  public boolean available() {
    return true;
  }

  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  @Override
  public io.vertx.core.spi.transport.Transport implementation() {
    return new Ipv4Servers();
  }

  /** Delegates everything to NIO but the server channel. */
  private static final class Ipv4Servers implements io.vertx.core.spi.transport.Transport {
    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      if (domainSocket) {
        return NIO.serverChannelFactory(true);
      }
      return () -> new NioServerSocketChannel(SelectorProvider.provider(), SocketProtocolFamily.INET);
    }

    @Override
    public boolean supportsDomainSockets() {
      return NIO.supportsDomainSockets();
    }

    @Override
    public boolean supportFileRegion() {
      return NIO.supportFileRegion();
    }

    @Override
    public java.net.SocketAddress convert(io.vertx.core.net.SocketAddress address) {
      return NIO.convert(address);
    }

    @Override
    public io.vertx.core.net.SocketAddress convert(java.net.SocketAddress address) {
      return NIO.convert(address);
    }

    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return NIO.ioHandlerFactory();
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int threads, ThreadFactory factory, int ioRatio) {
      return NIO.eventLoopGroup(type, threads, factory, ioRatio);
    }

    @Override
    public DatagramChannel datagramChannel() {
      return NIO.datagramChannel();
    }

    @Override
    public DatagramChannel datagramChannel(InternetProtocolFamily family) {
      return NIO.datagramChannel(family);
    }

    @Override
    public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
      return NIO.channelFactory(domainSocket);
    }

    @Override
    public void configure(DatagramChannel channel, DatagramSocketOptions options) {
      NIO.configure(channel, options);
    }

    @Override
    public void configure(ClientOptionsBase options, int connectTimeout, boolean domainSocket, Bootstrap bootstrap) {
      NIO.configure(options, connectTimeout, domainSocket, bootstrap);
    }

    @Override
    public void configure(NetServerOptions options, boolean domainSocket, ServerBootstrap bootstrap) {
      NIO.configure(options, domainSocket, bootstrap);
    }
  }
}
