package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Ticker;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redis stopped, restarted, slowed and unreachable: callers get the failure mode's decision within
 * the backend's timeout, the breaker opens, and decisions come back to Redis once it is healthy. The
 * breaker runs on a manual ticker, so its open period ends when the test says so.
 */
class FailureModeTest {

    private static final Duration TIMEOUT = Duration.ofMillis(100);
    /** Slack over the timeout for scheduling on a loaded 2-core machine; far below any Redis stall here. */
    private static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(400);

    private RedisTests tests;
    private ManualTicker breakerTicker;
    private RedisBackend backend;

    @BeforeEach
    void start() throws InterruptedException {
        tests = new RedisTests();
        breakerTicker = new ManualTicker();
        backend = RedisBackend.builder().uri(tests.server.uri()).timeout(TIMEOUT)
                .circuitBreaker(CircuitBreaker.builder("redis").ticker(breakerTicker).openDuration(Duration.ofSeconds(5)).build())
                .build();
        assertTrue(backend.awaitConnection(Duration.ofSeconds(20)));
        warmUp();
    }

    /**
     * Each test gets a new server: load both scripts into it, and the client's classes into this JVM,
     * through a backend of its own with a 5 s timeout, so that the first timed call below does not pay
     * for them inside the 100 ms timeout (nor count a failure on the tested backend's breaker).
     */
    private void warmUp() {
        try (RedisBackend warm = tests.backend(Duration.ofSeconds(5))) {
            for (DistributedLimiter limiter : List.of(
                    DistributedRateLimiter.builder("warm", warm).rate(1000).burst(1000).build(),
                    DistributedQuota.builder("warm", warm).limit(1000).window(Duration.ofHours(1)).build())) {
                assertEquals(Decision.Source.REDIS, limiter.decide("warm", 1).source(), "the warm-up reached Redis");
            }
        }
    }

    @AfterEach
    void stop() {
        backend.close();
        tests.close();
    }

    private DistributedRateLimiter limiter(FailureMode mode, DistributedLimiterListener listener) {
        return limiter(mode, listener, Ticker.system());
    }

    /** Rate 100/s, burst 8; {@code ticker} times the local fallback limiters. */
    private DistributedRateLimiter limiter(FailureMode mode, DistributedLimiterListener listener, Ticker ticker) {
        return DistributedRateLimiter.builder(RedisTests.uniqueName("f"), backend).rate(100).burst(8)
                .failureMode(mode).listener(listener).ticker(ticker).build();
    }

    /** Decides and checks that the answer came within the timeout (plus scheduling slack). */
    private static Decision timed(DistributedLimiter limiter, String key) {
        long start = System.nanoTime();
        Decision d = limiter.decide(key, 1);
        long took = System.nanoTime() - start;
        assertTrue(took <= TIMEOUT.toNanos() + SLACK_NANOS, "decided in " + took / 1_000_000 + " ms: " + d);
        return d;
    }

    @Test
    void redisStoppedMidRunThenRestarted() {
        Recorder events = new Recorder();
        DistributedRateLimiter limiter = limiter(FailureMode.failOpen(), events);
        assertEquals(Decision.Source.REDIS, timed(limiter, "k").source());
        assertTrue(events.roundTrips.get() > 0);

        tests.server.stop();
        for (int i = 0; i < 6; i++) {
            Decision d = timed(limiter, "k");
            assertTrue(d.granted(), "fails open");
            assertEquals(Decision.Source.FAIL_OPEN, d.source());
            assertTrue(d.fallbackCause() == FallbackCause.REDIS_ERROR || d.fallbackCause() == FallbackCause.TIMEOUT,
                    d.toString());
        }
        assertEquals(CircuitBreaker.State.OPEN, backend.circuitBreaker().state(), "more than 5 failures in a row");
        Decision shortCircuited = timed(limiter, "k");
        assertEquals(FallbackCause.BREAKER_OPEN, shortCircuited.fallbackCause());
        assertTrue(events.causes.contains(FallbackCause.BREAKER_OPEN));

        tests.server.restart();
        // Half-open after the breaker's 5 s; the probe fails until Lettuce has reconnected, which
        // re-opens the breaker: keep moving its clock until a probe gets through.
        RedisTests.await(() -> {
            breakerTicker.advance(Duration.ofSeconds(5));
            return limiter.decide("k", 1).source() == Decision.Source.REDIS;
        }, "Redis decides again");
        assertEquals(CircuitBreaker.State.CLOSED, backend.circuitBreaker().state());
        assertEquals(Decision.Source.REDIS, timed(limiter, "k").source());
    }

