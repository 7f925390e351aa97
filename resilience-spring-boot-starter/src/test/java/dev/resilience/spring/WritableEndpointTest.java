package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.app.CheckoutApp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The endpoint's write operations, enabled: an operator forces a breaker's state and changes a
 * limit at run time; a bad value changes nothing and answers 400 with the problem.
 */
@SpringBootTest(classes = CheckoutApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "payments.url=http://127.0.0.1:9",
    "resilience.circuitbreaker.payments.consecutive-failures=5",
    "resilience.ratelimiter.api.rate=10/s",
    "resilience.bulkhead.db.max-concurrent=2",
    "resilience.spring.endpoint.write-enabled=true",
    "management.endpoints.web.exposure.include=resilience",
})
class WritableEndpointTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    ResilienceRegistry registry;

    private HttpResponse<String> post(String path, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anOperatorForcesABreakersState() throws Exception {
        HttpResponse<String> open = post("/actuator/resilience/payments", "{\"state\":\"FORCED_OPEN\"}");
        assertEquals(200, open.statusCode(), open.body());
        assertTrue(open.body().contains("\"state\":\"FORCED_OPEN\""), open.body());
        assertEquals(CircuitBreaker.State.FORCED_OPEN, registry.circuitBreaker("payments").state());
        assertEquals(200, post("/actuator/resilience/payments", "{\"state\":\"CLOSED\"}").statusCode());
        assertEquals(CircuitBreaker.State.CLOSED, registry.circuitBreaker("payments").state());
        assertEquals(400, post("/actuator/resilience/payments", "{\"state\":\"AJAR\"}").statusCode());
        assertEquals(400, post("/actuator/resilience/nosuch", "{\"state\":\"CLOSED\"}").statusCode());
        // a breaker built in code under a name with capitals is found under that very name
        CircuitBreaker inCode = registry.circuitBreaker("CodeBuilt");
        assertEquals(200, post("/actuator/resilience/CodeBuilt", "{\"state\":\"FORCED_OPEN\"}").statusCode());
        assertEquals(CircuitBreaker.State.FORCED_OPEN, inCode.state());
        inCode.reset();
    }

    @Test
    void anOverrideWrittenInAnotherSpellingReplacesItAndIsRemovedInAnyOne() throws Exception {
        HttpResponse<String> camel = post("/actuator/resilience",
                "{\"key\":\"resilience.rateLimiter.api.rate\",\"value\":\"5/s\"}");
        assertEquals(200, camel.statusCode(), camel.body());
        assertEquals(5.0, registry.rateLimiter("api").rate(), 1e-9);
        HttpResponse<String> dashed = post("/actuator/resilience",
                "{\"key\":\"resilience.rate-limiter.api.rate\",\"value\":\"7/s\"}");
        assertEquals(200, dashed.statusCode(), dashed.body());
        assertEquals(7.0, registry.rateLimiter("api").rate(), 1e-6, "the newer write wins whatever its spelling");
        HttpResponse<String> removed = post("/actuator/resilience", "{\"key\":\"resilience.ratelimiter.api.rate\"}");
        assertEquals(200, removed.statusCode(), removed.body());
        assertEquals(10.0, registry.rateLimiter("api").rate(), 1e-9,
                "removed in a third spelling: no older override comes back, application.yml's value again");
    }

    @Test
    void anOperatorChangesLimitsAtRunTime() throws Exception {
        HttpResponse<String> rate = post("/actuator/resilience",
                "{\"key\":\"resilience.ratelimiter.api.rate\",\"value\":\"100/s\"}");
        assertEquals(200, rate.statusCode(), rate.body());
        assertTrue(rate.body().contains("\"applied\":[\"resilience.ratelimiter.api.rate\"]"), rate.body());
        assertEquals(100.0, registry.rateLimiter("api").rate(), 1e-9);

        HttpResponse<String> size = post("/actuator/resilience",
                "{\"key\":\"resilience.bulkhead.db.max-concurrent\",\"value\":\"8\"}");
        assertEquals(200, size.statusCode(), size.body());
        assertEquals(8, registry.bulkhead("db").maxConcurrent());

        HttpResponse<String> open = post("/actuator/resilience",
                "{\"key\":\"resilience.circuitbreaker.payments.open-duration\",\"value\":\"50ms\"}");
        assertTrue(open.body().contains("\"applied\":[\"resilience.circuitbreaker.payments.open-duration\"]"),
                open.body());
        // The live breaker took it: opened by 5 failures in a row, it turns half-open after 50 ms
        // (the 60 s default before the change).
        CircuitBreaker payments = registry.circuitBreaker("payments");
        long beforeFailures = System.nanoTime(); // before the breaker's reading at the fifth failure
        for (int i = 0; i < 5; i++) {
            payments.tryAcquire().onFailure(new IOException("down"));
        }
        long opened = System.nanoTime(); // after the breaker's own reading at the fifth failure
        CircuitBreaker.State state = payments.state();
        if (System.nanoTime() - beforeFailures < TimeUnit.MILLISECONDS.toNanos(50)) {
            assertEquals(CircuitBreaker.State.OPEN, state, "5 failures opened it, for more than no time");
        } else { // this thread stalled past the open duration: it may be half-open already
            assertNotEquals(CircuitBreaker.State.CLOSED, state, "5 failures opened it");
        }
        // The breaker turns half-open lazily, when asked after its open duration: let 60 ms pass on
        // the clock it runs on, then ask once.
        for (long left = TimeUnit.MILLISECONDS.toNanos(60); left > 0; left = opened + TimeUnit.MILLISECONDS.toNanos(60)
                - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
        assertEquals(CircuitBreaker.State.HALF_OPEN, payments.state(), "open for the endpoint's 50 ms");
        payments.reset();

        HttpResponse<String> restart = post("/actuator/resilience",
                "{\"key\":\"resilience.circuitbreaker.payments.interval\",\"value\":\"1m\"}");
        assertTrue(restart.body().contains("\"needsRestart\":[\"resilience.circuitbreaker.payments.interval\"]"),
                restart.body());

        HttpResponse<String> bad = post("/actuator/resilience",
                "{\"key\":\"resilience.ratelimiter.api.rate\",\"value\":\"fast\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals(100.0, registry.rateLimiter("api").rate(), 1e-9, "a bad value changes nothing");

        assertEquals(400, post("/actuator/resilience", "{\"key\":\"spring.application.name\",\"value\":\"x\"}").statusCode());

        HttpResponse<String> removed = post("/actuator/resilience", "{\"key\":\"resilience.ratelimiter.api.rate\"}");
        assertEquals(200, removed.statusCode(), removed.body());
        assertEquals(10.0, registry.rateLimiter("api").rate(), 1e-9, "without the override, application.yml's value again");
        post("/actuator/resilience", "{\"key\":\"resilience.circuitbreaker.payments.open-duration\"}");
        post("/actuator/resilience", "{\"key\":\"resilience.circuitbreaker.payments.interval\"}");
    }
}
