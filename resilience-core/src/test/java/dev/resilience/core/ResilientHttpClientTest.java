package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against a real JDK HttpServer on loopback that fails, throttles and records deadline headers. */
class ResilientHttpClientTest {

    private HttpServer server;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final List<String> deadlines = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private URI base;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** /ok, /flaky (503 + Retry-After: 0 twice, then 200), /down (always 503), /throttled (429 once). */
    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        int n = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        deadlines.add(String.valueOf(exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT)));
        int status;
        switch (path) {
            case "/flaky":
                status = n <= 2 ? 503 : 200;
                break;
            case "/down":
                status = 503;
                break;
            case "/throttled":
                status = n <= 1 ? 429 : 200;
                break;
            case "/slow":
                try {
                    Thread.sleep(2_000); // the simulated slow dependency, not a test waiting
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                status = 200;
                break;
            default:
                status = 200;
        }
        if (status != 200) {
            exchange.getResponseHeaders().add("Retry-After", "0");
        }
        byte[] body = ("hit " + n).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private HttpRequest get(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).build();
    }

    private ResilientHttpClient retrying() {
        return ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1))).build();
    }

    @Test
    void retriesFailingStatusesUntilSuccess() throws Exception {
        HttpResponse<String> r = retrying().send(get("/flaky"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("hit 3", r.body());
        assertEquals(3, hits.get("/flaky").get());
        HttpResponse<String> t = retrying().send(get("/throttled"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, t.statusCode(), "429 is retried after its Retry-After");
    }

    @Test
    void whenRetriesRunOutTheCallerGetsTheLastResponse() throws Exception {
        HttpResponse<String> r = retrying().send(get("/down"), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
        assertEquals("hit 3", r.body());
    }

    @Test
    void nonIdempotentMethodsAreNotRetriedUnlessAsked() throws Exception {
        HttpRequest post = HttpRequest.newBuilder(base.resolve("/flaky")).POST(HttpRequest.BodyPublishers.noBody())
                .build();
        assertEquals(503, retrying().send(post, HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(1, hits.get("/flaky").get());
        ResilientHttpClient bold = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .retryNonIdempotent().build();
        assertEquals(200, bold.send(post, HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void deadlineTravelsAsGrpcTimeoutAndRequestTimeout() throws Exception {
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            retrying().send(get("/ok"), HttpResponse.BodyHandlers.ofString());
        }
        long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
        assertTrue(sent > 0 && sent <= Duration.ofSeconds(2).toNanos(), deadlines.get(0));
        retrying().send(get("/ok"), HttpResponse.BodyHandlers.ofString());
        assertEquals("null", deadlines.get(1), "no deadline, no header");
    }

    @Test
    void slowServerIsCutOffAtTheTimeout() {
        ResilientHttpClient client = ResilientHttpClient.builder(http).timeout(Duration.ofMillis(200)).build();
        long start = System.nanoTime();
        assertThrows(TimeoutExceededException.class, () -> client.send(get("/slow"), HttpResponse.BodyHandlers.ofString()));
        assertTrue(System.nanoTime() - start < Duration.ofMillis(1500).toNanos(), "did not wait for the 2 s response");
        long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
        assertTrue(sent > 0 && sent <= Duration.ofMillis(200).toNanos(), "the attempt's deadline went downstream");
    }

    @Test
    void breakerOpensOnFailingStatusesAndRefuses() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("http").build();
        ResilientHttpClient guarded = ResilientHttpClient.builder(http).circuitBreaker(breaker).build();
        for (int i = 0; i < 6; i++) {
            assertEquals(503, guarded.send(get("/down"), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertThrows(CallNotPermittedException.class, () -> guarded.send(get("/down"), HttpResponse.BodyHandlers.ofString()));
        assertEquals(6, hits.get("/down").get(), "the refused request never left");
    }

    @Test
    void asyncSendRetriesToo() throws Exception {
        HttpResponse<String> r = retrying().sendAsync(get("/flaky"), HttpResponse.BodyHandlers.ofString()).get();
        assertEquals(200, r.statusCode());
        assertEquals(3, hits.get("/flaky").get());
        assertEquals(503, retrying().sendAsync(get("/down"), HttpResponse.BodyHandlers.ofString()).get().statusCode());
    }

    @Test
    void retryAfterParsesSecondsAndHttpDates() {
        assertEquals(Duration.ofSeconds(5), ResilientHttpClient.retryAfter(response("5")));
        String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
        Duration d = ResilientHttpClient.retryAfter(response(inTenSeconds));
        assertTrue(d.compareTo(Duration.ofSeconds(8)) > 0 && d.compareTo(Duration.ofSeconds(11)) < 0, d.toString());
        assertNull(ResilientHttpClient.retryAfter(response("soon")));
        assertNull(ResilientHttpClient.retryAfter(response("-3")));
    }

    private static HttpResponse<String> response(String retryAfter) {
        HttpHeaders headers = HttpHeaders.of(Map.of("Retry-After", List.of(retryAfter)), (a, b) -> true);
        return new HttpResponse<>() {
            @Override
            public int statusCode() {
                return 503;
            }

            @Override
            public HttpRequest request() {
                return null;
            }

            @Override
            public java.util.Optional<HttpResponse<String>> previousResponse() {
                return java.util.Optional.empty();
            }

            @Override
            public HttpHeaders headers() {
                return headers;
            }

            @Override
            public String body() {
                return "";
            }

            @Override
            public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
                return java.util.Optional.empty();
            }

            @Override
            public URI uri() {
                return URI.create("http://127.0.0.1/");
            }

            @Override
            public HttpClient.Version version() {
                return HttpClient.Version.HTTP_1_1;
            }
        };
    }
}
