package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a framework integration needs of the registry: the names, the built instances, and a hook on creation. */
class ResilienceRegistryInstancesTest {

    private static final Map<String, String> CONFIG = Map.of(
            "resilience.circuitbreaker.default.open-duration", "10s",
            "resilience.circuitbreaker.payments.consecutive-failures", "3",
            "resilience.circuitbreaker.stock.open-duration", "5s",
            "resilience.ratelimiter.payments.rate", "10/s",
            "resilience.retry.payments.max-attempts", "2",
            "resilience.pipeline.checkout.policies", "retry:payments, circuitbreaker:payments");

    @Test
    void configuredNamesAreTheConfigurationsWithoutDefault() {
        ResilienceRegistry registry = ResilienceRegistry.of(CONFIG);
        assertEquals(List.of("payments", "stock"), List.copyOf(registry.configuredNames(CircuitBreaker.class)));
        assertEquals(List.of("payments"), List.copyOf(registry.configuredNames(RateLimiter.class)));
        assertEquals(List.of("checkout"), List.copyOf(registry.configuredNames(Pipeline.class)));
        assertEquals(List.of(), List.copyOf(registry.configuredNames(Bulkhead.class)));
        assertThrows(UnsupportedOperationException.class, () -> registry.configuredNames(Retry.class).add("x"));
    }

    @Test
    void instancesAreWhatWasBuiltSoFar() {
        ResilienceRegistry registry = ResilienceRegistry.of(CONFIG);
        assertTrue(registry.instances(CircuitBreaker.class).isEmpty());
        CircuitBreaker unconfigured = registry.circuitBreaker("other"); // the defaults
        Pipeline<Object> checkout = registry.pipeline("checkout");
        assertEquals(List.of("other", "payments"), List.copyOf(registry.instances(CircuitBreaker.class).keySet()));
        assertSame(unconfigured, registry.instances(CircuitBreaker.class).get("other"));
        assertSame(checkout, registry.instances(Pipeline.class).get("checkout"));
        assertEquals(Set.of("payments"), registry.instances(Retry.class).keySet());
        assertTrue(registry.instances(RateLimiter.class).isEmpty());
    }

    @Test
    void pipelinePoliciesAreTheRegistrysInstancesOutermostFirst() {
        ResilienceRegistry registry = ResilienceRegistry.of(CONFIG);
        Pipeline<Object> checkout = registry.pipeline("checkout");
        assertEquals(List.of(registry.retry("payments"), registry.circuitBreaker("payments")), checkout.policies());
    }

    @Test
    void badTypesFailNamingTheParameter() {
        ResilienceRegistry registry = ResilienceRegistry.of(CONFIG);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> registry.instances(String.class));
        assertTrue(e.getMessage().startsWith("type must be"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> registry.configuredNames(Hedge.class));
        assertThrows(NullPointerException.class, () -> registry.instances(null));
        assertThrows(NullPointerException.class, () -> ResilienceRegistry.builder().onCreated(null));
        assertThrows(IllegalStateException.class, () -> ResilienceRegistry.builder().onCreated(o -> { }).onCreated(o -> { }));
    }

    @Test
    void onCreatedSeesEveryInstanceOnceMembersBeforeTheirPipeline() {
        List<Object> created = Collections.synchronizedList(new ArrayList<>());
        ResilienceRegistry registry = ResilienceRegistry.builder().properties(CONFIG).onCreated(created::add).build();
        Pipeline<Object> checkout = registry.pipeline("checkout");
        registry.pipeline("checkout");
        registry.circuitBreaker("payments");
        assertEquals(List.of(registry.retry("payments"), registry.circuitBreaker("payments"), checkout), created);
    }

    @Test
    void onCreatedRacersNotifyOnce() throws Exception {
        List<Object> created = Collections.synchronizedList(new ArrayList<>());
        ResilienceRegistry registry = ResilienceRegistry.builder().properties(CONFIG).onCreated(created::add).build();
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                registry.pipeline("checkout");
                registry.circuitBreaker("stock");
            });
            t.start();
            all.add(t);
        }
        start.countDown();
        for (Thread t : all) {
            t.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertEquals(4, created.size(), created::toString); // retry, breaker payments, pipeline, breaker stock
        assertEquals(4, Set.copyOf(created).size());
    }

    @Test
    void aThrowingCallbackDoesNotFailTheLookup() {
        ResilienceRegistry registry = ResilienceRegistry.builder().properties(CONFIG).onCreated(o -> {
            throw new IllegalStateException("observer broke");
        }).build();
        CircuitBreaker breaker = registry.circuitBreaker("payments");
        assertSame(breaker, registry.circuitBreaker("payments"));
        assertSame(breaker, registry.instances(CircuitBreaker.class).get("payments"));
    }
}
