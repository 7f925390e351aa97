package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/** Every policy that refuses before running throws a RefusedException naming itself and the kind. */
class RefusedExceptionTest {

    @Test
    void oneBaseTypeCoversEveryRefusal() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("breaker").build();
        breaker.forceOpen();
        RateLimiter limiter = RateLimiter.builder("limiter").rate(1).burst(1).maxWait(Duration.ZERO).build();
        limiter.tryAcquire();
        Bulkhead bulkhead = Bulkhead.builder("bulkhead").maxConcurrent(1).build();
        bulkhead.tryAcquire();
        AdaptiveLimiter adaptive = AdaptiveLimiter.builder("adaptive")
                .algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1))).build();
        adaptive.tryAcquire();
        List<Callable<String>> refused = List.of(() -> breaker.call(() -> "x"), () -> limiter.call(() -> "x"),
                () -> bulkhead.call(() -> "x"), () -> adaptive.call(() -> "x"));
        List<RefusedException.Refusal> kinds = List.of(RefusedException.Refusal.CIRCUIT_OPEN,
                RefusedException.Refusal.RATE_LIMITED, RefusedException.Refusal.BULKHEAD_FULL,
                RefusedException.Refusal.CONCURRENCY_LIMITED);
        List<String> names = List.of("breaker", "limiter", "bulkhead", "adaptive");
        Fallback<String> fallback = Fallback.<String>on(RefusedException.class).to(e -> ((RefusedException) e).policy());
        for (int i = 0; i < refused.size(); i++) {
            Callable<String> call = refused.get(i);
            RefusedException e = assertThrows(RefusedException.class, call::call);
            assertEquals(kinds.get(i), e.refusal());
            assertEquals(names.get(i), e.policy());
            assertEquals(names.get(i), fallback.call(call), "one Fallback covers them all");
        }
        assertInstanceOf(BulkheadFullException.class, assertThrows(RefusedException.class, () -> bulkhead.call(() -> "x")),
                "a full bulkhead has its own type");
        assertInstanceOf(RequestNotPermittedException.class, assertThrows(RefusedException.class,
                () -> bulkhead.call(() -> "x")), "and still is a RequestNotPermittedException");
    }
}