    @Test
    void underLoadRedisStopsAndRestartsAndEveryCallIsAnsweredInTime() throws Exception {
        DistributedRateLimiter limiter = limiter(FailureMode.local(1), DistributedLimiterListener.NOOP);
        java.util.Map<Decision.Source, AtomicLong> bySource = new java.util.concurrent.ConcurrentHashMap<>();
        for (Decision.Source source : Decision.Source.values()) {
            bySource.put(source, new AtomicLong());
        }
        AtomicLong slowest = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> callers = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String key = "tenant-" + i;
            Thread t = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        long start = System.nanoTime();
                        Decision d = limiter.decide(key, 1);
                        slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                        bySource.get(d.source()).incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "caller-" + i);
            t.start();
            callers.add(t);
        }
        AtomicLong fromRedis = bySource.get(Decision.Source.REDIS);
        AtomicLong local = bySource.get(Decision.Source.LOCAL);
        RedisTests.await(() -> fromRedis.get() > 100, "Redis decides");
        tests.server.stop();
        RedisTests.await(() -> local.get() > 100, "the local limiters decide");
        assertEquals(CircuitBreaker.State.OPEN, backend.circuitBreaker().state());
        tests.server.restart();
        long beforeRecovery = fromRedis.get();
        RedisTests.await(() -> {
            breakerTicker.advance(Duration.ofSeconds(5));
            return fromRedis.get() > beforeRecovery + 100;
        }, "Redis decides again");
        stop.set(true);
        for (Thread t : callers) {
            t.join(10_000);
        }
        assertNull(failure.get(), "no call threw");
        assertTrue(slowest.get() <= TIMEOUT.toNanos() + SLACK_NANOS, "slowest call " + slowest.get() / 1_000_000 + " ms");
        assertEquals(0, bySource.get(Decision.Source.FAIL_OPEN).get() + bySource.get(Decision.Source.FAIL_CLOSED).get());
    }

    @Test
    void aServerThatLostItsScriptsStillDecidesInTime() {
        // A failover or a restart empties Redis' script cache: EVALSHA answers NOSCRIPT and the backend
        // sends the script itself, both round trips within the one timeout, counted as no failure.
        DistributedRateLimiter limiter = limiter(FailureMode.failClosed(), DistributedLimiterListener.NOOP);
        DistributedQuota quota = DistributedQuota.builder(RedisTests.uniqueName("q"), backend).limit(10)
                .window(Duration.ofHours(1)).failureMode(FailureMode.failClosed()).build();
        for (DistributedLimiter l : List.of(limiter, quota)) {
            assertEquals(Decision.Source.REDIS, timed(l, "k").source());
            assertEquals("OK", tests.redis().scriptFlush());
            Decision d = timed(l, "k");
            assertEquals(Decision.Source.REDIS, d.source(), d.toString());
            assertTrue(d.granted(), d.toString());
        }
        assertEquals(CircuitBreaker.State.CLOSED, backend.circuitBreaker().state());
        assertEquals(0, backend.circuitBreaker().counts().totalFailures(), "NOSCRIPT is not a failure");
    }

    @Test
    void redisSlowedByDebugSleep() {
        DistributedRateLimiter limiter = limiter(FailureMode.failClosed(), DistributedLimiterListener.NOOP);
        assertEquals(Decision.Source.REDIS, timed(limiter, "k").source());
        tests.server.sleep(3);
        for (int i = 0; i < 6; i++) {
            Decision d = timed(limiter, "k");
            assertFalse(d.granted(), "fails closed");
            assertEquals(Decision.Source.FAIL_CLOSED, d.source());
            assertEquals(FallbackCause.TIMEOUT, d.fallbackCause());
            assertEquals(RequestNotPermittedException.Reason.NO_PERMIT, d.reason());
        }
        assertEquals(CircuitBreaker.State.OPEN, backend.circuitBreaker().state());
        assertEquals(FallbackCause.BREAKER_OPEN, timed(limiter, "k").fallbackCause());
        RequestNotPermittedException e = assertThrows(RequestNotPermittedException.class, () -> limiter.acquire("k", 1));
        assertEquals(RequestNotPermittedException.Reason.NO_PERMIT, e.reason());

        // The test's own connection answers once the server wakes up.
        assertEquals("PONG", tests.redis().ping());
        breakerTicker.advance(Duration.ofSeconds(5));
        assertEquals(Decision.Source.REDIS, timed(limiter, "k").source());
        assertEquals(CircuitBreaker.State.CLOSED, backend.circuitBreaker().state());
    }

    @Test
    void aDeadlineNearerThanTheTimeoutEndsTheWaitForRedis() throws Exception {
        ManualTicker contextTicker = new ManualTicker();
        try (RedisBackend patient = RedisBackend.builder().uri(tests.server.uri()).timeout(Duration.ofSeconds(30))
                .build()) {
            assertTrue(patient.awaitConnection(Duration.ofSeconds(20)));
            DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("d"), patient)
                    .rate(100).burst(1).build();
            assertTrue(limiter.tryAcquire("k"));
            tests.server.sleep(5);
            CancelHandle deadline = Context.background().withTimeout(Duration.ofMillis(50), contextTicker);
            RedisTests.Acquirer caller = RedisTests.acquireInThread(limiter, "k", deadline.context());
            RedisTests.await(() -> caller.thread().getState() == Thread.State.WAITING, "the caller waits for Redis");
            contextTicker.advance(Duration.ofMillis(50));
            caller.thread().join(3_000);
            assertFalse(caller.thread().isAlive(), "the deadline ended the wait while Redis still slept");
            Throwable failure = caller.failure().get();
            assertTrue(failure instanceof DeadlineExceededException, String.valueOf(failure));
            deadline.close();
        }
    }

    @Test
    void localFallbackEnforcesTheInstancesShare() {
        // the local limiters on a manual clock: on the real one, a stall of 40 ms between the first and
        // the third decision would refill a permit and the third would be granted
        DistributedRateLimiter limiter = limiter(FailureMode.local(4), DistributedLimiterListener.NOOP, new ManualTicker());
        DistributedQuota quota = DistributedQuota.builder(RedisTests.uniqueName("q"), backend).limit(4)
                .window(Duration.ofHours(1)).failureMode(FailureMode.local(2)).ticker(new ManualTicker()).build();
        tests.server.stop();
        // Burst 8 over 4 instances: 2 each (the local limiter refills at 25/s; its clock does not move here).
        Decision first = timed(limiter, "k");
        assertEquals(Decision.Source.LOCAL, first.source());
        assertTrue(first.granted());
        assertTrue(timed(limiter, "k").granted());
        Decision third = timed(limiter, "k");
        assertFalse(third.granted());
        assertEquals(Decision.Source.LOCAL, third.source());
        assertTrue(third.delayNanos() > 0 && third.delayNanos() <= 40_000_000L, third.toString());
        assertTrue(timed(limiter, "other").granted(), "per key");
        assertEquals(2, limiter.localLimiters());
        // Quota 4 over 2 instances: 2 per window.
        assertTrue(timed(quota, "t").granted());
        assertTrue(timed(quota, "t").granted());
        Decision spent = timed(quota, "t");
        assertFalse(spent.granted());
        assertEquals(Decision.Source.LOCAL, spent.source());
    }

    @Test
    void unreachableAtStartTheServiceStillStarts() throws InterruptedException {
        int port = tests.server.port();
        tests.server.stop();
        try (RedisBackend down = RedisBackend.builder().uri("redis://127.0.0.1:" + port).timeout(TIMEOUT).build()) {
            DistributedRateLimiter limiter = DistributedRateLimiter.builder("down", down).rate(1).burst(1)
                    .failureMode(FailureMode.failOpen()).build();
            assertFalse(down.awaitConnection(Duration.ofMillis(300)));
            Decision d = timed(limiter, "k");
            assertTrue(d.granted());
            assertEquals(Decision.Source.FAIL_OPEN, d.source());
            assertNotNull(d.fallbackCause());
            tests.server.restart();
            RedisTests.await(() -> limiter.decide("k", 1).source() == Decision.Source.REDIS,
                    "connects once Redis is up (the default breaker is still closed after one failure)");
        }
    }

    @Test
    void aClosedBackendFallsBackAndDoesNotReconnect() {
        DistributedRateLimiter limiter = limiter(FailureMode.failOpen(), DistributedLimiterListener.NOOP);
        assertEquals(Decision.Source.REDIS, timed(limiter, "k").source());
        backend.close();
        backend.close();
        Decision d = timed(limiter, "k");
        assertEquals(Decision.Source.FAIL_OPEN, d.source());
        assertEquals(FallbackCause.REDIS_ERROR, d.fallbackCause());
        assertEquals(0, tests.redis().clientList().lines().filter(l -> !l.contains("cmd=client")).count(),
                "no connection left but the test's own: " + tests.redis().clientList());
    }

    @Test
    void asyncDecisionsNeverFailForRedisTrouble() {
        DistributedRateLimiter limiter = limiter(FailureMode.failClosed(), DistributedLimiterListener.NOOP);
        assertTrue(limiter.decideAsync("k", 1).join().granted());
        tests.server.stop();
        Decision d = limiter.decideAsync("k", 1).orTimeout(TIMEOUT.toNanos() + SLACK_NANOS, TimeUnit.NANOSECONDS).join();
        assertEquals(Decision.Source.FAIL_CLOSED, d.source());
        assertNotEquals(FallbackCause.BREAKER_OPEN, d.fallbackCause(), "one failure leaves the breaker closed");
    }

    @Test
    void listenerSeesDecisionsFallbacksAndRoundTrips() {
        Recorder events = new Recorder();
        DistributedRateLimiter limiter = limiter(FailureMode.local(1), events);
        limiter.decide("k", 1);
        assertEquals(List.of(Decision.Source.REDIS), events.sources);
        assertEquals(1, events.roundTrips.get());
        tests.server.stop();
        limiter.decide("k", 1);
        assertEquals(List.of(Decision.Source.REDIS, Decision.Source.LOCAL), events.sources);
        assertEquals(1, events.causes.size());
        assertEquals(1, events.errors.size(), "the failure is passed on");
    }

    /** Records what a listener is told. */
    static final class Recorder implements DistributedLimiterListener {
        final List<Decision.Source> sources = new CopyOnWriteArrayList<>();
        final List<FallbackCause> causes = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final AtomicLong roundTrips = new AtomicLong();

        @Override
        public void onDecision(DistributedLimiter limiter, String key, Decision decision) {
            sources.add(decision.source());
        }

        @Override
        public void onFallback(DistributedLimiter limiter, FallbackCause cause, Throwable error) {
            causes.add(cause);
            if (error != null) {
                errors.add(error);
            }
        }

        @Override
        public void onRoundTrip(DistributedLimiter limiter, long nanos) {
            assertTrue(nanos > 0);
            roundTrips.incrementAndGet();
        }
    }
}
