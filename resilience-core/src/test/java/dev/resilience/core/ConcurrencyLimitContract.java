package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every concurrency guard (bulkhead, adaptive limiter) keeps, run against each: never
 * more calls inside than the limit, every permit returned however the call ends (success, own
 * exception, overload signal, asynchronous cancellation), rejections counted, nothing left in flight.
 */
abstract class ConcurrencyLimitContract {

    /** The guard under test, adapted to one shape. */
    interface Guard {
        <T> T call(java.util.concurrent.Callable<T> task) throws Exception;

        <T> java.util.concurrent.CompletionStage<T> callAsync(
                java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task);

        int inFlight();

        int limit();
    }

    abstract Guard newGuard(int limit);

    private final ExecutorService pool = Executors.newFixedThreadPool(8);

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    @Test
    void neverExceedsTheLimitAndReturnsEveryPermit() throws Exception {
        Guard guard = newGuard(4);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        int threads = 8;
        int perThread = 5_000;
        CyclicBarrier go = new CyclicBarrier(threads);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int i = 0; i < perThread; i++) {
                    int kind = rnd.nextInt(4);
                    try {
                        guard.call(() -> {
                            int now = inside.incrementAndGet();
                            maxInside.accumulateAndGet(now, Math::max);
                            try {
                                if (kind == 1) {
                                    throw new IllegalStateException("own failure");
                                }
                                if (kind == 2) {
                                    throw new TimeoutException("overload");
                                }
                                Thread.yield();
                                return null;
                            } finally {
                                inside.decrementAndGet();
                            }
                        });
                        ok.incrementAndGet();
                    } catch (RequestNotPermittedException e) {
                        rejected.incrementAndGet();
                    } catch (IllegalStateException | TimeoutException e) {
                        failed.incrementAndGet();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            }, pool));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertEquals(threads * perThread, ok.get() + rejected.get() + failed.get(), "every call accounted for");
        assertTrue(maxInside.get() <= 4, "at most the limit inside: " + maxInside.get());
        assertEquals(0, guard.inFlight(), "every permit returned");
    }

    @Test
    void asyncCallsReturnPermitsOnCompletionFailureAndCancellation() {
        Guard guard = newGuard(3);
        List<CompletableFuture<String>> pending = new ArrayList<>();
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CompletableFuture<String> work = new CompletableFuture<>();
            pending.add(work);
            results.add(guard.callAsync(() -> work).toCompletableFuture());
        }
        assertEquals(3, guard.inFlight());
        assertTrue(guard.callAsync(() -> CompletableFuture.completedFuture("x")).toCompletableFuture()
                .isCompletedExceptionally(), "full");
        pending.get(0).complete("ok");
        pending.get(1).completeExceptionally(new IllegalStateException("failed"));
        pending.get(2).cancel(true);
        assertEquals(0, guard.inFlight());
        assertTrue(results.get(1).isCompletedExceptionally());
    }
}

class BulkheadContractTest extends ConcurrencyLimitContract {
    @Override
    Guard newGuard(int limit) {
        Bulkhead b = Bulkhead.builder("contract").maxConcurrent(limit).build();
        return new Guard() {
            @Override
            public <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
                return b.call(task);
            }

            @Override
            public <T> java.util.concurrent.CompletionStage<T> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
                return b.callAsync(task);
            }

            @Override
            public int inFlight() {
                return b.inUse();
            }

            @Override
            public int limit() {
                return b.maxConcurrent();
            }
        };
    }
}

class AdaptiveLimiterContractTest extends ConcurrencyLimitContract {
    @Override
    Guard newGuard(int limit) {
        AdaptiveLimiter l = AdaptiveLimiter.builder("contract")
                .algorithm(LimitAlgorithm.aimd(limit, 1, limit, 0.9, java.time.Duration.ofSeconds(10))).build();
        return new Guard() {
            @Override
            public <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
                return l.call(task);
            }

            @Override
            public <T> java.util.concurrent.CompletionStage<T> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
                return l.callAsync(task);
            }

            @Override
            public int inFlight() {
                return l.inFlight();
            }

            @Override
            public int limit() {
                return l.limit();
            }
        };
    }
}

/** The contract with Gradient2 moving the limit below its start (system ticker, real round trips). */
class AdaptiveLimiterGradient2ContractTest extends ConcurrencyLimitContract {
    @Override
    Guard newGuard(int limit) {
        AdaptiveLimiter l = AdaptiveLimiter.builder("contract-gradient2")
                .algorithm(LimitAlgorithm.gradient2(limit, 1, limit)).build();
        return new Guard() {
            @Override
            public <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
                return l.call(task);
            }

            @Override
            public <T> java.util.concurrent.CompletionStage<T> callAsync(
                    java.util.function.Supplier<? extends java.util.concurrent.CompletionStage<T>> task) {
                return l.callAsync(task);
            }

            @Override
            public int inFlight() {
                return l.inFlight();
            }

            @Override
            public int limit() {
                return l.limit();
            }
        };
    }
}
