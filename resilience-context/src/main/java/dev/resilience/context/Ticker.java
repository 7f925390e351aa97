package dev.resilience.context;

/**
 * The toolkit's one source of time: a monotonic reading in nanoseconds.
 *
 * <p>Every time-dependent class of the toolkit (deadlines, rate limiter refills, breaker open
 * durations, pool expiry) takes a {@code Ticker}, so tests can drive time by hand with a
 * {@link ManualTicker} instead of sleeping. Readings are only meaningful relative to each other, like
 * {@link System#nanoTime()}; compare them by subtraction.
 *
 * <pre>{@code
 * ManualTicker ticker = new ManualTicker();
 * try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(1), ticker)) {
 *     ticker.advance(Duration.ofSeconds(1));
 *     assert h.context().isDone();
 * }
 * }</pre>
 *
 * <p>A custom implementation other than {@link ManualTicker} must advance at the speed of real
 * time: waits on it are timed with {@link java.util.concurrent.locks.LockSupport#parkNanos}. Its
 * readings must never go back; one that does delays what is due by as much as it went back
 * ({@link ManualTicker#set}).
 */
@FunctionalInterface
public interface Ticker {

    /** Returns the current reading in nanoseconds. */
    long read();

    /** Returns the ticker backed by {@link System#nanoTime()}. */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}

/** The {@link System#nanoTime()} ticker. An enum so it is a serialisable singleton. */
enum SystemTicker implements Ticker {
    INSTANCE;

    @Override
    public long read() {
        return System.nanoTime();
    }

    @Override
    public String toString() {
        return "Ticker.system()";
    }
}
