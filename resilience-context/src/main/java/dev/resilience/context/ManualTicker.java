package dev.resilience.context;

import dev.resilience.context.internal.Suppression;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when told to: the clock for deterministic tests, ours and yours.
 *
 * <p>Everything the toolkit times against this ticker follows it: deadlines expire, and threads
 * parked until a ticker time wake up, when {@link #advance} passes their time. Work that falls due
 * during an {@code advance} (deadline expiry, and the {@link Context#onDone} callbacks it triggers
 * that were registered with {@code Runnable::run} as executor) runs on the thread calling
 * {@code advance}, in order of due time, before {@code advance} returns. That makes tests
 * deterministic: after {@code ticker.advance(d)}, everything due has happened. Callbacks registered
 * without an executor run on threads of their own, as Go's {@code AfterFunc} does.
 *
 * <pre>{@code
 * ManualTicker ticker = new ManualTicker();
 * CancelHandle h = Context.background().withTimeout(Duration.ofMillis(100), ticker);
 * ticker.advance(Duration.ofMillis(99));   // h.context().isDone() == false
 * ticker.advance(Duration.ofMillis(1));    // h.context().isDone() == true
 * }</pre>
 *
 * <p>Thread-safe. {@code advance} moves the reading forward; past {@code Long.MAX_VALUE} it wraps, as
 * {@link System#nanoTime()}'s may, so readings are compared by their difference (start a ticker near
 * {@code Long.MAX_VALUE} to test that code does). {@link #set} may move it anywhere (to test code
 * that must survive a clock going backwards: nothing throws, wraps or grants more; what was due
 * falls due that much later).
 */
public final class ManualTicker implements Ticker {

    private final AtomicLong now;
    private final ConcurrentLinkedQueue<Timed> scheduled = new ConcurrentLinkedQueue<>();
    private final AtomicLong sequence = new AtomicLong();

    /** Creates a ticker reading 0. */
    public ManualTicker() {
        this(0L);
    }

    /**
     * Creates a ticker with the given first reading.
     *
     * @param initialNanos the first reading, in nanoseconds
     */
    public ManualTicker(long initialNanos) {
        this.now = new AtomicLong(initialNanos);
    }

    @Override
    public long read() {
        return now.get();
    }

    /**
     * Moves the reading forward and runs everything that fell due, each even if an earlier one threw;
     * the first exception thrown is rethrown at the end as it was thrown (up to four later ones
     * suppressed into it, none that is the same instance again, its cause or one it holds already).
     *
     * @param nanos how far to move, not negative
     * @return the new reading
     * @throws IllegalArgumentException if {@code nanos} is negative
     */
    public long advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("nanos must not be negative: " + nanos);
        }
        long reading = now.addAndGet(nanos);
        runDue();
        return reading;
    }

    /**
     * Moves the reading forward and runs everything that fell due.
     *
     * @param duration how far to move, not negative; one longer than {@code Long.MAX_VALUE}
     *     nanoseconds (some 292 years) moves {@code Long.MAX_VALUE}
     * @return the new reading
     * @throws IllegalArgumentException if {@code duration} is negative
     */
    public long advance(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative()) {
            throw new IllegalArgumentException("duration must not be negative: " + duration);
        }
        long nanos;
        try {
            nanos = duration.toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        return advance(nanos);
    }

    /**
     * Sets the reading, forwards or backwards, and runs everything that fell due.
     *
     * <p>Setting it back leaves {@link Ticker}'s contract (readings never go back, as
     * {@link System#nanoTime()}'s do not): what the toolkit had scheduled on this ticker falls due
     * that much later, as when Go's or gobreaker's monotonic clock is compared: a circuit breaker
     * whose ticker is set back by a day while it is open stays open a day longer, and a rate limiter
     * may grant nothing until the reading is back near where it was. Nothing throws, no count wraps.
     *
     * @param nanos the new reading
     */
    public void set(long nanos) {
        now.set(nanos);
        runDue();
    }

    /** The number of timed actions (deadline timers, parked threads) waiting for this ticker. */
    int pendingCount() {
        int n = 0;
        for (Timed t : scheduled) {
            if (t.state.get() == Timed.PENDING) {
                n++;
            }
        }
        return n;
    }

    /** Schedules {@code action} to run on the advancing thread once the reading reaches {@code at}. */
    Timers.Task schedule(long at, Runnable action) {
        Timed t = new Timed(at, sequence.getAndIncrement(), action);
        scheduled.add(t);
        if (read() - at >= 0) {
            runDue();
        }
        return t;
    }

    private void runDue() {
        List<Timed> due = null;
        long reading = read();
        for (Timed t : scheduled) {
            if (t.state.get() != Timed.PENDING) {
                scheduled.remove(t);
            } else if (reading - t.at >= 0 && t.state.compareAndSet(Timed.PENDING, Timed.FIRED)) {
                scheduled.remove(t);
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(t);
            }
        }
        if (due != null) {
            due.sort(Comparator.comparingLong((Timed t) -> t.at - reading).thenComparingLong(t -> t.seq));
            Throwable first = null;
            for (Timed t : due) { // claimed: each must run, whatever an earlier one throws
                try {
                    t.action.run();
                } catch (Throwable e) {
                    if (first == null) {
                        first = e;
                    } else {
                        Suppression.attach(first, e); // a shared one is not grown per advance
                    }
                }
            }
            if (first != null) {
                throw Suppression.rethrow(first); // as it was thrown, a checked one past run()'s signature too
            }
        }
    }

    @Override
    public String toString() {
        return "ManualTicker[" + read() + "ns]";
    }

    private final class Timed implements Timers.Task {
        static final int PENDING = 0;
        static final int FIRED = 1;
        static final int CANCELLED = 2;

        final long at;
        final long seq;
        final Runnable action;
        final AtomicInteger state = new AtomicInteger(PENDING);

        Timed(long at, long seq, Runnable action) {
            this.at = at;
            this.seq = seq;
            this.action = action;
        }

        @Override
        public boolean cancel() {
            if (state.compareAndSet(PENDING, CANCELLED)) {
                scheduled.remove(this);
                return true;
            }
            return false;
        }
    }
}
