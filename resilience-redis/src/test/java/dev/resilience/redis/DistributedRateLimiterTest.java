package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The GCRA limiter against a real redis-server on loopback. */
class DistributedRateLimiterTest extends SharedRedisTest {

    private static DistributedRateLimiter.Builder limiter(double rate, int burst) {
        return DistributedRateLimiter.builder(RedisTests.uniqueName("rl"), backend).rate(rate).burst(burst);
    }

    @Test
    void burstThenRefusalWithRetryAfter() {
        DistributedRateLimiter limiter = limiter(1, 3).build();
        for (int i = 0; i < 3; i++) {
            Decision d = limiter.decide("k", 1);
            assertTrue(d.granted(), d.toString());
            assertEquals(Decision.Source.REDIS, d.source());
            assertEquals(2 - i, d.remaining());
            assertNull(d.fallbackCause());
        }
        Decision refused = limiter.decide("k", 1);
        assertFalse(refused.granted());
        assertEquals(RequestNotPermittedException.Reason.NO_PERMIT, refused.reason());
        assertTrue(refused.delayNanos() > 0 && refused.delayNanos() <= 1_000_000_000L, refused.toString());
        assertTrue(refused.resetNanos() > 2_000_000_000L && refused.resetNanos() <= 3_000_000_000L, refused.toString());
        assertEquals(0, refused.remaining());
    }

    @Test
    void aThrowingListenerNeverChangesADecision() throws Exception {
        for (Throwable error : java.util.List.of(new IllegalStateException("listener bug"), new AssertionError("listener bug"))) {
            DistributedLimiterListener hostile = new DistributedLimiterListener() {
                private void fail() {
                    if (error instanceof Error) {
                        throw (Error) error;
                    }
                    throw (RuntimeException) error;
                }

                @Override
                public void onDecision(DistributedLimiter l, String key, Decision decision) {
                    fail();
                }

                @Override
                public void onRoundTrip(DistributedLimiter l, long nanos) {
                    fail();
                }
            };
            DistributedRateLimiter limiter = limiter(1, 2).listener(hostile).build();
            assertTrue(limiter.tryAcquire("k"), "granted, not a CompletionException");
            assertTrue(limiter.decide("k", 1).granted());
            assertFalse(limiter.tryAcquire("k"), "refused as the limit says");
            assertFalse(limiter.decideAsync("k", 1).get(5, java.util.concurrent.TimeUnit.SECONDS).granted());
            DistributedRateLimiter waiting = limiter(1000, 1).listener(hostile).build();
            waiting.acquire("k", 1); // granted at once: no CompletionException from the listener
            assertThrows(RequestNotPermittedException.class, () -> waiting.acquire("k", 2), "2 exceed the burst");
        }
    }

    @Test
    void refusalChangesNothing() {
        DistributedRateLimiter limiter = limiter(1, 2).build();
        assertTrue(limiter.tryAcquire("k", 2));
        String key = "resilience:rate:" + limiter.name() + ":{k}";
        String before = tests.redis().get(key);
        assertFalse(limiter.tryAcquire("k", 1));
        assertFalse(limiter.tryAcquire("k", 2));
        assertEquals(before, tests.redis().get(key));
    }

