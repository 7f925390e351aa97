package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Go {@code context} behaviours, one test each, at exact times on a manual ticker. */
class ContextSemanticsTest {

    private static final Context.Key<String> USER = Context.Key.named("user");
    private static final Context.Key<Integer> LIMIT = Context.Key.withDefault("limit", 7);

    private final ManualTicker ticker = new ManualTicker(1_000L);

    @Test
    void backgroundIsNeverDoneAndHasNoDeadline() {
        Context bg = Context.background();
        assertFalse(bg.isDone());
        assertNull(bg.err());
        assertNull(bg.cause());
        assertEquals(Optional.empty(), bg.deadline());
        assertEquals(Optional.empty(), bg.remaining());
        assertEquals(Long.MAX_VALUE, bg.remainingNanos());
        bg.throwIfDone();
        assertSame(bg, Context.current(), "background is current where nothing is attached");
    }

    @Test
    void cancelMakesContextDoneWithCancelledError() {
        CancelHandle h = Context.background().withCancel();
        assertFalse(h.context().isDone());
        assertNull(h.context().err());
        h.cancel();
        assertTrue(h.context().isDone());
        assertInstanceOf(ContextCancelledException.class, h.context().err());
        assertSame(h.context().err(), h.context().cause(), "without a cause, cause() is err()");
    }

    @Test
    void cancelWithCauseReportsCause() {
        CancelHandle h = Context.background().withCancel();
        IllegalStateException why = new IllegalStateException("shutting down");
        h.cancel(why);
        assertSame(why, h.context().cause());
        assertSame(why, h.context().err().getCause());
    }

    @Test
    void cancellingTwiceKeepsTheFirstCause() {
        CancelHandle h = Context.background().withCancel();
        RuntimeException first = new RuntimeException("first");
        h.cancel(first);
        h.cancel(new RuntimeException("second"));
        h.cancel();
        assertSame(first, h.context().cause());
    }

