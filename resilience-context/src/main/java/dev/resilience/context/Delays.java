package dev.resilience.context;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an action once a {@link Ticker} reaches a given reading, without a thread per delay: the
 * building block of the toolkit's asynchronous waits (a rate limiter's {@code callAsync}, retry
 * backoff). On the system ticker the shared timer thread hands the action to
 * {@link java.util.concurrent.ForkJoinPool#commonPool()}, so actions never run on the timer thread;
 * on a {@link ManualTicker} the action runs on the thread that advances it past the time.
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
}
