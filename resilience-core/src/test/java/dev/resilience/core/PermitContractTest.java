package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import dev.resilience.context.ManualTicker;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The one permit shape, over every guard that hands permits out: what each end gives back, and misuse. */
class PermitContractTest {

    private final ManualTicker ticker = new ManualTicker();

    @Test
    void aNullFailureIsRefusedAfterTheSlotIsGivenBack() {
        Bulkhead bulkhead = Bulkhead.builder("b").maxConcurrent(1).build();
        assertThrows(NullPointerException.class, () -> bulkhead.tryAcquire().onFailure(null));
        assertEquals(0, bulkhead.inUse(), "the slot came back");
        assertTrue(bulkhead.tryAcquire().isPermitted());

        AdaptiveLimiter adaptive = AdaptiveLimiter.builder("a").algorithm(LimitAlgorithm.vegas(1, 1, 1)).build();
        assertThrows(NullPointerException.class, () -> adaptive.tryAcquire().onFailure(null));
        assertEquals(0, adaptive.inFlight());

        CircuitBreaker breaker = CircuitBreaker.builder("c").ticker(ticker).openDuration(Duration.ofSeconds(1)).build();
        for (int i = 0; i < 6; i++) {
            breaker.tryAcquire().onFailure(new java.io.IOException("down"));
        }
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        ticker.advance(Duration.ofSeconds(1));
        Permit probe = breaker.tryAcquire();
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertThrows(NullPointerException.class, () -> probe.onFailure(null));
        assertTrue(breaker.tryAcquire().isPermitted(), "the half-open probe slot came back");

        assertThrows(NullPointerException.class, () -> bulkhead.tryAcquire().onFailure(null),
                "a refused permit says the same about null");
    }

    @Test
    void anAdaptivePermitCountsOnlyItsFirstEnd() {
        AdaptiveLimiter limiter = AdaptiveLimiter.builder("a").ticker(ticker)
                .algorithm(LimitAlgorithm.aimd(2, 1, 10, 0.5, Duration.ofSeconds(1))).build();
        Permit a = limiter.tryAcquire();
        Permit b = limiter.tryAcquire();
        a.onSuccess();
        a.onSuccess();
        a.release();
        a.onFailure(new java.util.concurrent.TimeoutException());
        assertEquals(1, limiter.inFlight(), "b is still running: a's later ends changed nothing");
        int granted = 0;
        while (limiter.tryAcquire().isPermitted()) {
            granted++;
        }
        assertEquals(limiter.limit(), granted + 1, "b still holds its permit: no more than the limit in flight");
        b.onExcluded();
    }

    @Test
    void hedgingInsideTheDefaultOrderDoesNotShrinkAnAdaptiveLimit() throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(4);
        try {
            AdaptiveLimiter adaptive = AdaptiveLimiter.builder("backend")
                    .algorithm(LimitAlgorithm.aimd(20, 1, 100, 0.5, Duration.ofSeconds(5))).build();
            Hedge hedge = Hedge.builder("h").delay(Duration.ofMillis(20)).maxHedges(1).executor(executor).build();
            Pipeline<String> p = Pipeline.<String>builder("p").add(adaptive).add(hedge).inDefaultOrder().build();
            assertEquals(java.util.List.of(Policy.Kind.HEDGE, Policy.Kind.CONCURRENCY_LIMIT), p.kinds());
            java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
            Supplier<String> slowThenFast = () -> {
                if (attempts.incrementAndGet() % 2 == 1) {
                    try {
                        Context.current().sleepUntil(dev.resilience.context.Ticker.system(),
                                System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    Context.current().throwIfDone(); // the loser sees its context cancelled
                }
                return "ok";
            };
            for (int i = 0; i < 3; i++) {
                assertEquals("ok", p.call(slowThenFast::get));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (adaptive.inFlight() > 0 && System.nanoTime() < end) {
                Thread.yield(); // the losers end once their cancellation reaches them
            }
            assertEquals(0, adaptive.inFlight());
            assertEquals(20, adaptive.limit(), "a hedge's cancelled loser is not overload");
        } finally {
            executor.shutdownNow();
        }
    }
}
