package dev.wmscope.loader;

/**
 * Current counters of a tracked open connection, from one iterator pass ({@code struct
 * wm_live_conn}). Byte, segment and retransmit counts are since the connection was tracked.
 *
 * @param rcvQueue  bytes received but not yet read by the application
 * @param sndQueue  bytes the application wrote that the peer has not acknowledged yet
 * @param copiedSeq how far the application has read (a sequence number): unchanged while a
 *                  stalled reader leaves {@code rcvQueue} full
 */
public record LiveConn(long cookie, int state, long bytesReceived, long bytesAcked, long dataSegsIn,
    long dataSegsOut, long srttMicros, long totalRetrans, long rcvQueue, long sndQueue, long copiedSeq) {}
