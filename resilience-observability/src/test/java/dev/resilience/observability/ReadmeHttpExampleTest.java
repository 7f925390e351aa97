package dev.resilience.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Fallback;
import dev.resilience.http.HttpStatusException;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RefusedException;
import dev.resilience.http.ResilientHttpClient;
import dev.resilience.core.RetryBudget;
import dev.resilience.core.TimeoutExceededException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * README's "Calling an HTTP dependency" snippet, verbatim between the markers (the test checks the
 * README still holds it), against a loopback server that answers 503 first, then a quote.
 */
class ReadmeHttpExampleTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ResilienceTelemetry telemetry = ResilienceTelemetry.builder().meterRegistry(registry).build();
    private final Supplier<String> lastQuote = () -> "cached 41";

    ResilientHttpClient build() {
        // README begin
        CircuitBreaker breaker = CircuitBreaker.builder("quotes")
                .countWindow(50).failureRateThreshold(50, 20)         // open at 50 % failures of the last 50
                .openDuration(Duration.ofSeconds(10)).build();         // open for 10 s, then probe
        RateLimiter limiter = RateLimiter.builder("quotes").rate(200).burst(20).maxWait(Duration.ofMillis(10)).build();
        ResilientHttpClient quotes = ResilientHttpClient.builder(HttpClient.newHttpClient())
                .name("quotes")
                .retry(3, Backoff.exponential(Duration.ofMillis(50), 2, Duration.ofSeconds(1), Backoff.Jitter.FULL))
                .retryBudget(RetryBudget.of(0.2, 10, 100))           // retries: 20 % of calls sent, plus 10/s
                .maxRetryDelay(Duration.ofSeconds(5))                 // Retry-After over 5 s: no retry, the 429 fails
                .timeout(Duration.ofMillis(300))                      // per attempt; a slow attempt is retried
                .circuitBreaker(breaker).rateLimiter(limiter)         // refusals of the limiter never open the breaker
                .throwOnFailingStatus()                               // a final 5xx/429 throws HttpStatusException
                .build();
        telemetry.bind(breaker);                                  // meters, span events and logs: one call each
        telemetry.bind(limiter);
        quotes.retry().ifPresent(telemetry::bind);
        quotes.timeout().ifPresent(telemetry::bind);
        // README end
        return quotes;
    }

    String call(ResilientHttpClient quotes, URI uri) throws Exception {
        // README begin
        Fallback<String> orCached = Fallback.<String>on(HttpStatusException.class, IOException.class,
                TimeoutExceededException.class, RefusedException.class)    // refused: breaker open, limiter, bulkhead
                .to(e -> lastQuote.get());
        try (CancelHandle call = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach()) {
            return orCached.call(() -> quotes.send(HttpRequest.newBuilder(uri).build(), BodyHandlers.ofString()).body());
        }
        // README end
    }

    @Test
    void theSnippetRetriesFallsBackAndCounts() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        List<String> deadlines = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/quote", ex -> {
            int n = hits.incrementAndGet();
            deadlines.add(String.valueOf(ex.getRequestHeaders().getFirst("grpc-timeout")));
            int status = n == 1 ? 503 : n <= 3 ? 200 : 503;
            byte[] body = ("quote " + n).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            // the snippet's 300 ms attempts do not pay the HTTP client's class loading
            LoopbackWarmUp.warmUp(server, java.net.http.HttpClient.newHttpClient());
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/quote");
            ResilientHttpClient quotes = build();
            assertEquals("quote 2", call(quotes, uri), "the 503 was retried");
            assertTrue(deadlines.get(0).endsWith("u") || deadlines.get(0).endsWith("m"), "the deadline travelled");
            assertEquals("quote 3", call(quotes, uri));
            assertEquals("cached 41", call(quotes, uri), "three 503s: the fallback answers");
            assertEquals(6, hits.get());
            assertEquals(3.0, registry.get("resilience.retry.retries").tag("name", "quotes").counter().count());
        } finally {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    @Test
    void theReadmeHoldsTheSnippetVerbatim() throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/resilience/observability/ReadmeHttpExampleTest.java"));
        String readme = Files.readString(Path.of("../README.md"));
        String[] parts = source.split("// README begin\n");
        assertEquals(3, parts.length);
        for (int i = 1; i < parts.length; i++) {
            String block = parts[i].substring(0, parts[i].indexOf("        // README end"));
            String unindented = block.lines().map(l -> l.length() >= 8 ? l.substring(8) : l.strip())
                    .collect(Collectors.joining("\n", "", "\n"));
            assertTrue(readme.contains(unindented), "README lacks:\n" + unindented);
        }
    }
}
