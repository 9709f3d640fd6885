package dev.wmscope.otel;

/** The opcodes of RFC 6455 messages, by their {@code wmscope.websocket.opcode} names. */
public enum WebSocketOpcode {
  TEXT("text"),
  BINARY("binary"),
  CLOSE("close"),
  PING("ping"),
  PONG("pong");

  private final String value;

  WebSocketOpcode(String value) {
    this.value = value;
  }

  /** The attribute value. */
  public String value() {
    return value;
  }

  /** The opcode of a frame's low four bits, null for continuation (0) and reserved ones. */
  public static WebSocketOpcode of(int code) {
    return switch (code) {
      case 0x1 -> TEXT;
      case 0x2 -> BINARY;
      case 0x8 -> CLOSE;
      case 0x9 -> PING;
      case 0xA -> PONG;
      default -> null;
    };
  }
}
