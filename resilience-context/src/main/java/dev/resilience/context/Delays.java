package dev.resilience.context;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an action once a {@link Ticker} reaches a given reading, without a thread per delay: the
 * building block of the toolkit's asynchronous waits (a rate limiter's {@code callAsync}, retry
 * backoff). On the system ticker the shared timer thread hands the action to the toolkit's own
 * internal threads (virtual threads from JDK 21, else a few daemon platform threads that retire when
 * idle), so actions never run on the timer thread nor take the common pool's; on a
 * {@link ManualTicker} the action runs on the thread that advances it past the time.
 *
 * <pre>{@code
 * Registration r = Delays.schedule(Ticker.system(), System.nanoTime() + 1_000_000, () -> log("1 ms later"));
 * r.remove();   // withdraws it, if it has not run
 * }</pre>
 */
public final class Delays {

    private Delays() {
    }

    /**
     * Schedules {@code action} for when {@code ticker} reads {@code atNanos} or later; a time already
     * reached runs it at once on this thread.
     *
     * @return a registration whose {@link Registration#remove()} withdraws the action
     */
    public static Registration schedule(Ticker ticker, long atNanos, Runnable action) {
        Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(action, "action");
        AtomicBoolean claimed = new AtomicBoolean();
        if (ticker.read() - atNanos >= 0) {
            claimed.set(true);
            action.run();
            return () -> false;
        }
        Timers.Task task = Timers.schedule(ticker, atNanos, onTimerThread -> {
            if (claimed.compareAndSet(false, true)) {
                if (onTimerThread) {
                    Timers.INTERNAL_EXECUTOR.execute(action);
                } else {
                    action.run();
                }
            }
        });
        return () -> {
            if (claimed.compareAndSet(false, true)) {
                task.cancel();
                return true;
            }
            return false;
        };
    }

    /**
     * Runs {@code onTime} once {@code ticker} reads {@code atNanos}, unless {@code context} ends
     * first, in which case {@code onDone} runs instead (on the thread that ends it): exactly one of
     * the two runs, and whichever wins withdraws the other, so nothing stays registered on a
     * long-lived context or in the timer. The shape of an asynchronous wait under a context (a
     * retry's backoff, a rate limiter's wait). Both actions should be short: they may run on the
     * thread that ends the context or advances a {@link ManualTicker}.
     *
     * @return a registration whose {@link Registration#remove()} withdraws both, if neither ran
     */
    public static Registration scheduleUnlessDone(Ticker ticker, long atNanos, Context context, Runnable onTime,
            Runnable onDone) {
        Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(onTime, "onTime");
        Objects.requireNonNull(onDone, "onDone");
        Race race = new Race(onTime, onDone);
        // Listen first: if the timer could fire before the listener is registered, nothing would
        // withdraw the listener afterwards.
        race.listener = context.onDone(race::contextDone, Runnable::run);
        if (!race.decided.get()) {
            Registration timer = schedule(ticker, atNanos, race::timeUp);
            race.timer = timer;
            if (race.decided.get()) {
                timer.remove(); // the context ended meanwhile: do not keep the timer queued
            }
        }
        return race::withdraw;
    }

    /** A timer and a context's end racing: the first to claim {@code decided} runs its action. */
    private static final class Race {
        private final Runnable onTime;
        private final Runnable onDone;
        private final AtomicBoolean decided = new AtomicBoolean();
        private volatile Registration listener;
        private volatile Registration timer;

        Race(Runnable onTime, Runnable onDone) {
            this.onTime = onTime;
            this.onDone = onDone;
        }

        void timeUp() {
            if (decided.compareAndSet(false, true)) {
                listener.remove();
                onTime.run();
            }
        }

        void contextDone() {
            if (decided.compareAndSet(false, true)) {
                withdrawTimer();
                onDone.run();
            }
        }

        boolean withdraw() {
            if (!decided.compareAndSet(false, true)) {
                return false;
            }
            listener.remove();
            withdrawTimer();
            return true;
        }

        private void withdrawTimer() {
            Registration t = timer;
            if (t != null) {
                t.remove();
            }
        }
    }
}
