package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.DeadlineHeaders;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.app.CheckoutApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter in a real application on a random port, calling a real flaky dependency on loopback
 * through a {@code RestClient}: the breaker opens and the fallback answers, retries stay within
 * their budget, the deadline travels downstream and bounds the handler, and the endpoint and the
 * Prometheus scrape show it all.
 */
@SpringBootTest(classes = CheckoutApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "resilience.retry.payments.max-attempts=3",
    "resilience.retry.payments.backoff=fixed",
    "resilience.retry.payments.backoff-delay=1ms",
    "resilience.circuitbreaker.payments.consecutive-failures=5",
    "resilience.circuitbreaker.payments.open-duration=1h",
    "resilience.retry.budgeted.max-attempts=3",
    "resilience.retry.budgeted.backoff=fixed",
    "resilience.retry.budgeted.backoff-delay=1ms",
    "resilience.retry.budgeted.budget-ratio=10%",
    "resilience.retry.budgeted.budget-min-per-second=1/s",
    "resilience.retry.budgeted.budget-max-balance=1",
    "resilience.retry.lookup.max-attempts=3",
    "resilience.retry.lookup.ignore-exceptions=org.springframework.web.client.HttpClientErrorException",
    "resilience.circuitbreaker.lookup.consecutive-failures=2",
    "resilience.circuitbreaker.lookup.ignore-exceptions=org.springframework.web.client.HttpClientErrorException",
    "management.endpoints.web.exposure.include=health,resilience,prometheus",
    "management.endpoint.health.show-details=always",
})
class StarterIntegrationTest {

    private static final FlakyDependency DEPENDENCY = FlakyDependency.startOrFail();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    ResilienceRegistry registry;
    @Autowired
    CheckoutApp.Payments payments;

    @DynamicPropertySource
    static void dependency(DynamicPropertyRegistry properties) {
        properties.add("payments.url", DEPENDENCY::url);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        DEPENDENCY.close();
    }

    @BeforeEach
    void reset() {
        DEPENDENCY.reset();
        registry.circuitBreaker("payments").reset();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return LoopbackCalls.get(HTTP, port, path, headers);
    }

    @Test
    void theBreakerOpensAndTheFallbackAnswers() throws Exception {
        assertEquals("paid", get("/checkout").body());
        DEPENDENCY.failing.set(true);
        int before = payments.fallbacks();
        // Each call makes 3 attempts; the breaker opens at the 5th failure in a row, during the 2nd call.
        assertEquals("failed: ServiceUnavailable", get("/checkout").body());
        String second = get("/checkout").body();
        assertTrue(second.equals("queued") || second.startsWith("failed"), second);
        int reached = DEPENDENCY.requests.get();
        assertEquals(CircuitBreaker.State.OPEN, registry.circuitBreaker("payments").state());
        for (int i = 0; i < 5; i++) {
            assertEquals("queued", get("/checkout").body());
        }
        assertEquals(reached, DEPENDENCY.requests.get(), "an open breaker sends nothing to the dependency");
        assertEquals(reached - 1, 5, "1 success, then 5 failures open it: " + reached);
        assertEquals(7, payments.fallbacks() - before);

        String endpoint = get("/actuator/resilience").body();
        assertTrue(endpoint.matches("(?s).*\"payments\":\\{\"state\":\"OPEN\".*"), endpoint);
        String health = get("/actuator/health").body();
        assertTrue(health.matches("(?s).*\"resilience\":\\{\"details\":\\{[^}]*\"payments\":\"OPEN\"[^}]*},\"status\":\"UP\"}.*"),
                health);
        String scrape = get("/actuator/prometheus").body();
        assertTrue(scrape.contains("resilience_circuitbreaker_state{name=\"payments\",state=\"open\"} 1.0"), scrape);
        assertTrue(scrape.matches("(?s).*resilience_retry_retries_total\\{name=\"payments\"\\} [1-9].*"), scrape);
        // The inbound deadline filter's lost async cycles (none: Tomcat told it of every end); the limit filter is off here.
        assertTrue(scrape.contains("resilience_http_server_async_lost_total{filter=\"deadline\"} 0.0"), scrape);
        assertFalse(scrape.contains("filter=\"limit\""), scrape);
    }

    @Test
    void aClientErrorIsNeitherRetriedNorCountedAgainstTheDependency() throws Exception {
        for (int i = 0; i < 4; i++) {
            assertEquals("NotFound", get("/lookup").body());
        }
        assertEquals(4, DEPENDENCY.misses.get(), "one request per call: a 404 is not retried");
        CircuitBreaker lookup = registry.circuitBreaker("lookup");
        assertEquals(CircuitBreaker.State.CLOSED, lookup.state(), "4 failures in a row would have opened it at 2");
        assertEquals(4, lookup.counts().totalExclusions());
    }

    @Test
    void retriesStayWithinTheirBudget() throws Exception {
        DEPENDENCY.failing.set(true);
        int calls = 40;
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            assertEquals("failed", get("/budgeted").body());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int retries = DEPENDENCY.requests.get() - calls;
        // RetryBudget: retries <= ratio x requests + minPerSecond x seconds + maxBalance.
        double bound = 0.1 * calls + 1 * Math.ceil(seconds) + 1;
        assertTrue(retries <= bound, retries + " retries > budget " + bound + " over " + seconds + " s");
        assertTrue(retries >= 1, "the budget allows some retries: " + retries);
        assertTrue(retries < calls, "without a budget 3 attempts would make " + 2 * calls + " retries: " + retries);
    }

    @Test
    void theCallersDeadlineTravelsDownstream() throws Exception {
        assertEquals("paid", get("/checkout", "grpc-timeout", "2S").body());
        assertEquals(1, DEPENDENCY.grpcTimeouts.size());
        long nanos = DeadlineHeaders.parseGrpcTimeout(DEPENDENCY.grpcTimeouts.get(0));
        assertTrue(nanos > 0 && nanos <= Duration.ofSeconds(2).toNanos(), DEPENDENCY.grpcTimeouts.toString());

        assertEquals("paid", get("/checkout").body());
        assertEquals("", DEPENDENCY.grpcTimeouts.get(1), "no deadline, no header");
    }

    @Test
    void anIncomingGrpcTimeoutBoundsTheHandler() throws Exception {
        // 1 s: this may be the first request of a cold JVM's first app of its kind
        HandlerWaits.assertEndedByTheDeadline(() -> get("/wait-for-deadline", "grpc-timeout", "1S").body(), 1_000);

        HttpResponse<String> late = get("/wait-for-deadline", "grpc-timeout", "0m");
        assertEquals(504, late.statusCode(), "a request whose deadline passed is not handled");
    }

    @Test
    void theEndpointListsTheConfiguredInstancesFromTheStart() throws Exception {
        String endpoint = get("/actuator/resilience").body();
        assertTrue(endpoint.contains("\"budgeted\""), endpoint);
        assertFalse(endpoint.contains("grpc-timeout"), endpoint);
        assertEquals(405, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/resilience/payments"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"state\":\"FORCED_OPEN\"}")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "no write operation unless enabled");
        assertEquals(CircuitBreaker.State.CLOSED, registry.circuitBreaker("payments").state());
    }
}
