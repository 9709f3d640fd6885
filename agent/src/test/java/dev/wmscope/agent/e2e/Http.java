package dev.wmscope.agent.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * GET over HTTP/1.1 on loopback for the end-to-end tests, bounded however the exchange goes:
 * the wait for the whole response is capped, not only the request's own timeout.
 */
final class Http {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2))
      .build();
  private static final long LIMIT_SECONDS = 10;

  private Http() {}

  /** The response, or an unchecked exception after at most {@value #LIMIT_SECONDS} s. */
  static HttpResponse<String> get(URI uri) {
    CompletableFuture<HttpResponse<String>> f = CLIENT.sendAsync(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    try {
      return f.get(LIMIT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new UncheckedIOException(new IOException("GET " + uri + ": no response within " + LIMIT_SECONDS + " s"));
    } catch (ExecutionException e) {
      throw new UncheckedIOException(new IOException("GET " + uri + ": " + e.getCause(), e.getCause()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
