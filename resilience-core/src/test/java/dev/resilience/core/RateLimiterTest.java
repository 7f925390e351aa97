package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** x/time/rate behaviours at exact ticker times. */
class RateLimiterTest {

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker(7 * MS);
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    private RateLimiter limiter(double rate, int burst) {
        return RateLimiter.builder("test").rate(rate).burst(burst).ticker(ticker).build();
    }

    @Test
    void maxWaitCapsTheWaitLikeResilience4jsTimeoutDuration() throws Exception {
        RateLimiter noWait = RateLimiter.builder("r").rate(5).burst(1).maxWait(Duration.ZERO).ticker(ticker).build();
        noWait.acquire();
        RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, noWait::acquire);
        assertEquals(RequestNotPermittedException.Reason.NO_PERMIT, e.reason());
        assertThrows(RequestNotPermittedException.class, () -> noWait.call(() -> "never runs"));

        // next permit 200 ms away: beyond a 100 ms maxWait, so it fails at once, and nothing is reserved
        RateLimiter capped = RateLimiter.builder("r").rate(5).burst(1).maxWait(Duration.ofMillis(100)).ticker(ticker).build();
        capped.acquire();
        assertEquals(RequestNotPermittedException.Reason.NO_PERMIT,
                assertThrows(RequestNotPermittedException.class, capped::acquire).reason());
        ticker.advance(150 * MS);   // now 50 ms away: within maxWait, the asynchronous form waits for it
        CompletableFuture<String> later = capped.callAsync(() -> CompletableFuture.completedFuture("ran")).toCompletableFuture();
        assertFalse(later.isDone());
        ticker.advance(50 * MS);
        assertEquals("ran", later.get(10, TimeUnit.SECONDS));

        assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("r").maxWait(Duration.ofMillis(-1)));
        assertThrows(IllegalStateException.class, () -> RateLimiter.builder("r").maxWait(Duration.ZERO).maxWait(Duration.ZERO));
    }

    @Test
    void startsFullThenRefillsOnePermitPerInterval() {
        RateLimiter l = limiter(10, 3);
        assertEquals(3.0, l.tokens());
        assertTrue(l.tryAcquire());
        assertTrue(l.tryAcquire());
        assertTrue(l.tryAcquire());
        assertFalse(l.tryAcquire());
        for (int i = 0; i < 5; i++) {
            ticker.advance(99 * MS);
            assertFalse(l.tryAcquire(), "not before 100 ms");
            ticker.advance(MS);
            assertTrue(l.tryAcquire(), "one per 100 ms");
            assertFalse(l.tryAcquire());
        }
    }

    @Test
    void tokensAreFractionalWhileRefillingAndCappedAtBurst() {
        RateLimiter l = limiter(10, 3);
        assertTrue(l.tryAcquire(3));
        assertEquals(0.0, l.tokens(), 1e-9);
        ticker.advance(150 * MS);
        assertEquals(1.5, l.tokens(), 1e-9);
        ticker.advance(Duration.ofSeconds(10));
        assertEquals(3.0, l.tokens(), 1e-9);
    }

    @Test
    void refusedRequestLeavesStateUnchanged() {
        RateLimiter l = limiter(10, 3);
        assertTrue(l.tryAcquire(2));
        double before = l.tokens();
        assertFalse(l.tryAcquire(2));
        assertFalse(l.tryAcquire(4));
        assertEquals(before, l.tokens());
        assertTrue(l.tryAcquire(1));
    }

    @Test
    void moreThanBurstIsNeverGranted() {
        RateLimiter l = limiter(1000, 5);
        ticker.advance(Duration.ofHours(1));
        assertFalse(l.tryAcquire(6));
        assertTrue(l.tryAcquire(5));
    }

    @Test
    void burstZeroRefusesEverythingAtAFiniteRate() {
        RateLimiter l = limiter(1000, 0);
        ticker.advance(Duration.ofHours(1));
        assertFalse(l.tryAcquire());
        assertFalse(l.reserve(1).isOk());
        assertEquals(0.0, l.tokens());
    }

    @Test
    void infiniteRateIgnoresBurst() {
        RateLimiter l = limiter(Double.POSITIVE_INFINITY, 0);
        for (int i = 0; i < 1000; i++) {
            assertTrue(l.tryAcquire(1_000_000));
        }
        assertEquals(Double.POSITIVE_INFINITY, l.tokens());
        assertEquals(Double.POSITIVE_INFINITY, l.rate());
        RateLimiter.Reservation r = l.reserve(5);
        assertTrue(r.isOk());
        assertEquals(0L, r.delayNanos());
    }

    @Test
    void timeGoingBackwardsAddsNothing() {
        RateLimiter l = limiter(10, 2);
        assertTrue(l.tryAcquire(2));
        ticker.set(ticker.read() - Duration.ofSeconds(5).toNanos());
        assertFalse(l.tryAcquire(), "going back adds no permit");
        assertTrue(l.tokens() <= 0.0);
        ticker.set(ticker.read() + Duration.ofSeconds(5).toNanos() + 100 * MS);
        assertTrue(l.tryAcquire());
        assertFalse(l.tryAcquire());
    }

    @Test
    void intervalForm() {
        RateLimiter l = RateLimiter.builder("every-250ms").interval(Duration.ofMillis(250)).ticker(ticker).build();
        assertEquals(4.0, l.rate(), 1e-9);
        assertEquals(1, l.burst(), "burst defaults to 1");
        assertTrue(l.tryAcquire());
        ticker.advance(249 * MS);
        assertFalse(l.tryAcquire());
        ticker.advance(MS);
        assertTrue(l.tryAcquire());
    }

    @Test
    void reserveReportsTheDelayAndMakesTokensNegative() {
        RateLimiter l = limiter(10, 2);
        RateLimiter.Reservation now = l.reserve(2);
        assertTrue(now.isOk());
        assertEquals(0L, now.delayNanos());
        RateLimiter.Reservation later = l.reserve(1);
        assertEquals(100 * MS, later.delayNanos());
        assertEquals(Duration.ofMillis(100), later.delay());
        assertEquals(-1.0, l.tokens(), 1e-9);
        RateLimiter.Reservation evenLater = l.reserve(2);
        assertEquals(300 * MS, evenLater.delayNanos());
        assertFalse(l.reserve(3).isOk(), "more than the burst can never be reserved");
        assertEquals(-3.0, l.tokens(), 1e-9, "a refused reservation changed nothing");
    }

    @Test
    void cancellingTheLastReservationReturnsAllItsTokens() {
        RateLimiter l = limiter(10, 2);
        assertTrue(l.tryAcquire(2));
        RateLimiter.Reservation r = l.reserve(2);
        assertEquals(200 * MS, r.delayNanos());
        r.cancel();
        assertEquals(0.0, l.tokens(), 1e-9);
        ticker.advance(100 * MS);
        assertTrue(l.tryAcquire());
    }

    @Test
    void cancellingReturnsOnlyTokensNobodyReservedAfter() {
        RateLimiter l = limiter(10, 3);
        assertTrue(l.tryAcquire(3));
        RateLimiter.Reservation first = l.reserve(2);
        RateLimiter.Reservation second = l.reserve(1);
        assertEquals(300 * MS, second.delayNanos());
        first.cancel();
        assertEquals(-2.0, l.tokens(), 1e-9, "1 token was reserved after: only 1 of 2 comes back");
        second.cancel();
        assertEquals(-1.0, l.tokens(), 1e-9);
    }

    @Test
    void cancellingAfterTheTimeToActDoesNothing() {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        RateLimiter.Reservation r = l.reserve(1);
        ticker.advance(100 * MS + 1);
        r.cancel();
        assertFalse(l.tryAcquire(), "the reservation's token was used");
    }

    @Test
    void cancellingExactlyAtTheTimeToActStillGivesBack() {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        RateLimiter.Reservation r = l.reserve(1);
        ticker.advance(100 * MS);
        r.cancel(); // Go refuses only when the time to act is strictly before now
        assertTrue(l.tryAcquire(), "the reservation's token came back");
    }

    @Test
    void acquireWaitsForTheTickerAndThenGrants() throws Exception {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            try {
                l.acquire();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, pool);
        awaitTokens(l, -1.0);
        ticker.advance(99 * MS);
        assertFalse(done.isDone());
        ticker.advance(MS);
        done.get(10, TimeUnit.SECONDS);
        assertEquals(0.0, l.tokens(), 1e-9);
    }

    @Test
    void acquireFailsAtOnceWhenPermitsExceedBurst() {
        RateLimiter l = limiter(10, 2);
        RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, () -> l.acquire(3));
        assertEquals(RequestNotPermittedException.Reason.EXCEEDS_BURST, e.reason());
        assertEquals("test", e.guard());
        assertEquals(2.0, l.tokens());
        assertEquals(0, e.getStackTrace().length, "rejections carry no stack trace");
    }

    @Test
    void acquireFailsAtOnceWhenTheContextIsDone() {
        RateLimiter l = limiter(10, 2);
        CancelHandle h = Context.background().withCancel();
        h.cancel();
        try (Scope s = h.attach()) {
            assertThrows(ContextCancelledException.class, () -> l.acquire());
        }
        assertEquals(2.0, l.tokens());
    }

    @Test
    void acquireFailsAtOnceWithoutConsumingWhenTheWaitWouldPassTheDeadline() throws Exception {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(100), ticker);
             Scope s = h.attach()) {
            RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, () -> l.acquire());
            assertEquals(RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE, e.reason());
        }
        assertEquals(0.0, l.tokens(), 1e-9, "nothing consumed");
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(101), ticker);
             Scope s = h.attach()) {
            CompletableFuture<Void> done = CompletableFuture.runAsync(
                    Context.current().wrap(() -> {
                        try {
                            l.acquire();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    }), pool);
            awaitTokens(l, -1.0);
            ticker.advance(100 * MS);
            done.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void cancellationDuringTheWaitGivesTheReservationBack() throws Exception {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        CancelHandle h = Context.background().withCancel();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        pool.execute(h.context().wrap(() -> {
            try {
                l.acquire();
                failure.complete(null);
            } catch (Throwable e) {
                failure.complete(e);
            }
        }));
        awaitTokens(l, -1.0);
        h.cancel();
        assertInstanceOf(ContextCancelledException.class, failure.get(10, TimeUnit.SECONDS));
        assertEquals(0.0, l.tokens(), 1e-9, "the reserved token came back");
        ticker.advance(100 * MS);
        assertTrue(l.tryAcquire());
    }

    @Test
    void interruptDuringTheWaitGivesTheReservationBack() throws Exception {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        AtomicReference<Thread> waiter = new AtomicReference<>();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        pool.execute(() -> {
            waiter.set(Thread.currentThread());
            try {
                l.acquire();
                failure.complete(null);
            } catch (Throwable e) {
                failure.complete(e);
            }
        });
        awaitTokens(l, -1.0);
        waiter.get().interrupt();
        assertInstanceOf(InterruptedException.class, failure.get(10, TimeUnit.SECONDS));
        assertEquals(0.0, l.tokens(), 1e-9);
    }

    @Test
    void callAndRunAcquireFirst() throws Exception {
        RateLimiter l = limiter(10, 1);
        assertEquals("x", l.call(() -> "x"));
        assertEquals(0.0, l.tokens(), 1e-9);
        IllegalStateException own = new IllegalStateException("own");
        ticker.advance(100 * MS);
        assertSame(own, assertThrows(IllegalStateException.class, () -> l.call(() -> {
            throw own;
        })), "the task's exception comes out unchanged");
        ticker.advance(100 * MS);
        AtomicInteger ran = new AtomicInteger();
        l.run(ran::incrementAndGet);
        assertEquals(1, ran.get());
    }

    @Test
    void callAsyncWaitsWithoutAThread() throws Exception {
        RateLimiter l = limiter(10, 1);
        CompletionStage<String> now = l.callAsync(() -> CompletableFuture.completedFuture("now"));
        assertEquals("now", now.toCompletableFuture().get());
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CompletableFuture<String> later = l.callAsync(() -> {
            ranOn.set(Thread.currentThread());
            return CompletableFuture.completedFuture("later");
        }).toCompletableFuture();
        assertFalse(later.isDone());
        ticker.advance(100 * MS);
        assertEquals("later", later.get());
        assertSame(Thread.currentThread(), ranOn.get(), "a manual ticker runs it on the advancing thread");
    }

    @Test
    void callAsyncRespectsTheDeadlineAndCancellation() throws Exception {
        RateLimiter l = limiter(10, 1);
        assertTrue(l.tryAcquire());
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(50), ticker);
             Scope s = h.attach()) {
            CompletableFuture<String> f = l.<String>callAsync(() -> CompletableFuture.completedFuture("x"))
                    .toCompletableFuture();
            assertTrue(f.isCompletedExceptionally());
        }
        CancelHandle h = Context.background().withCancel();
        CompletableFuture<String> f;
        try (Scope s = h.attach()) {
            f = l.<String>callAsync(() -> CompletableFuture.completedFuture("x")).toCompletableFuture();
        }
        assertEquals(-1.0, l.tokens(), 1e-9);
        h.cancel();
        assertTrue(f.isCompletedExceptionally());
        assertEquals(0.0, l.tokens(), 1e-9, "given back");
        ticker.advance(Duration.ofSeconds(1));
    }

    @Test
    void setRateBringsTheBucketUpToDateFirst() {
        RateLimiter l = limiter(10, 5);
        assertTrue(l.tryAcquire(5));
        ticker.advance(200 * MS);
        l.setRate(1);
        assertEquals(2.0, l.tokens(), 1e-6, "the 2 permits accrued at 10/s are kept");
        assertTrue(l.tryAcquire(2));
        ticker.advance(999 * MS);
        assertFalse(l.tryAcquire());
        ticker.advance(MS);
        assertTrue(l.tryAcquire(), "then 1 per second");
        l.setRate(Duration.ofMillis(10));
        assertEquals(100.0, l.rate(), 1e-9);
    }

    @Test
    void setBurstKeepsTheTokensAvailableNow() {
        RateLimiter l = limiter(10, 3);
        l.setBurst(5);
        assertEquals(3.0, l.tokens(), 1e-9, "a bigger burst adds nothing now");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(5.0, l.tokens(), 1e-9);
        l.setBurst(2);
        assertEquals(2.0, l.tokens(), 1e-9, "a smaller burst caps");
        l.setBurst(0);
        assertFalse(l.tryAcquire());
        l.setRate(Double.POSITIVE_INFINITY);
        assertTrue(l.tryAcquire(100));
        l.setRate(10);
        l.setBurst(1);
        assertFalse(l.tryAcquire(), "burst 0 held no token, and setBurst adds none");
        ticker.advance(100 * MS);
        assertTrue(l.tryAcquire());
    }

    @Test
    void longFakeClockRunGrantsBurstPlusRateTimesElapsedWithinOnePermit() {
        RateLimiter l = limiter(37, 11);
        java.util.Random rnd = new java.util.Random(42);
        long start = ticker.read();
        long granted = 0;
        for (int step = 0; step < 200_000; step++) {
            ticker.advance(rnd.nextInt(3 * (int) MS));
            int n = 1 + rnd.nextInt(3);
            if (l.tryAcquire(n)) {
                granted += n;
            }
        }
        double elapsedSeconds = (ticker.read() - start) / 1e9;
        double allowed = 11 + 37 * elapsedSeconds;
        assertTrue(granted <= allowed + 1e-6, granted + " > " + allowed);
        assertTrue(granted >= allowed - 3, granted + " far below " + allowed + ": permits lost");
    }

    @Test
    void concurrentTryAcquireGrantsExactlyTheBurst() throws Exception {
        RateLimiter l = RateLimiter.builder("race").interval(Duration.ofDays(1)).burst(1000).build();
        int threads = 8;
        AtomicInteger granted = new AtomicInteger();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(threads);
        for (int t = 0; t < threads; t++) {
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < 10_000; i++) {
                    if (l.tryAcquire()) {
                        granted.incrementAndGet();
                    }
                }
            }, pool));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(30, TimeUnit.SECONDS);
        }
        assertEquals(1000, granted.get());
    }

    /**
     * Four threads racing on the real clock for 300 ms: the grants never exceed the burst plus the
     * rate times the time elapsed (a thread that lost a race retries with its older clock reading,
     * which can only make it stricter). No lower bound beyond the burst: a stalled machine may run
     * the threads for only part of the window.
     */
    @Test
    void fourRacingThreadsNeverGetMoreThanBurstPlusRateTimesElapsed() throws Exception {
        double rate = 20_000;
        int burst = 50;
        RateLimiter l = RateLimiter.builder("race").rate(rate).burst(burst).build();
        int threads = 4;
        AtomicInteger granted = new AtomicInteger();
        // the race ends 300 ms after all 4 threads are there (a slow pool start cannot leave them none)
        java.util.concurrent.atomic.AtomicLong raceStart = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong endRef = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(threads, () -> {
            raceStart.set(System.nanoTime()); // no permit taken yet: the bucket holds at most the burst
            endRef.set(raceStart.get() + TimeUnit.MILLISECONDS.toNanos(300));
        });
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                long end = endRef.get();
                while (System.nanoTime() < end) {
                    if (l.tryAcquire()) {
                        granted.incrementAndGet();
                    }
                }
            }, pool));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(30, TimeUnit.SECONDS);
        }
        double elapsedSeconds = (System.nanoTime() - raceStart.get()) / 1e9;
        double allowed = burst + rate * elapsedSeconds;
        assertTrue(granted.get() <= allowed, granted + " > " + allowed);
        assertTrue(granted.get() >= burst, granted + ": not even the burst was granted");
    }

    @Test
    void concurrentSetRateNeverLosesOrInventsPermits() throws Exception {
        RateLimiter l = RateLimiter.builder("race").interval(Duration.ofDays(1)).burst(500).build();
        AtomicInteger granted = new AtomicInteger();
        CompletableFuture<Void> takers = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 200_000; i++) {
                if (l.tryAcquire()) {
                    granted.incrementAndGet();
                }
            }
        }, pool);
        for (int i = 0; i < 2_000; i++) {
            l.setRate(Duration.ofDays(1 + i % 2));
        }
        takers.get(30, TimeUnit.SECONDS);
        assertTrue(granted.get() <= 501, "at most the burst (+1 for rounding across rate changes): " + granted.get());
        assertTrue(granted.get() >= 499, "the burst was granted: " + granted.get());
    }

    @Test
    void listenerSeesGrantsAndRejections() {
        List<String> events = new ArrayList<>();
        RateLimiter l = RateLimiter.builder("l").rate(10).burst(1).ticker(ticker).listener(new RateLimiterListener() {
            @Override
            public void onPermitted(RateLimiter limiter, int permits, long waitedNanos) {
                events.add("ok " + permits);
            }

            @Override
            public void onRejected(RateLimiter limiter, int permits, RequestNotPermittedException.Reason reason) {
                events.add("no " + permits + " " + reason);
            }
        }).build();
        l.tryAcquire();
        l.tryAcquire();
        l.tryAcquire(2);
        assertEquals(List.of("ok 1", "no 1 NO_PERMIT", "no 2 EXCEEDS_BURST"), events);
    }

    @Test
    void badArgumentsFailFast() {
        assertEquals("name", assertThrows(NullPointerException.class, () -> RateLimiter.builder(null)).getMessage());
        for (double bad : new double[] {-1, Double.NaN, Double.NEGATIVE_INFINITY, 2e9}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("x").rate(bad))
                    .getMessage().startsWith("permitsPerSecond"), "rate " + bad);
        }
        assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("x").interval(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("x").interval(Duration.ofNanos(-1)));
        assertEquals("interval",
                assertThrows(NullPointerException.class, () -> RateLimiter.builder("x").interval(null)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RateLimiter.builder("x").burst(-1))
                .getMessage().startsWith("burst"));
        assertThrows(IllegalArgumentException.class,
                () -> RateLimiter.builder("x").interval(Duration.ofDays(365 * 100)).burst(1000).build());
        assertThrows(IllegalStateException.class, () -> RateLimiter.builder("x").rate(1).rate(2));
        assertThrows(IllegalStateException.class, () -> RateLimiter.builder("x").burst(1).burst(2));
        assertThrows(IllegalStateException.class, () -> RateLimiter.builder("x").build());
        assertEquals("ticker",
                assertThrows(NullPointerException.class, () -> RateLimiter.builder("x").ticker(null)).getMessage());
        RateLimiter l = limiter(10, 1);
        assertThrows(IllegalArgumentException.class, () -> l.tryAcquire(-1));
        assertThrows(IllegalArgumentException.class, () -> l.reserve(-1));
        assertThrows(IllegalArgumentException.class, () -> l.acquire(-1));
        assertThrows(IllegalArgumentException.class, () -> l.reserve(1, Duration.ofNanos(-1)));
        assertThrows(IllegalArgumentException.class, () -> l.setRate(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> l.setBurst(-1));
        assertEquals("task", assertThrows(NullPointerException.class, () -> l.call(null)).getMessage());
        assertEquals("task", assertThrows(NullPointerException.class, () -> l.callAsync(null)).getMessage());
    }

    /** Waits (spinning, bounded) until another thread's reservation shows in the tokens. */
    private static void awaitTokens(RateLimiter l, double expected) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Math.abs(l.tokens() - expected) > 1e-9) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("tokens " + l.tokens() + ", expected " + expected);
            }
            Thread.onSpinWait();
        }
    }
}