    @Test
    void cancelAfterObservedDeadlineKeepsDeadlineExceeded() {
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(5), ticker);
        ticker.advance(Duration.ofMillis(5));
        assertTrue(h.context().isDone());
        h.cancel(new RuntimeException("late"));
        assertInstanceOf(DeadlineExceededException.class, h.context().err());
    }

    @Test
    void cancelAfterListenedDeadlineKeepsDeadlineExceeded() {
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(5), ticker);
        h.context().onDone(() -> { }, Runnable::run);
        ticker.advance(Duration.ofMillis(5));
        h.cancel(new RuntimeException("late"));
        assertInstanceOf(DeadlineExceededException.class, h.context().err());
    }

    @Test
    void cancelBeforeAnyoneObservedThePassedDeadlineRecordsCancellation() {
        // Documented choice: cancel() reads no clock, so an unobserved expiry loses the race, as
        // Go's deadline timer can lose it to cancel().
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(5), ticker);
        ticker.advance(Duration.ofMillis(5));
        h.cancel();
        assertInstanceOf(ContextCancelledException.class, h.context().err());
    }

    @Test
    void cancellingParentCancelsAllDescendantsWithItsCause() {
        CancelHandle root = Context.background().withCancel();
        CancelHandle child = root.context().withValue(USER, "a").withCancel();
        CancelHandle grandchild = child.context().withTimeout(Duration.ofHours(1), ticker);
        Context valueBelow = grandchild.context().withValue(LIMIT, 3);
        RuntimeException why = new RuntimeException("why");
        root.cancel(why);
        for (Context c : List.of(child.context(), grandchild.context(), valueBelow)) {
            assertTrue(c.isDone(), c.toString());
            assertInstanceOf(ContextCancelledException.class, c.err());
            assertSame(why, c.cause());
        }
    }

    @Test
    void cancellingParentFiresListenersOfDescendants() {
        CancelHandle root = Context.background().withCancel();
        CancelHandle child = root.context().withCancel();
        CancelHandle grandchild = child.context().withCancel();
        AtomicInteger fired = new AtomicInteger();
        grandchild.context().onDone(fired::incrementAndGet, Runnable::run);
        child.context().onDone(fired::incrementAndGet, Runnable::run);
        assertEquals(0, fired.get());
        root.cancel();
        assertEquals(2, fired.get(), "listeners run on the cancelling thread before cancel returns");
    }

    @Test
    void cancellingChildNeverCancelsParentOrSiblings() {
        CancelHandle parent = Context.background().withCancel();
        CancelHandle a = parent.context().withCancel();
        CancelHandle b = parent.context().withCancel();
        AtomicInteger parentFired = new AtomicInteger();
        parent.context().onDone(parentFired::incrementAndGet, Runnable::run);
        b.context().onDone(() -> { }, Runnable::run);
        a.cancel();
        assertTrue(a.context().isDone());
        assertFalse(parent.context().isDone());
        assertFalse(b.context().isDone());
        assertEquals(0, parentFired.get());
    }

    @Test
    void childOfDoneParentIsDoneAtOnce() {
        CancelHandle parent = Context.background().withCancel();
        parent.cancel();
        CancelHandle child = parent.context().withTimeout(Duration.ofSeconds(1), ticker);
        assertTrue(child.context().isDone());
        assertInstanceOf(ContextCancelledException.class, child.context().err());
    }

    @Test
    void deadlineExpiresExactlyAtItsTickerTime() {
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(100), ticker);
        ticker.advance(Duration.ofMillis(100).minusNanos(1));
        assertFalse(h.context().isDone());
        assertEquals(1L, h.context().remainingNanos());
        ticker.advance(1);
        assertTrue(h.context().isDone());
        assertInstanceOf(DeadlineExceededException.class, h.context().err());
        assertEquals(0L, h.context().remainingNanos());
        assertEquals(Optional.of(Duration.ZERO), h.context().remaining());
    }

    @Test
    void childDeadlineIsTheEarlierOfOwnAndParents() {
        CancelHandle parent = Context.background().withTimeout(Duration.ofMillis(100), ticker);
        CancelHandle later = parent.context().withTimeout(Duration.ofMillis(500), ticker);
        CancelHandle sooner = parent.context().withTimeout(Duration.ofMillis(40), ticker);
        assertEquals(parent.context().deadline(), later.context().deadline());
        assertEquals(Duration.ofMillis(40), sooner.context().remaining().orElseThrow());
        ticker.advance(Duration.ofMillis(40));
        assertTrue(sooner.context().isDone());
        assertFalse(later.context().isDone());
        ticker.advance(Duration.ofMillis(60));
        assertTrue(later.context().isDone(), "the parent's deadline bounds the child");
        assertInstanceOf(DeadlineExceededException.class, later.context().err());
    }

    @Test
    void childDeadlineOnAnotherTickerComparesByRemainingTime() {
        ManualTicker other = new ManualTicker(-5_000_000_000L);
        CancelHandle parent = Context.background().withTimeout(Duration.ofMillis(100), ticker);
        CancelHandle child = parent.context().withTimeout(Duration.ofMillis(50), other);
        assertEquals(other, child.context().deadline().orElseThrow().ticker());
        CancelHandle child2 = parent.context().withTimeout(Duration.ofMillis(150), other);
        assertEquals(ticker, child2.context().deadline().orElseThrow().ticker());
    }

    @Test
    void aDeadlineIsReadBackAfterItsTickerWasSetFarBack() {
        // Deadline.at refuses a deadline further than 2^62 ns from the reading; a context's deadline
        // was checked when it was set, so reading it back must not throw after a clock jump.
        ManualTicker jumping = new ManualTicker(0L);
        CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(1), jumping);
        jumping.set(-Deadline.MAX_OFFSET_NANOS - 1);
        Deadline d = h.context().deadline().orElseThrow();
        assertEquals(1_000_000_000L, d.nanos());
        assertSame(jumping, d.ticker());
        assertEquals(Deadline.MAX_OFFSET_NANOS + 1_000_000_001L, d.remainingNanos());
        assertEquals(d.remainingNanos(), h.context().remainingNanos());
        assertFalse(h.context().isDone());
    }

    @Test
    void withTimeoutWithoutTickerUsesTheParentDeadlinesTicker() {
        CancelHandle parent = Context.background().withTimeout(Duration.ofSeconds(10), ticker);
        CancelHandle child = parent.context().withTimeout(Duration.ofSeconds(1));
        assertSame(ticker, child.context().deadline().orElseThrow().ticker());
        ticker.advance(Duration.ofSeconds(1));
        assertTrue(child.context().isDone());
        Context noDeadline = Context.background().withCancel().context();
        assertSame(Ticker.system(), noDeadline.withTimeout(Duration.ofSeconds(1)).context().deadline()
                .orElseThrow().ticker());
    }

    @Test
    void zeroTimeoutIsDoneAtOnce() {
        assertTrue(Context.background().withTimeout(Duration.ZERO, ticker).context().isDone());
    }

    @Test
    void childOfExpiredParentReportsDeadlineExceeded() {
        CancelHandle parent = Context.background().withTimeout(Duration.ofMillis(10), ticker);
        CancelHandle child = parent.context().withCancel();
        ticker.advance(Duration.ofMillis(10));
        assertTrue(child.context().isDone());
        assertInstanceOf(DeadlineExceededException.class, child.context().err());
        assertInstanceOf(DeadlineExceededException.class, child.context().cause());
    }

    @Test
    void valuesAreInheritedShadowedAndDefaulted() {
        Context a = Context.background().withValue(USER, "alice");
        Context b = a.withCancel().context().withValue(LIMIT, 3);
        Context c = b.withValue(USER, "bob");
        Context hidden = c.withValue(USER, null);
        assertEquals("alice", a.get(USER));
        assertEquals("alice", b.get(USER));
        assertEquals(3, b.get(LIMIT));
        assertEquals("bob", c.get(USER));
        assertNull(hidden.get(USER));
        assertEquals(7, Context.background().get(LIMIT));
        assertNull(Context.background().get(USER));
    }

    @Test
    void keysCompareByIdentityNotName() {
        Context.Key<String> other = Context.Key.named("user");
        Context c = Context.background().withValue(USER, "alice");
        assertNull(c.get(other));
        assertEquals("user", other.name());
    }

    @Test
    void withoutCancelKeepsValuesButNeverEnds() {
        CancelHandle h = Context.background().withValue(USER, "alice").withTimeout(Duration.ofMillis(5), ticker);
        Context detached = h.context().withoutCancel();
        CancelHandle below = detached.withCancel();
        h.cancel();
        ticker.advance(Duration.ofSeconds(1));
        assertEquals("alice", detached.get(USER));
        assertFalse(detached.isDone());
        assertFalse(below.context().isDone());
        assertEquals(Optional.empty(), detached.deadline());
    }

    @Test
    void onDoneRunsOnceOnCancel() {
        CancelHandle h = Context.background().withCancel();
        AtomicInteger runs = new AtomicInteger();
        h.context().onDone(runs::incrementAndGet, Runnable::run);
        h.cancel();
        h.cancel();
        assertEquals(1, runs.get());
    }

    @Test
    void onDoneOnDoneContextRunsImmediately() {
        CancelHandle h = Context.background().withCancel();
        h.cancel();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        Registration r = h.context().onDone(() -> ranOn.set(Thread.currentThread()), Runnable::run);
        assertSame(Thread.currentThread(), ranOn.get());
        assertFalse(r.remove(), "too late to withdraw a callback that ran");
    }

    @Test
    void removedOnDoneNeverRuns() {
        CancelHandle h = Context.background().withCancel();
        AtomicInteger runs = new AtomicInteger();
        Registration r = h.context().onDone(runs::incrementAndGet, Runnable::run);
        assertTrue(r.remove());
        assertFalse(r.remove());
        h.cancel();
        assertEquals(0, runs.get());
    }

    @Test
    void onDoneRunsInRegistrationOrder() {
        CancelHandle h = Context.background().withCancel();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            h.context().onDone(() -> order.add(n), Runnable::run);
        }
        h.cancel();
        assertEquals(List.of(0, 1, 2, 3, 4), order);
    }

    @Test
    void onDoneFiresWhenManualDeadlinePassesOnTheAdvancingThread() {
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(30), ticker);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        h.context().onDone(() -> ranOn.set(Thread.currentThread()), Runnable::run);
        ticker.advance(Duration.ofMillis(29));
        assertNull(ranOn.get());
        ticker.advance(Duration.ofMillis(1));
        assertSame(Thread.currentThread(), ranOn.get());
    }

    @Test
    void onDoneOfChildFiresWhenParentDeadlinePasses() {
        CancelHandle parent = Context.background().withTimeout(Duration.ofMillis(30), ticker);
        CancelHandle child = parent.context().withCancel();
        AtomicInteger fired = new AtomicInteger();
        child.context().onDone(fired::incrementAndGet, Runnable::run);
        assertTrue(parent.timerArmed(), "the parent owns the deadline and arms the timer");
        assertFalse(child.timerArmed(), "a child whose parent expires sooner arms nothing");
        ticker.advance(Duration.ofMillis(30));
        assertEquals(1, fired.get());
        assertInstanceOf(DeadlineExceededException.class, child.context().err());
    }

    @Test
    void systemTimerRunsCallbacksOffTheTimerThread() throws InterruptedException {
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(20));
        CountDownLatch ran = new CountDownLatch(1);
        AtomicReference<String> threadName = new AtomicReference<>();
        h.context().onDone(() -> {
            threadName.set(Thread.currentThread().getName());
            ran.countDown();
        });
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        assertFalse(threadName.get().startsWith("resilience-context-timer"), threadName.get());
        assertInstanceOf(DeadlineExceededException.class, h.context().err());
    }

    @Test
    void exceptionInCallbackDoesNotStopOthers() {
        CancelHandle h = Context.background().withCancel();
        AtomicInteger runs = new AtomicInteger();
        Thread self = Thread.currentThread();
        Thread.UncaughtExceptionHandler previous = self.getUncaughtExceptionHandler();
        List<Throwable> reported = new ArrayList<>();
        self.setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            h.context().onDone(() -> {
                throw new IllegalStateException("boom");
            }, Runnable::run);
            h.context().onDone(runs::incrementAndGet, Runnable::run);
            h.cancel();
        } finally {
            self.setUncaughtExceptionHandler(previous);
        }
        assertEquals(1, runs.get());
        assertEquals(1, reported.size());
        assertEquals("boom", reported.get(0).getMessage());
    }

    @Test
    void throwIfDoneThrowsFreshExceptionWithCause() {
        CancelHandle h = Context.background().withCancel();
        RuntimeException why = new RuntimeException("why");
        h.cancel(why);
        ContextCancelledException thrown =
                assertThrows(ContextCancelledException.class, () -> h.context().throwIfDone());
        assertSame(why, thrown.getCause());
        assertNotSame(h.context().err(), thrown);
        assertTrue(thrown.getStackTrace().length > 0, "thrown exceptions carry the caller's stack");

        CancelHandle t = Context.background().withTimeout(Duration.ZERO, ticker);
        assertThrows(DeadlineExceededException.class, () -> t.context().throwIfDone());
    }

    @Test
    void closeCancels() {
        Context c;
        try (CancelHandle h = Context.background().withCancel()) {
            c = h.context();
            assertFalse(c.isDone());
        }
        assertTrue(c.isDone());
    }

    @Test
    void deadlineValueObject() {
        Deadline d = Deadline.after(Duration.ofMillis(10), ticker);
        Deadline e = Deadline.at(d.nanos() + 1, ticker);
        assertTrue(d.isBefore(e));
        assertEquals(Duration.ofMillis(10), d.remaining());
        assertEquals(d, Deadline.at(d.nanos(), ticker));
        assertEquals(d.hashCode(), Deadline.at(d.nanos(), ticker).hashCode());
        ticker.advance(Duration.ofMillis(10));
        assertTrue(d.isExpired());
        assertEquals(Duration.ZERO, d.remaining());
        CancelHandle h = Context.background().withDeadline(e);
        assertEquals(Optional.of(e), h.context().deadline());
        assertFalse(h.context().isDone());
        ticker.advance(1);
        assertTrue(h.context().isDone());
    }

    @Test
    void hugeTimeoutsAreCappedNotOverflowed() {
        CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(Long.MAX_VALUE), ticker);
        assertEquals(Deadline.MAX_OFFSET_NANOS, h.context().remainingNanos());
        ticker.advance(Long.MAX_VALUE / 4);
        assertFalse(h.context().isDone());
    }

    @Test
    void badArgumentsFailFastNamingTheParameter() {
        Context bg = Context.background();
        assertEquals("timeout", assertThrows(NullPointerException.class, () -> bg.withTimeout(null)).getMessage());
        assertEquals("ticker",
                assertThrows(NullPointerException.class, () -> bg.withTimeout(Duration.ZERO, null)).getMessage());
        assertTrue(bg.withTimeout(Duration.ofNanos(-1)).context().isDone(), "an exhausted budget is a done context");
        assertEquals("executor", assertThrows(NullPointerException.class, () -> bg.onDone(() -> { }, null)).getMessage());
        assertEquals("deadline", assertThrows(NullPointerException.class, () -> bg.withDeadline(null)).getMessage());
        assertEquals("key", assertThrows(NullPointerException.class, () -> bg.withValue(null, "x")).getMessage());
        assertEquals("key", assertThrows(NullPointerException.class, () -> bg.get(null)).getMessage());
        assertEquals("callback", assertThrows(NullPointerException.class, () -> bg.onDone(null)).getMessage());
        assertEquals("ticker", assertThrows(NullPointerException.class, () -> bg.parkUntil(null, 0)).getMessage());
        assertEquals("task", assertThrows(NullPointerException.class, () -> bg.wrap((Runnable) null)).getMessage());
        assertEquals("name", assertThrows(NullPointerException.class, () -> Context.Key.named(null)).getMessage());
        assertEquals("ticker", assertThrows(NullPointerException.class, () -> Deadline.at(0, null)).getMessage());
        assertEquals("ticker",
                assertThrows(NullPointerException.class, () -> Deadline.after(Duration.ZERO, null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Deadline.at(Long.MAX_VALUE, ticker));
        assertThrows(IllegalArgumentException.class, () -> Deadline.at(Long.MIN_VALUE, ticker));
        assertThrows(IllegalArgumentException.class, () -> ticker.advance(-1));
        assertThrows(IllegalArgumentException.class, () -> ticker.advance(Duration.ofNanos(-1)));
        assertEquals("duration", assertThrows(NullPointerException.class, () -> ticker.advance(null)).getMessage());
        ManualTicker far = new ManualTicker(0);
        assertEquals(Long.MAX_VALUE, far.advance(java.time.temporal.ChronoUnit.FOREVER.getDuration()),
                "a duration longer than Long.MAX_VALUE ns moves Long.MAX_VALUE, no ArithmeticException");
    }
}
