package dev.resilience.core;

import static dev.resilience.core.CircuitBreakerTest.fail;
import static dev.resilience.core.CircuitBreakerTest.succeed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.ManualTicker;
import dev.resilience.core.CircuitBreaker.State;
import java.io.IOException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Changing a live breaker's thresholds, open duration and half-open probes: each change takes effect
 * at the next decision that reads it, keeps the state and counts, and never mixes with a concurrent
 * opening or admission into a state no setting describes.
 */
class CircuitBreakerReloadTest {

    private static final IOException BOOM = new IOException("boom");

    private final ManualTicker ticker = new ManualTicker(7);

    private CircuitBreaker.Builder builder() {
        return CircuitBreaker.builder("cb").ticker(ticker);
    }

    @Test
    void aLowerFailureRateThresholdDecidesTheNextFailure() {
        CircuitBreaker cb = builder().failureRateThreshold(80, 4).countWindow(10).build();
        succeed(cb, 2);
        fail(cb, 2);
        assertEquals(State.CLOSED, cb.state(), "2 of 4 failed, under 80 %");
        cb.setFailureRateThreshold(50);
        assertEquals(State.CLOSED, cb.state(), "a change alone decides nothing: the next failure does");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "3 of 5 failed, over the new 50 %");
    }

    @Test
    void aHigherFailureRateThresholdKeepsTheBreakerClosedWhereTheOldOneOpened() {
        CircuitBreaker cb = builder().failureRateThreshold(50, 4).countWindow(10).build();
        succeed(cb, 2);
        fail(cb, 1);
        cb.setFailureRateThreshold(90);
        fail(cb, 2);
        assertEquals(State.CLOSED, cb.state(), "3 of 5 failed: over the old 50 %, under the new 90 %");
    }

    @Test
    void aSmallerMinimumOfCallsLetsTheRateDecideSooner() {
        CircuitBreaker cb = builder().failureRateThreshold(50, 10)
                .timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(1)).build();
        fail(cb, 3);
        assertEquals(State.CLOSED, cb.state(), "3 calls, fewer than 10");
        cb.setMinimumCalls(4);
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "4 calls, all failed");
    }

    @Test
    void aSlowCallThresholdAndDurationChangeTogether() {
        CircuitBreaker cb = builder().slowCallRateThreshold(100, Duration.ofMillis(500), 2).countWindow(4).build();
        Permit a = cb.tryAcquire();
        Permit b = cb.tryAcquire();
        ticker.advance(Duration.ofMillis(300));
        a.onSuccess();
        assertEquals(State.CLOSED, cb.state(), "300 ms is not slow at 500 ms");
        cb.setSlowCallRateThreshold(50, Duration.ofMillis(200));
        b.onSuccess(); // in flight during the change: judged by the duration in force when it ends
        assertEquals(State.OPEN, cb.state(), "a call in flight is judged by the duration at its end: 1 of 2 slow");
    }

    @Test
    void aNewOpenDurationAppliesFromTheNextOpening() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(60)).build();
        fail(cb, 6);
        cb.setOpenDuration(Duration.ofSeconds(5));
        ticker.advance(Duration.ofSeconds(59));
        assertEquals(State.OPEN, cb.state(), "open now: keeps the expiry it has");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(State.HALF_OPEN, cb.state());
        fail(cb, 1);
        ticker.advance(Duration.ofMillis(4_999));
        assertEquals(State.OPEN, cb.state());
        ticker.advance(Duration.ofMillis(1));
        assertEquals(State.HALF_OPEN, cb.state(), "opened again: for the new 5 s");
        Permit probe = cb.tryAcquire();
        assertTrue(probe.isPermitted());
        ticker.advance(Duration.ofSeconds(5));
        assertEquals(State.OPEN, cb.state(), "the half-open timeout follows the open duration when not set");
        probe.release();
    }

    @Test
    void aSetHalfOpenTimeoutStaysAndTheBackoffCapIsRaisedToANewLongerOpenDuration() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).openBackoff(2.0, Duration.ofSeconds(3))
                .halfOpenTimeout(Duration.ofSeconds(2)).build();
        cb.setOpenDuration(Duration.ofSeconds(10));
        fail(cb, 6);
        ticker.advance(Duration.ofMillis(9_999));
        assertEquals(State.OPEN, cb.state(), "10 s, above the backoff's 3 s cap, which rose to it");
        ticker.advance(Duration.ofMillis(1));
        assertEquals(State.HALF_OPEN, cb.state());
        assertTrue(cb.tryAcquire().isPermitted()); // a probe that never reports
        ticker.advance(Duration.ofSeconds(2));
        assertEquals(State.OPEN, cb.state(), "the half-open timeout set at build stays 2 s");
        ticker.advance(Duration.ofMillis(9_999));
        assertEquals(State.OPEN, cb.state(), "second trip: 10 s x 2 capped at the raised 10 s");
        ticker.advance(Duration.ofMillis(1));
        assertEquals(State.HALF_OPEN, cb.state());
    }

    @Test
    void moreHalfOpenProbesAreAdmittedAndNeededToClose() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit first = cb.tryAcquire();
        assertTrue(first.isPermitted());
        assertFalse(cb.tryAcquire().isPermitted(), "one probe by default");
        cb.setMaxRequests(3);
        Permit second = cb.tryAcquire();
        Permit third = cb.tryAcquire();
        assertTrue(second.isPermitted() && third.isPermitted(), "three probes now");
        assertFalse(cb.tryAcquire().isPermitted());
        first.onSuccess();
        second.onSuccess();
        assertEquals(State.HALF_OPEN, cb.state(), "two successes of the three now needed");
        third.onSuccess();
        assertEquals(State.CLOSED, cb.state());
    }

    @Test
    void fewerProbesThanHaveAlreadySucceededCloseTheBreakerAtOnce() {
        List<String> heard = new CopyOnWriteArrayList<>();
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).maxRequests(3)
                .listener(new CircuitBreakerListener() {
                    @Override
                    public void onStateChange(CircuitBreaker b, State from, State to) {
                        heard.add(from + "->" + to);
                    }
                }).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit a = cb.tryAcquire();
        Permit b = cb.tryAcquire();
        Permit c = cb.tryAcquire();
        a.onSuccess();
        b.onSuccess();
        assertEquals(State.HALF_OPEN, cb.state(), "2 of 3");
        cb.setMaxRequests(2);
        assertEquals(State.CLOSED, cb.state(), "two probes succeeded: enough under the new limit");
        c.onFailure(BOOM);
        assertEquals(State.CLOSED, cb.state(), "a probe of the half-open generation no longer counts");
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED"), heard, "told once");
    }

    @Test
    void aHalfOpenBreakerWhoseTimeIsUpReopensInsteadOfClosingOnALowerMaxRequests() {
        CircuitBreaker cb = builder().openDuration(Duration.ofSeconds(1)).openBackoff(2.0, Duration.ofSeconds(60))
                .halfOpenTimeout(Duration.ofSeconds(2)).maxRequests(3).build();
        fail(cb, 6);
        ticker.advance(Duration.ofSeconds(1));
        Permit a = cb.tryAcquire();
        Permit b = cb.tryAcquire();
        a.onSuccess();
        b.onSuccess();
        ticker.advance(Duration.ofSeconds(2)); // the half-open timeout passes with nobody asking
        cb.setMaxRequests(2);
        assertEquals(State.OPEN, cb.state(), "its probes ran out of time: it re-opens as any other path would have it");
        ticker.advance(Duration.ofMillis(1_999));
        assertEquals(State.OPEN, cb.state(), "second trip: 1 s x 2, the backoff history kept");
        ticker.advance(Duration.ofMillis(1));
        assertEquals(State.HALF_OPEN, cb.state());
    }

    @Test
    void theRunOfFailuresThatTripsChangesLiveAndZeroMeansNone() {
        CircuitBreaker cb = builder().build(); // gobreaker's default: more than 5 in a row
        fail(cb, 2);
        cb.setConsecutiveFailures(3);
        assertEquals(State.CLOSED, cb.state(), "a change alone decides nothing");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "the third in a row, under the new 3");

        CircuitBreaker raised = builder().consecutiveFailures(2).build();
        raised.setConsecutiveFailures(5);
        fail(raised, 4);
        assertEquals(State.CLOSED, raised.state(), "4 in a row: over the old 2, under the new 5");
        succeed(raised, 1);
        fail(raised, 4);
        assertEquals(State.CLOSED, raised.state(), "a success ends the run");
        fail(raised, 1);
        assertEquals(State.OPEN, raised.state());

        CircuitBreaker never = builder().consecutiveFailures(3).build();
        never.setConsecutiveFailures(0);
        fail(never, 100);
        assertEquals(State.CLOSED, never.state(), "0: no run of failures trips it");
    }

    @Test
    void aRunOfFailuresBesideARateThresholdEitherTrips() {
        CircuitBreaker cb = builder().failureRateThreshold(90, 10).countWindow(20).build();
        fail(cb, 5);
        assertEquals(State.CLOSED, cb.state(), "5 calls: under the minimum of 10, and no run of failures by default");
        cb.setConsecutiveFailures(6);
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "the sixth in a row trips it, gained live");
        CircuitBreaker both = builder().failureRateThreshold(50, 4).countWindow(10).consecutiveFailures(3).build();
        succeed(both, 2);
        fail(both, 2);
        assertEquals(State.OPEN, both.state(), "2 of 4 failed: the rate trips it before the run of 3");
        CircuitBreaker run = builder().failureRateThreshold(50, 100).countWindow(100).consecutiveFailures(3).build();
        fail(run, 2);
        assertEquals(State.CLOSED, run.state(), "2 calls: under the minimum of 100, and a run of 2");
        fail(run, 1);
        assertEquals(State.OPEN, run.state(), "the run of 3 given at build trips it beside the rate");
    }

    @Test
    void aBuilderBuiltTwiceKeepsNoDefaultRunOfFailures() {
        CircuitBreaker.Builder b = builder();
        b.build(); // its default run of 6 is not written back into the builder
        CircuitBreaker predicate = b.readyToTrip(c -> c.consecutiveFailures() >= 2).build();
        fail(predicate, 2);
        assertEquals(State.OPEN, predicate.state());
    }

    @Test
    void theRunOfFailuresRefusesBadValuesAndAPredicate() {
        CircuitBreaker predicate = builder().readyToTrip(c -> c.consecutiveFailures() >= 2).build();
        IllegalStateException own = assertThrows(IllegalStateException.class, () -> predicate.setConsecutiveFailures(3));
        assertTrue(own.getMessage().contains("cb") && own.getMessage().contains("readyToTrip"), own.getMessage());
        fail(predicate, 2);
        assertEquals(State.OPEN, predicate.state(), "the predicate still decides");
        CircuitBreaker cb = builder().build();
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> cb.setConsecutiveFailures(-1));
        assertTrue(negative.getMessage().contains("consecutiveFailures"), negative.getMessage());
        fail(cb, 5);
        assertEquals(State.CLOSED, cb.state(), "the refused change changed nothing");
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state());
        assertThrows(IllegalArgumentException.class, () -> builder().consecutiveFailures(-1));
        assertThrows(IllegalStateException.class, () -> builder().consecutiveFailures(1).consecutiveFailures(2));
        IllegalStateException both = assertThrows(IllegalStateException.class,
                () -> builder().consecutiveFailures(2).readyToTrip(c -> true).build());
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
    }

    @Test
    void badValuesFailNamingTheParameterAndChangeNothing() {
        CircuitBreaker cb = builder().failureRateThreshold(50, 2).countWindow(4).build();
        for (double bad : new double[] {0, -0.0, 100.5, CircuitBreaker.RATE_OFF, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException rate = assertThrows(IllegalArgumentException.class,
                    () -> cb.setFailureRateThreshold(bad), "percent " + bad);
            assertTrue(rate.getMessage().contains("failureRateThreshold"), rate.getMessage());
        }
        IllegalArgumentException min = assertThrows(IllegalArgumentException.class, () -> cb.setMinimumCalls(0));
        assertTrue(min.getMessage().contains("minimumCalls"), min.getMessage());
        IllegalArgumentException max = assertThrows(IllegalArgumentException.class, () -> cb.setMaxRequests(0));
        assertTrue(max.getMessage().contains("maxRequests"), max.getMessage());
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class,
                () -> cb.setOpenDuration(Duration.ZERO));
        assertTrue(open.getMessage().contains("openDuration"), open.getMessage());
        assertThrows(NullPointerException.class, () -> cb.setOpenDuration(null));
        CircuitBreaker timed = builder().slowCallRateThreshold(50, Duration.ofMillis(100), 2).countWindow(4).build();
        assertThrows(NullPointerException.class, () -> timed.setSlowCallRateThreshold(50, null));
        IllegalArgumentException slower = assertThrows(IllegalArgumentException.class,
                () -> timed.setSlowCallRateThreshold(50, Duration.ofMillis(-1)));
        assertTrue(slower.getMessage().contains("slowerThan"), slower.getMessage());
        IllegalArgumentException slowRate = assertThrows(IllegalArgumentException.class,
                () -> timed.setSlowCallRateThreshold(101, Duration.ofMillis(100)));
        assertTrue(slowRate.getMessage().contains("slowCallRateThreshold"), slowRate.getMessage());
        IllegalArgumentException together = assertThrows(IllegalArgumentException.class,
                () -> timed.retune(new CircuitBreaker.Retuning(null, null, null, null, 40.0, null, null)));
        assertTrue(together.getMessage().contains("slowRate and slowerThan"), together.getMessage());
        IllegalArgumentException retuned = assertThrows(IllegalArgumentException.class,
                () -> timed.retune(new CircuitBreaker.Retuning(null, null, null, null, 140.0, Duration.ofMillis(5), null)));
        assertTrue(retuned.getMessage().contains("slowRate"), "names which rate: " + retuned.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cb.retune(new CircuitBreaker.Retuning(2, null, 0, 60.0,
                null, null, null)), "one bad value in a retuning");
        succeed(cb, 1);
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state(), "1 of 2 failed: the old 50 % over the old 2 calls still decide;"
                + " the retuning whose minimum was bad did not change the rate to 60 %");
        ticker.advance(Duration.ofSeconds(60)); // the default open duration: HALF_OPEN
        assertTrue(cb.tryAcquire().isPermitted());
        assertFalse(cb.tryAcquire().isPermitted(), "one probe: nor did it change maxRequests to 2");
    }

    @Test
    void aHugeOpenDurationSaturatesInsteadOfWrapping() {
        CircuitBreaker cb = builder().readyToTrip(c -> c.consecutiveFailures() >= 1)
                .openBackoff(2.0, Duration.ofSeconds(10)).build();
        cb.setOpenDuration(ChronoUnit.FOREVER.getDuration());
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state());
        ticker.advance(Duration.ofDays(365 * 100));
        assertEquals(State.OPEN, cb.state(), "a century later still open: the duration saturated, not wrapped");
        cb.setOpenDuration(Duration.ofSeconds(1));
        assertEquals(State.OPEN, cb.state(), "a breaker open now keeps its expiry");
    }

    /** A listener that holds the next failure's {@code onFailure} until told (a slow metrics listener, say). */
    private static final class HeldListener implements CircuitBreakerListener {
        final AtomicBoolean hold = new AtomicBoolean();
        final CountDownLatch inListener = new CountDownLatch(1);
        final CountDownLatch carryOn = new CountDownLatch(1);

        @Override
        public void onFailure(CircuitBreaker b, Throwable failure) {
            if (hold.getAndSet(false)) {
                inListener.countDown();
                try {
                    carryOn.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Fails one call on another thread, runs {@code change} while its listener is held, then lets it end. */
        void failAcross(CircuitBreaker cb, Runnable change) throws InterruptedException {
            hold.set(true);
            Thread failing = new Thread(() -> fail(cb, 1));
            failing.start();
            assertTrue(inListener.await(10, TimeUnit.SECONDS));
            change.run();
            carryOn.countDown();
            failing.join(10_000);
            assertFalse(failing.isAlive());
        }
    }

    @Test
    void aFailureWhoseListenerRanAcrossASetterIsJudgedByTheThresholdThatReturnedMeanwhile() throws Exception {
        HeldListener held = new HeldListener();
        CircuitBreaker cb = builder().failureRateThreshold(50, 4).countWindow(10).listener(held).build();
        succeed(cb, 3);
        fail(cb, 2);
        assertEquals(State.CLOSED, cb.state(), "2 of 5, under 50 %");
        held.failAcross(cb, () -> cb.setFailureRateThreshold(90)); // 3 of 6: the old 50 % would open it
        assertEquals(State.CLOSED, cb.state(), "judged after the setter returned: 50 % is under the new 90 %");
    }

    @Test
    void aTripWhoseListenerRanAcrossASetterOpensForTheDurationThatReturnedMeanwhile() throws Exception {
        HeldListener held = new HeldListener();
        CircuitBreaker cb = builder().failureRateThreshold(50, 4).countWindow(10).openDuration(Duration.ofSeconds(5))
                .listener(held).build();
        succeed(cb, 3);
        fail(cb, 2);
        held.failAcross(cb, () -> cb.setOpenDuration(Duration.ofSeconds(1))); // 3 of 6: opens
        assertEquals(State.OPEN, cb.state());
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(State.HALF_OPEN, cb.state(), "open for the 1 s set while its listener ran, not the old 5 s");
    }

    @Test
    void aBreakerWithoutTheWindowOrTheTimingRefusesTheSettersThatNeedThem() {
        CircuitBreaker plain = builder().build();
        IllegalStateException rate = assertThrows(IllegalStateException.class, () -> plain.setFailureRateThreshold(50));
        assertTrue(rate.getMessage().contains("cb") && rate.getMessage().contains("window"), rate.getMessage());
        assertThrows(IllegalStateException.class, () -> plain.setMinimumCalls(3));
        CircuitBreaker failureOnly = builder().failureRateThreshold(50, 2).countWindow(4).build();
        assertThrows(IllegalStateException.class,
                () -> failureOnly.setSlowCallRateThreshold(50, Duration.ofMillis(100)));
        CircuitBreaker slowOnly = builder().slowCallRateThreshold(50, Duration.ofMillis(100), 2).countWindow(4).build();
        slowOnly.setFailureRateThreshold(50); // the window is there: it gains a failure rate
        fail(slowOnly, 2);
        assertEquals(State.OPEN, slowOnly.state(), "2 of 2 failed");
    }

    @Test
    void settersRacingOutcomesKeepOneChainOfStates() throws Exception {
        List<State[]> chain = new CopyOnWriteArrayList<>();
        CircuitBreaker cb = CircuitBreaker.builder("race").ticker(ticker).failureRateThreshold(50, 4).countWindow(20)
                .openDuration(Duration.ofMillis(1)).listener(new CircuitBreakerListener() {
                    @Override
                    public void onStateChange(CircuitBreaker b, State from, State to) {
                        chain.add(new State[] {from, to});
                    }
                }).build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(3);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            threads.add(new Thread(() -> {
                started.countDown();
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try {
                    while (!stop.get()) {
                        Permit p = cb.tryAcquire();
                        if (p.isPermitted()) {
                            if (r.nextInt(3) == 0) {
                                p.onFailure(BOOM);
                            } else {
                                p.onSuccess();
                            }
                        }
                    }
                } catch (Throwable e) {
                    error.set(e);
                }
            }));
        }
        threads.add(new Thread(() -> {
            started.countDown();
            ThreadLocalRandom r = ThreadLocalRandom.current();
            try {
                while (!stop.get()) {
                    cb.setFailureRateThreshold(10 + r.nextInt(91));
                    cb.setMinimumCalls(1 + r.nextInt(20));
                    cb.setMaxRequests(1 + r.nextInt(4));
                    cb.setOpenDuration(Duration.ofNanos(1 + r.nextInt(3_000_000)));
                    ticker.advance(Duration.ofNanos(r.nextInt(2_000_000)));
                }
            } catch (Throwable e) {
                error.set(e);
            }
        }));
        threads.forEach(Thread::start);
        assertTrue(started.await(10, TimeUnit.SECONDS));
        // at least 500 ms of racing, and on until 3 transitions (at most 10 s on a stalled machine);
        // parked, not spinning: the racing threads need the cores
        long start = System.nanoTime();
        while (chain.size() < 2_000 && (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(500)
                || chain.size() < 3 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10))) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(10_000);
            assertFalse(t.isAlive(), "a thread did not stop");
        }
        assertEquals(null, error.get(), "no thread failed");
        assertTrue(chain.size() >= 3, "the race moved the breaker: " + chain.size() + " transitions");
        // Listeners may hear racing transitions out of order, but they are one chain from CLOSED to
        // the state now: every state is left as often as entered, but for the first and the last.
        State last = cb.state(); // first: it may make a transition that was due
        Map<State, Integer> balance = new EnumMap<>(State.class);
        for (State[] t : chain) {
            balance.merge(t[0], -1, Integer::sum);
            balance.merge(t[1], 1, Integer::sum);
        }
        for (State s : State.values()) {
            int expected = (s == last ? 1 : 0) - (s == State.CLOSED ? 1 : 0);
            assertEquals(expected, balance.getOrDefault(s, 0), s + " entered and left: " + balance);
        }
        // Nor did the race wedge it: with one probe and time passing, a success closes it from whatever
        // state it was left in (every permit of the racing threads has ended): a half-open breaker whose
        // time is up re-opens, an open one whose time is up admits a probe.
        cb.setMaxRequests(1);
        int refused = 0;
        for (int i = 0; i < 3 && cb.state() != State.CLOSED; i++) {
            ticker.advance(Duration.ofMillis(5)); // past any open or half-open time the setter chose (at most 3 ms)
            Permit p = cb.tryAcquire();
            if (p.isPermitted()) {
                p.onSuccess();
            } else {
                refused++;
            }
        }
        assertEquals(State.CLOSED, cb.state());
        assertTrue(refused <= 1, "refused only by a half-open breaker whose time was up: " + refused);
        // Whatever the race left, the settings in force decide from here: a breaker closed anew with
        // a threshold of 100 % over at least 2 calls opens at exactly its second failure in a row.
        cb.setFailureRateThreshold(100);
        cb.setMinimumCalls(2);
        cb.reset();
        fail(cb, 1);
        assertEquals(State.CLOSED, cb.state());
        fail(cb, 1);
        assertEquals(State.OPEN, cb.state());
    }
}
