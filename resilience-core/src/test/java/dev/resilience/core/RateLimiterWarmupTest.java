package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * Warm-up with Guava's SmoothWarmingUp arithmetic: rate 10/s, warm-up 1 s, cold factor 3 gives a
 * threshold of 5 stored permits, a maximum of 10, and waits of 280, 240, 200, 160, 120 ms, then the
 * stable 100 ms.
 */
class RateLimiterWarmupTest {

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker(5 * MS);

    private RateLimiter warming() {
        return RateLimiter.builder("warm").rate(10).warmup(Duration.ofSeconds(1)).ticker(ticker).build();
    }

    /** Grants exactly at each of {@code times} (ms from now), and never 1 ms before. */
    private void expectGrantsAt(RateLimiter l, long... times) {
        long start = ticker.read();
        for (long t : times) {
            long target = start + t * MS;
            if (target - ticker.read() > MS) {
                ticker.set(target - MS);
                assertFalse(l.tryAcquire(), "not at " + (t - 1) + " ms");
            }
            ticker.set(target);
            assertTrue(l.tryAcquire(), "at " + t + " ms");
        }
    }

    @Test
    void coldLimiterRampsUpToTheRate() {
        RateLimiter l = warming();
        expectGrantsAt(l, 0, 280, 520, 720, 880, 1000, 1100, 1200);
    }

    @Test
    void idlingCoolsTheLimiterDownAgain() {
        RateLimiter l = warming();
        expectGrantsAt(l, 0, 280, 520, 720, 880, 1000, 1100, 1200);
        ticker.advance(Duration.ofSeconds(2));
        expectGrantsAt(l, 0, 280, 520);
    }

    @Test
    void acquireWaitsTheWarmUpCostUnderTheDeadline() throws Exception {
        RateLimiter l = warming();
        assertTrue(l.tryAcquire());
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(280), ticker);
             Scope s = h.attach()) {
            RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, l::acquire);
            assertEquals(RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE, e.reason());
        }
        assertEquals(-2.8, l.tokens(), 1e-9, "nothing consumed: the next permit is still 280 ms away");
        CompletionStage<String> later = l.callAsync(() -> CompletableFuture.completedFuture("x"));
        assertFalse(later.toCompletableFuture().isDone());
        ticker.advance(280 * MS);
        assertEquals("x", later.toCompletableFuture().get());
        RateLimiter.Reservation r = l.reserve(1);
        assertEquals(240 * MS, r.delayNanos());
    }

    @Test
    void warmupRejectsWhatItCannotDo() {
        assertThrows(IllegalStateException.class,
                () -> RateLimiter.builder("x").rate(10).burst(5).warmup(Duration.ofSeconds(1)).build());
        assertThrows(IllegalStateException.class,
                () -> RateLimiter.builder("x").rate(Double.POSITIVE_INFINITY).warmup(Duration.ofSeconds(1)).build());
        assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("x").warmup(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("x").warmup(Duration.ofSeconds(1), 0.5));
        RateLimiter l = warming();
        assertThrows(IllegalStateException.class, () -> l.setRate(5));
        assertThrows(IllegalStateException.class, () -> l.setBurst(5));
    }
}