    @Test
    void moreThanTheBurstIsNeverGranted() {
        DistributedRateLimiter limiter = limiter(100, 5).build();
        Decision d = limiter.decide("k", 6);
        assertFalse(d.granted());
        assertEquals(RequestNotPermittedException.Reason.EXCEEDS_BURST, d.reason());
        assertEquals(-1, d.delayNanos());
        assertTrue(limiter.tryAcquire("k", 5), "the refusal took nothing");
        RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class,
                () -> limiter.acquire("k", 6));
        assertEquals(RequestNotPermittedException.Reason.EXCEEDS_BURST, e.reason());
    }

    @Test
    void keysAreIsolated() {
        DistributedRateLimiter limiter = limiter(1, 1).build();
        assertTrue(limiter.tryAcquire("tenant-a"));
        assertFalse(limiter.tryAcquire("tenant-a"));
        assertTrue(limiter.tryAcquire("tenant-b"));
        assertFalse(limiter.tryAcquire("tenant-b"));
    }

    @Test
    void overridesAndResolverPerKey() {
        DistributedRateLimiter limiter = limiter(1, 1)
                .override("gold", Limit.of(1, 10))
                .limits(key -> key.startsWith("silver-") ? Limit.of(1, 4) : null)
                .build();
        assertEquals(Limit.of(1, 10), limiter.limit("gold"));
        assertEquals(Limit.of(1, 4), limiter.limit("silver-7"));
        assertEquals(Limit.of(1, 1), limiter.limit("bronze"));
        assertEquals(10, grantedInARow(limiter, "gold"));
        assertEquals(4, grantedInARow(limiter, "silver-7"));
        assertEquals(1, grantedInARow(limiter, "bronze"));
    }

    private static int grantedInARow(DistributedRateLimiter limiter, String key) {
        int n = 0;
        while (limiter.tryAcquire(key)) {
            n++;
            if (n > 100) {
                throw new AssertionError("no limit on " + key);
            }
        }
        return n;
    }

    @Test
    void keysExpireWhenTheBucketIsFullAgain() {
        DistributedRateLimiter slow = limiter(1, 5).build();
        assertTrue(slow.tryAcquire("k"));
        long pttl = tests.redis().pttl("resilience:rate:" + slow.name() + ":{k}");
        assertTrue(pttl > 0 && pttl <= 1000, "one permit of 1/s is owed for at most 1 s: " + pttl);

        DistributedRateLimiter fast = limiter(100, 1).build();
        assertTrue(fast.tryAcquire("k"));
        String key = "resilience:rate:" + fast.name() + ":{k}";
        RedisTests.await(() -> tests.redis().exists(key) == 0, "the key expires after 10 ms");
        assertTrue(fast.tryAcquire("k"), "a missing key is a full bucket");
    }

    @Test
    void usesTheServerClockAndSameNameInstancesShareKeys() {
        String name = RedisTests.uniqueName("shared");
        DistributedRateLimiter a = DistributedRateLimiter.builder(name, backend).rate(1).burst(2)
                .ticker(new ManualTicker()).build();
        try (RedisBackend other = tests.backend()) {
            // Another "instance" with a wildly different local clock: the limit is shared anyway.
            DistributedRateLimiter b = DistributedRateLimiter.builder(name, other).rate(1).burst(2)
                    .ticker(new ManualTicker(Long.MAX_VALUE / 4)).build();
            assertTrue(a.tryAcquire("k"));
            assertTrue(b.tryAcquire("k"));
            assertFalse(a.tryAcquire("k"));
            assertFalse(b.tryAcquire("k"));
        }
    }

    @Test
    void twoInstancesWithTwoThreadPoolsStayWithinTheSharedLimit() throws Exception {
        double rate = 200;
        int burst = 20;
        String name = RedisTests.uniqueName("hammer");
        // timeouts far above a stall of this machine: the test is about the shared limit, and one
        // call over the default 100 ms (8 threads on 2 cores beside redis-server) would be a fallback
        try (RedisBackend mine = tests.backend(Duration.ofSeconds(5)); RedisBackend other = tests.backend(Duration.ofSeconds(5))) {
            DistributedRateLimiter a = DistributedRateLimiter.builder(name, mine).rate(rate).burst(burst)
                    .failureMode(FailureMode.failClosed()).build();
            DistributedRateLimiter b = DistributedRateLimiter.builder(name, other).rate(rate).burst(burst)
                    .failureMode(FailureMode.failClosed()).build();
            ExecutorService poolA = Executors.newFixedThreadPool(4);
            ExecutorService poolB = Executors.newFixedThreadPool(4);
            AtomicLong granted = new AtomicLong();
            AtomicLong fallbacks = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                DistributedRateLimiter l = i % 2 == 0 ? a : b;
                ExecutorService pool = i % 2 == 0 ? poolA : poolB;
                workers.add(pool.submit(() -> {
                    go.await();
                    while (!stop.get()) {
                        Decision d = l.decide("downstream", 1);
                        if (d.source() != Decision.Source.REDIS) {
                            fallbacks.incrementAndGet();
                        } else if (d.granted()) {
                            granted.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            long start = tests.serverMicros();
            go.countDown();
            Thread.sleep(1500);
            stop.set(true);
            for (Future<?> w : workers) {
                w.get(30, TimeUnit.SECONDS);
            }
            double elapsedSeconds = (tests.serverMicros() - start) / 1e6;
            poolA.shutdown();
            poolB.shutdown();
            assertEquals(0, fallbacks.get(), "Redis decided every call");
            double bound = burst + rate * elapsedSeconds + 1;
            assertTrue(granted.get() <= bound, granted.get() + " granted > " + bound);
            assertTrue(granted.get() >= rate * elapsedSeconds * 0.5,
                    "the limiters granted " + granted.get() + " in " + elapsedSeconds + " s: far below the rate");
        }
    }

    @Test
    void reserveTellsTheDelayAndCancelGivesItBack() {
        // 1 permit/s on Redis' own clock: the steps below have 0.5 s to run before the third permit's
        // wait fits in 1.5 s (a loaded machine's stall, not the limiter, would decide at 10/s)
        DistributedRateLimiter limiter = limiter(1, 1).build();
        assertTrue(limiter.tryAcquire("k"));
        Decision r = limiter.reserve("k", 1, Duration.ofMillis(1500));
        assertTrue(r.granted());
        assertTrue(r.delayNanos() > 0 && r.delayNanos() <= 1_000_000_000L, r.toString());
        Decision tooLong = limiter.reserve("k", 1, Duration.ofMillis(1500));
        assertFalse(tooLong.granted(), "a third permit would wait about 2 s");
        assertEquals(RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE, tooLong.reason());
        limiter.cancel(r);
        // back: a wait of at most 1 s; not back, it would be about 2 s, over 1.2 s
        Decision again = limiter.reserve("k", 1, Duration.ofMillis(1200));
        assertTrue(again.granted(), "the cancelled reservation's permit came back: " + again);
        assertTrue(again.delayNanos() <= 1_000_000_000L, again.toString());
    }

    @Test
    void aSecondCancelOfOneReservationGivesNothingMoreBack() {
        DistributedRateLimiter limiter = limiter(1, 1).build();
        assertTrue(limiter.tryAcquire("k"));
        Decision r = limiter.reserve("k", 1, Duration.ofSeconds(5));
        assertTrue(r.granted() && r.delayNanos() > 0, r.toString());
        limiter.cancel(r);
        limiter.cancel(r); // before: the script gave the permit back again and emptied the key
        assertFalse(limiter.tryAcquire("k"), "only the reservation came back, not the burst spent before it");
    }

    @Test
    void aKeyWithBracesAndAPlainKeyNeverShareABucket() {
        DistributedRateLimiter limiter = limiter(1, 1).build();
        assertTrue(limiter.tryAcquire("{"));
        assertTrue(limiter.tryAcquire("x7b"), "\"{\" is stored as its hex, 7b: a plain key spelled so is another key");
        assertFalse(limiter.tryAcquire("{"));
        assertFalse(limiter.tryAcquire("x7b"));
    }

    @Test
    void acquireWaitsTheReservationOnTheLimitersTicker() throws Exception {
        ManualTicker ticker = new ManualTicker();
        DistributedRateLimiter limiter = limiter(10, 1).ticker(ticker).build();
        limiter.acquire("k", 1);
        RedisTests.Acquirer waiter = RedisTests.acquireInThread(limiter, "k", Context.background());
        RedisTests.awaitSleeping(waiter.thread());
        assertTrue(waiter.thread().isAlive(), "the second permit is 100 ms away");
        ticker.advance(Duration.ofMillis(100));
        waiter.thread().join(10_000);
        assertFalse(waiter.thread().isAlive());
        assertNull(waiter.failure().get());
    }

    @Test
    void acquireRefusesAWaitPastTheDeadlineOrMaxWait() {
        DistributedRateLimiter limiter = limiter(1, 1).build();
        assertTrue(limiter.tryAcquire("k"));
        try (CancelHandle h = Context.current().withTimeout(Duration.ofMillis(50)); Scope s = h.attach()) {
            RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class,
                    () -> limiter.acquire("k", 1));
            assertEquals(RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE, e.reason());
        }
        DistributedRateLimiter capped = limiter(1, 1).maxWait(Duration.ofMillis(50)).build();
        assertTrue(capped.tryAcquire("k"));
        RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, () -> capped.acquire("k", 1));
        assertEquals(RequestNotPermittedException.Reason.NO_PERMIT, e.reason());
    }

    @Test
    void aCancelledWaitGivesTheReservationBack() throws Exception {
        ManualTicker ticker = new ManualTicker();
        DistributedRateLimiter limiter = limiter(10, 1).ticker(ticker).build();
        String key = "resilience:rate:" + limiter.name() + ":{k}";
        assertTrue(limiter.tryAcquire("k"));
        double tatAfterFirst = Double.parseDouble(tests.redis().get(key));
        CancelHandle handle = Context.background().withCancel();
        RedisTests.Acquirer waiter = RedisTests.acquireInThread(limiter, "k", handle.context());
        RedisTests.awaitSleeping(waiter.thread());
        handle.cancel();
        waiter.thread().join(10_000);
        Throwable failure = waiter.failure().get();
        assertTrue(failure instanceof ContextCancelledException, String.valueOf(failure));
        RedisTests.await(() -> {
            String v = tests.redis().get(key);
            return v == null || Double.parseDouble(v) <= tatAfterFirst + 1;
        }, "the reservation was given back");
    }

    @Test
    void aConnectionOfTheCallersIsUsedAndLeftOpen() {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(tests.server.uri());
        try (io.lettuce.core.api.StatefulRedisConnection<String, String> mine = client.connect()) {
            try (RedisBackend given = RedisBackend.builder().connection(mine).timeout(Duration.ofSeconds(1)).build()) {
                DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("given"), given)
                        .rate(1).burst(1).build();
                assertEquals(Decision.Source.REDIS, limiter.decide("k", 1).source());
                assertEquals(Duration.ofSeconds(1), given.timeout());
            }
            assertTrue(mine.isOpen(), "the backend does not close a connection it was given");
            assertEquals("PONG", mine.sync().ping());
        } finally {
            client.shutdown();
        }
    }

    @Test
    void badArgumentsFailFast() {
        assertThrows(NullPointerException.class, () -> DistributedRateLimiter.builder(null, backend));
        assertThrows(NullPointerException.class, () -> DistributedRateLimiter.builder("x", null));
        assertThrows(IllegalArgumentException.class, () -> DistributedRateLimiter.builder("", backend));
        assertThrows(IllegalArgumentException.class, () -> limiter(0, 1));
        assertThrows(IllegalArgumentException.class, () -> limiter(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> limiter(2e6, 1));
        assertThrows(IllegalArgumentException.class, () -> limiter(1, 0));
        assertThrows(IllegalStateException.class, () -> DistributedRateLimiter.builder("x", backend).build());
        assertThrows(IllegalArgumentException.class, () -> Limit.of(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> Limit.of(1, -1));
        DistributedRateLimiter limiter = limiter(1, 1).build();
        assertThrows(NullPointerException.class, () -> limiter.tryAcquire(null));
        assertThrows(IllegalArgumentException.class, () -> limiter.tryAcquire(""));
        assertThrows(IllegalArgumentException.class, () -> limiter.tryAcquire("k", 0));
        assertThrows(IllegalArgumentException.class, () -> limiter.reserve("k", 1, Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> limiter(1, 1).maxWait(Duration.ofMillis(-1)));
        assertThrows(IllegalStateException.class, () -> limiter(1, 1).burst(2));
        assertThrows(IllegalStateException.class, () -> limiter(1, 1).keyPrefix("a:").keyPrefix("b:"));
        assertThrows(NullPointerException.class, () -> limiter(1, 1).keyPrefix(null));
        assertThrows(IllegalStateException.class, () -> RedisBackend.builder().build());
        assertThrows(IllegalArgumentException.class, () -> RedisBackend.builder().uri("not a uri"));
        assertThrows(IllegalArgumentException.class, () -> RedisBackend.builder().timeout(Duration.ZERO));
        assertThrows(NullPointerException.class, () -> RedisBackend.builder().connection(null));
        assertThrows(IllegalArgumentException.class, () -> FailureMode.local(0));
    }

    /** Polls (yielding) until {@code condition} holds or 10 s pass. */
    private static void awaitUntil(java.util.function.BooleanSupplier condition, String what) {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void acquireAsyncWaitsWithoutAThreadUnderTheDeadlineAndGivesBackWhatItDoesNotUse() throws Exception {
        ManualTicker ticker = new ManualTicker();
        DistributedRateLimiter limiter = limiter(1, 1).ticker(ticker).build();
        String stateKey = "resilience:rate:" + limiter.name() + ":{k}";
        assertNull(limiter.acquireAsync("k", 1).get(5, TimeUnit.SECONDS), "the burst: at once");
        String afterBurst = tests.redis().get(stateKey);
        java.util.concurrent.CompletableFuture<Void> second = limiter.acquireAsync("k", 1);
        awaitUntil(() -> !java.util.Objects.equals(tests.redis().get(stateKey), afterBurst), "the reservation");
        assertFalse(second.isDone(), "waiting, on the limiter's ticker, with no thread parked");
        awaitUntil(() -> {
            ticker.advance(java.time.Duration.ofSeconds(1)); // until the wait, once scheduled, is over
            return second.isDone();
        }, "the wait to end");
        assertNull(second.get());

        try (CancelHandle h = Context.background().withTimeout(java.time.Duration.ofMillis(100)); Scope s = h.attach()) {
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> limiter.acquireAsync("k", 1).get(5, TimeUnit.SECONDS));
            assertEquals(RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE,
                    ((RequestNotPermittedException) e.getCause()).reason(), "refused up front, nothing consumed");
        }

        String beforeThird = tests.redis().get(stateKey);
        java.util.concurrent.CompletableFuture<Void> third = limiter.acquireAsync("k", 1);
        awaitUntil(() -> !java.util.Objects.equals(tests.redis().get(stateKey), beforeThird), "the third reservation");
        assertFalse(third.isDone());
        third.cancel(false);
        awaitUntil(() -> java.util.Objects.equals(tests.redis().get(stateKey), beforeThird),
                "the cancelled reservation to come back (Go's CancelAt)");
    }

    @Test
    void aBlockingCallWhoseDecisionFailedThrowsTheFailureNotANullDecision() throws Exception {
        DistributedRateLimiter limiter = limiter(10, 10).build();
        IllegalStateException boom = new IllegalStateException("the decision failed");
        assertEquals(boom, assertThrows(IllegalStateException.class,
                () -> limiter.awaitUnder(Context.background(), java.util.concurrent.CompletableFuture.failedFuture(boom))),
                "a decision already failed");
        java.util.concurrent.CompletableFuture<Decision> later = new java.util.concurrent.CompletableFuture<>();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Throwable> thrown = pool.submit(() -> {
                try {
                    limiter.awaitUnder(Context.background(), later);
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            RedisTests.await(() -> later.getNumberOfDependents() > 0, "the caller waits on the decision");
            later.completeExceptionally(boom);
            assertEquals(boom, thrown.get(5, TimeUnit.SECONDS), "a decision that failed while the caller waited");
        } finally {
            pool.shutdownNow();
        }
    }
}
