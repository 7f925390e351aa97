package dev.resilience.spring.inboundlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.LoopbackCalls;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The starter's inbound adaptive limit in a real Spring MVC application on Tomcat: limiters from the
 * registry (limit 1 each), one for {@code /search}, one for everything else.
 */
@SpringBootTest(classes = InboundLimitTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "resilience.spring.inbound.limit.enabled=true",
    "resilience.spring.inbound.limit.routes.search=/search",
    "resilience.spring.inbound.limit.retry-after=3s",
    "resilience.adaptivelimiter.inbound.initial-limit=1",
    "resilience.adaptivelimiter.inbound.max-limit=1",
    "resilience.adaptivelimiter.search.initial-limit=1",
    "resilience.adaptivelimiter.search.max-limit=1",
})
class InboundLimitTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static volatile CountDownLatch release = new CountDownLatch(1);
    static final CountDownLatch entered = new CountDownLatch(1);
    static final AtomicInteger handled = new AtomicInteger();

    @SpringBootApplication
    @RestController
    static class App {
        @GetMapping("/search/slow")
        String slow() throws InterruptedException {
            handled.incrementAndGet();
            entered.countDown();
            assertTrue(release.await(20, TimeUnit.SECONDS));
            return "slow";
        }

        @GetMapping("/search/fast")
        String fast() {
            handled.incrementAndGet();
            return "fast";
        }

        @GetMapping("/other")
        String other() {
            handled.incrementAndGet();
            return "other";
        }
    }

    @LocalServerPort
    int port;
    @Autowired
    ResilienceRegistry registry;
    @Autowired
    MeterRegistry meters;

    @Test
    void overTheLimitARouteAnswers503WithRetryAfterAndOtherRoutesStillPass() throws Exception {
        CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> {
            try {
                return LoopbackCalls.get(HTTP, port, "/search/slow");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(entered.await(20, TimeUnit.SECONDS), "the first search is in its handler");
        AdaptiveLimiter search = registry.adaptiveLimiter("search");
        assertEquals(1, search.inFlight());
        int before = handled.get();
        HttpResponse<String> refused = LoopbackCalls.get(HTTP, port, "/search/fast");
        assertEquals(503, refused.statusCode());
        assertEquals("3", refused.headers().firstValue("Retry-After").orElse(null));
        assertEquals(before, handled.get(), "the refused request's handler did not run");
        assertEquals("other", LoopbackCalls.get(HTTP, port, "/other").body(), "another route has its own limiter");

        release.countDown();
        assertEquals("slow", held.get(20, TimeUnit.SECONDS).body());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (search.inFlight() != 0 && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a bounded poll, not a pacing sleep
        }
        assertEquals(0, search.inFlight(), "the permit came back");
        assertEquals("fast", LoopbackCalls.get(HTTP, port, "/search/fast").body());
        assertEquals(0, registry.adaptiveLimiter("inbound").inFlight());
    }

    @Test
    void theFiltersLostAsyncCyclesAreMeters() {
        for (String filter : new String[] {"limit", "deadline"}) {
            FunctionCounter lost = meters.find("resilience.http.server.async.lost").tag("filter", filter).functionCounter();
            assertNotNull(lost, filter);
            assertEquals(0.0, lost.count(), "Tomcat told the " + filter + " filter of every end");
        }
    }

    @Test
    void aRequestWhoseDeadlinePassedIsAnsweredWithoutItsHandler() throws Exception {
        int before = handled.get();
        HttpResponse<String> expired = LoopbackCalls.get(HTTP, port, "/other", "grpc-timeout", "0m");
        assertEquals(504, expired.statusCode());
        assertEquals(before, handled.get());
    }
}
