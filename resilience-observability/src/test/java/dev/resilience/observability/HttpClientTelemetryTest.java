package dev.resilience.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.http.ResilientHttpClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** ResilientHttpClient's own retry and timeout events reach Micrometer through ResilienceTelemetry. */
class HttpClientTelemetryTest {

    @Test
    void retriesAndTimeoutsOfTheClientAreCounted() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/", ex -> {
            int n = hits.incrementAndGet();
            if (n == 1) {
                try {
                    Thread.sleep(10_000); // the dependency's slow first answer (interrupted at the end)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            int status = n == 2 ? 503 : 200;
            byte[] body = ("hit " + n).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Retry-After", "0");
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            LoopbackWarmUp.warmUp(server, http); // no attempt below pays the first connection
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            ResilienceTelemetry telemetry = ResilienceTelemetry.builder().meterRegistry(registry).build();
            CircuitBreaker breaker = CircuitBreaker.builder("payments").build();
            ResilientHttpClient client = ResilientHttpClient.builder(http).name("payments")
                    .retry(3, Backoff.fixed(Duration.ofMillis(1))).timeout(Duration.ofSeconds(1))
                    .circuitBreaker(breaker)
                    .build();
            telemetry.bind(breaker);
            telemetry.bind(client.retry().orElseThrow());
            telemetry.bind(client.timeout().orElseThrow());
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/pay");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("hit 3", r.body(), "slow, then 503, then 200");
            assertEquals(1.0, registry.get("resilience.timeout.timeouts").tag("name", "payments").counter().count());
            assertEquals(2.0, registry.get("resilience.retry.retries").tag("name", "payments").counter().count());
            assertEquals(2.0, registry.get("resilience.circuitbreaker.calls").tag("name", "payments")
                    .tag("outcome", "failure").counter().count(), "the timeout and the 503 are the breaker's failures");
        } finally {
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
