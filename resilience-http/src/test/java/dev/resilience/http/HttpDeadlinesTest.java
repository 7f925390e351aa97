package dev.resilience.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.HeaderTimeout;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The deadline on outgoing java.net.http requests, and a real loopback round trip. */
class HttpDeadlinesTest {

    @Test
    void propagateSetsHeaderAndTimeoutFromTheCurrentContext() {
        ManualTicker ticker = new ManualTicker();
        URI uri = URI.create("http://127.0.0.1/x");
        HttpRequest none = HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build();
        assertTrue(none.headers().firstValue("grpc-timeout").isEmpty());
        assertTrue(none.timeout().isEmpty());
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(250), ticker);
             Scope s = h.attach()) {
            HttpRequest r = HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build();
            assertEquals(Optional.of("250000u"), r.headers().firstValue("grpc-timeout"));
            // 1 ms of slack: the JDK's client may fire its timers up to 1 ms early
            assertEquals(Optional.of(Duration.ofMillis(251)), r.timeout());
            ticker.advance(Duration.ofMillis(250));
            assertThrows(DeadlineExceededException.class, () -> HttpDeadlines.propagate(HttpRequest.newBuilder(uri)));
        }
        CancelHandle cancelled = Context.background().withCancel();
        cancelled.cancel();
        assertThrows(ContextCancelledException.class,
                () -> HttpDeadlines.propagate(HttpRequest.newBuilder(uri), cancelled.context()));
    }

    @Test
    void aShorterTimeoutAlreadyOnTheRequestWins() {
        ManualTicker ticker = new ManualTicker();
        URI uri = URI.create("http://127.0.0.1/x");
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(250), ticker);
             Scope s = h.attach()) {
            HttpRequest shorter = HttpDeadlines.propagate(HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(100)))
                    .build();
            assertEquals(Optional.of(Duration.ofMillis(100)), shorter.timeout());
            assertEquals(Optional.of("100000u"), shorter.headers().firstValue("grpc-timeout"));
            HttpRequest longer = HttpDeadlines.propagate(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)))
                    .build();
            assertEquals(Optional.of(Duration.ofMillis(251)), longer.timeout());
            assertEquals(Optional.of("250000u"), longer.headers().firstValue("grpc-timeout"));
            // a builder without a URI yet: the deadline applies, and its own shorter timeout still wins
            HttpRequest.Builder noUri = HttpDeadlines.propagate(HttpRequest.newBuilder());
            assertEquals(Optional.of(Duration.ofMillis(251)), noUri.uri(uri).build().timeout());
            HttpRequest noUriShorter = HttpDeadlines.propagate(HttpRequest.newBuilder().timeout(Duration.ofSeconds(1)))
                    .uri(uri).build();
            assertEquals(Optional.of(Duration.ofMillis(251)), noUriShorter.timeout(), "the deadline is the shorter here");
            // an own timeout inside the slack is longer than the deadline: replaced, or it could fire early too
            HttpRequest inSlack = HttpDeadlines.propagate(HttpRequest.newBuilder(uri).timeout(Duration.ofNanos(250_500_000L)))
                    .build();
            assertEquals(Optional.of(Duration.ofMillis(251)), inSlack.timeout());
            HttpRequest equal = HttpDeadlines.propagate(HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(250))).build();
            assertEquals(Optional.of(Duration.ofMillis(250)), equal.timeout(), "an own timeout equal to the time left wins as it is");
            assertEquals(Optional.of("250000u"), inSlack.headers().firstValue("grpc-timeout"));
            HttpRequest noUriOwn = HttpDeadlines.propagate(HttpRequest.newBuilder().timeout(Duration.ofMillis(100)))
                    .uri(uri).build();
            assertEquals(Optional.of(Duration.ofMillis(100)), noUriOwn.timeout(), "the builder's own shorter timeout wins");
            assertEquals(Optional.of("100000u"), noUriOwn.headers().firstValue("grpc-timeout"));
        }
    }

    @Test
    void theFarthestDeadlineGetsTheSlackWithoutOverflow() {
        ManualTicker ticker = new ManualTicker();
        URI uri = URI.create("http://127.0.0.1/x");
        try (CancelHandle h = Context.background().withTimeout(Duration.ofNanos(Long.MAX_VALUE), ticker);
             Scope s = h.attach()) {
            long remaining = Context.current().remainingNanos();
            assertEquals(dev.resilience.context.Deadline.MAX_OFFSET_NANOS, remaining, "the farthest a deadline lies");
            Duration far = HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build().timeout().orElseThrow();
            assertEquals(remaining + 1_000_000L, far.toNanos());
        }
    }

    @Test
    void deadlineCrossesRealHttpOnLoopback() throws IOException, InterruptedException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/work", exchange -> {
            HeaderTimeout t = DeadlineHeaders.read(exchange.getRequestHeaders()::getFirst);
            String body;
            try (CancelHandle h = t.applyTo(Context.background()); Scope s = h.attach()) {
                body = Context.current().remainingNanos() + " " + exchange.getRequestHeaders().getFirst("grpc-timeout");
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/work");
            String body;
            try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
                body = client.send(HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
            }
            long serverRemaining = Long.parseLong(body.split(" ")[0]);
            assertTrue(serverRemaining > 0 && serverRemaining <= TimeUnit.SECONDS.toNanos(2), body);
            assertTrue(body.split(" ")[1].endsWith("u"), body);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void badArguments() {
        assertEquals("builder", assertThrows(NullPointerException.class, () -> HttpDeadlines.propagate(null)).getMessage());
    }
}
