package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import java.time.Duration;
import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * How an {@link AdaptiveLimiter} moves its concurrency limit from observed round-trip times, in the
 * style of Netflix {@code concurrency-limits}. Implementations are called by one thread at a time
 * (the limiter serialises updates) and may keep state.
 */
public interface LimitAlgorithm {

    /** The limit to start with. */
    int initialLimit();

    /**
     * Returns the new limit after one sample.
     *
     * @param limit the current limit
     * @param rttNanos the sample's round-trip time
     * @param inFlight calls in flight when the sample's call ended, itself included ({@link AdaptiveLimiter}
     *     counts them then, without keeping a count per call; concurrency-limits passes the count when
     *     the call started)
     * @param dropped whether the call failed in a way that signals overload (timeout, rejection)
     */
    int update(int limit, long rttNanos, int inFlight, boolean dropped);

    /**
     * Additive increase, multiplicative decrease: +1 after a success while at least half the limit
     * was in use, x{@code backoffRatio} after a drop or a round trip slower than {@code timeout}.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @param backoffRatio in (0, 1): how much of the limit a drop keeps (0.9 in concurrency-limits)
     * @param timeout a round trip slower than this counts as a drop
     */
    static LimitAlgorithm aimd(int initialLimit, int min, int max, double backoffRatio, Duration timeout) {
        checkBounds(initialLimit, min, max);
        if (!(backoffRatio > 0 && backoffRatio < 1)) {
            throw new IllegalArgumentException("backoffRatio must be in (0, 1): " + backoffRatio);
        }
        long timeoutNanos = Checks.positiveNanos(timeout, "timeout");
        return new LimitAlgorithm() {
            @Override
            public int initialLimit() {
                return initialLimit;
            }

            @Override
            public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
                if (dropped || rttNanos > timeoutNanos) {
                    return Math.max(min, (int) (limit * backoffRatio));
                }
                if (inFlight * 2 >= limit) {
                    return Math.min(max, limit + 1);
                }
                return limit;
            }

            @Override
            public String toString() {
                return "AIMD[" + min + ".." + max + ", backoff " + backoffRatio + ", timeout " + timeout + "]";
            }
        };
    }

    /**
     * TCP Vegas applied to concurrency: estimates the queue from the ratio of the lowest round trip
     * seen (no load) to the current one, {@code queue = limit x (1 - rttNoLoad / rtt)}; grows the
     * limit while the queue is short (by log10(limit), or faster when nearly empty), shrinks it by
     * log10(limit) when the queue is long or on a drop.
     *
     * <p>Same as {@link #vegas(int, int, int, double, double) vegas(initialLimit, min, max, 3, 6)},
     * concurrency-limits' default thresholds.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @return the algorithm, with state of its own: give each limiter its own
     * @throws IllegalArgumentException if a bound is out of range, naming it
     */
    static LimitAlgorithm vegas(int initialLimit, int min, int max) {
        return vegas(initialLimit, min, max, VegasLimit.DEFAULT_ALPHA, VegasLimit.DEFAULT_BETA);
    }

    /**
     * {@link #vegas(int, int, int) Vegas} with its queue thresholds as multiples of
     * {@code log10(limit)} (counted as at least 1, so below a limit of 10 they are {@code alpha} and
     * {@code beta} calls): while the estimated queue is at most {@code log10(limit)} the limit grows
     * by {@code beta x log10(limit)} (a nearly idle dependency); below {@code alpha x log10(limit)}
     * it grows by {@code log10(limit)}; above {@code beta x log10(limit)} it shrinks by
     * {@code log10(limit)}; in between it holds. concurrency-limits' default alpha and beta
     * functions are {@code 3 x log10(limit)} and {@code 6 x log10(limit)}, which
     * {@link #vegas(int, int, int)} keeps; its {@code VegasLimit.Builder.alpha(int)} sets a constant
     * instead, the same as this below a limit of 10 only. Same as
     * {@link #vegas(int, int, int, double, double, int) vegas(initialLimit, min, max, alpha, beta, 1)}:
     * each call's own round trip is the estimate, which is noisy, so smaller thresholds do not mean
     * a shorter queue (the 6-argument form says what the overload lab found). Change them against a
     * measurement of your own.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @param alpha in [1, 1000]: below {@code alpha x log10(limit)} queued calls the limit grows
     *     (3 in concurrency-limits' default; under 1 would change nothing, the fast growth comes first)
     * @param beta in [alpha, 1000]: above {@code beta x log10(limit)} queued calls it shrinks (6 in
     *     concurrency-limits' default); also the fast growth's step
     * @return the algorithm, with state of its own: give each limiter its own
     * @throws IllegalArgumentException if an argument is out of range, naming it
     */
    static LimitAlgorithm vegas(int initialLimit, int min, int max, double alpha, double beta) {
        return vegas(initialLimit, min, max, alpha, beta, 1);
    }

    /**
     * {@link #vegas(int, int, int, double, double) Vegas} that grows the limit on the mean round trip
     * of {@code sampleWindow} samples (the calls' round trips the limiter applies; it skips a sample
     * that ends while another is being applied) and shrinks it on a single one: slow to grow, quick to
     * fall. With one call per estimate (concurrency-limits' {@code VegasLimit} used alone, and
     * {@code sampleWindow} 1) the estimate is noisy: a call that found the dependency idle reads as an
     * empty queue and grows the limit by {@code beta x log10(limit)} at once, one that waited behind
     * others shrinks it. In the overload lab, in front of a dependency that serves 4 calls at a time
     * in 20 ms, 3 and 6 left the limit mostly at 8, with 9 in some seconds, and 1 and 3 swung it
     * between 6 and 27 ({@code benchmarks/RESULTS.md}, "Overload lab, runs g and h").
     *
     * <p>With a window: a sample whose own round trip reads as more than {@code beta x log10(limit)}
     * queued calls, with at least half the limit in flight, shrinks the limit by {@code log10(limit)}
     * at once (as per call) and starts the window again; the other samples go into the window, and
     * when it is full the queue read from their mean round trip grows the limit (by
     * {@code beta x log10(limit)} up to {@code log10(limit)} queued, by {@code log10(limit)} below
     * {@code alpha x log10(limit)}) or holds it; the mean never shrinks it. A window is busy enough to
     * grow the limit if any of its samples saw at least half the limit in flight. The lowest round trip
     * (no load) is the lowest single sample, so a window that starts under load does not mistake its
     * mean for the no-load time. The window counts samples, not time, and keeps a partial window
     * however long it waits for its next sample (concurrency-limits' {@code WindowedLimit}, which can
     * wrap any algorithm, closes windows on time, 1 s by default, passes on only those with at least
     * 10 samples, and moves the limit both ways on the window's aggregate). A window's sum of round
     * trips saturates at {@code Long.MAX_VALUE}.
     *
     * <p>In the same lab (RESULTS, "Overload lab, runs o1, o2 and p"), 2 and 4 over windows of 10
     * held the limit at 6 at 3x capacity and met the p99 goal there (2x the unloaded p99) in every
     * repetition of runs n and o1 (37.4-38.7 ms; 3 and 6 per call: 5 of 5 in both, 2 to 5 of 5 in
     * the eight runs before), and kept the work done for callers that had left under 2 % of the
     * dependency's busy time when it slowed down 10x (5 of 5); the price is goodput during such a
     * slowdown, 10 calls/s against 14.5 per call, since Vegas cannot tell a slower dependency from a
     * queue and holds the limit at its minimum. A window that also shrank only on its mean (this
     * method until 2026-12-03) held the p99 too with 1 and 3 or 2 and 4, but when the dependency
     * slowed down it spent 14-47 % of the dependency's busy time in the fault's first second on
     * callers that had left (2-15 % over the whole fault).
     *
     * <p>Unlike concurrency-limits, and with any window: a drop (timeout, rejection) shrinks the
     * limit at once whatever its round trip, starts the window again, and is never the no-load round
     * trip (concurrency-limits takes any faster sample as that, so a refusal answered at once made
     * every later call read as queued).
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @param alpha in [1, 1000]: below {@code alpha x log10(limit)} queued calls the limit grows
     * @param beta in [alpha, 1000]: above {@code beta x log10(limit)} queued calls it shrinks; also
     *     the fast growth's step
     * @param sampleWindow in [1, 100000]: the samples whose mean round trip decides a growth (a shrink
     *     takes one); 1 is each call's own for both
     * @return the algorithm, with state of its own: give each limiter its own
     * @throws IllegalArgumentException if an argument is out of range, naming it
     */
    static LimitAlgorithm vegas(int initialLimit, int min, int max, double alpha, double beta, int sampleWindow) {
        checkBounds(initialLimit, min, max);
        if (!(alpha >= 1 && alpha <= VegasLimit.MAX_THRESHOLD)) {
            throw new IllegalArgumentException("alpha must be in [1, 1000]: " + alpha);
        }
        if (!(beta >= 1 && beta <= VegasLimit.MAX_THRESHOLD)) {
            throw new IllegalArgumentException("beta must be in [1, 1000]: " + beta);
        }
        if (beta < alpha) {
            throw new IllegalArgumentException("beta must be at least alpha: alpha " + alpha + ", beta " + beta);
        }
        if (sampleWindow < 1 || sampleWindow > VegasLimit.MAX_SAMPLE_WINDOW) {
            throw new IllegalArgumentException("sampleWindow must be in [1, " + VegasLimit.MAX_SAMPLE_WINDOW + "]: "
                    + sampleWindow);
        }
        return new VegasLimit(initialLimit, min, max, alpha, beta, sampleWindow);
    }

    /**
     * Gradient2, concurrency-limits' default algorithm, with its defaults: smoothing 0.2, RTT
     * tolerance 1.5, a long window of 600 samples and a queue size of 4. Same as
     * {@link #gradient2(int, int, int, double, double, int, int) gradient2(initialLimit, min, max, 0.2, 1.5, 600, 4)};
     * concurrency-limits' own builder starts at 20 with a minimum of 20 and a maximum of 200.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @return the algorithm, with state of its own: give each limiter its own
     * @throws IllegalArgumentException if a bound is out of range, naming it
     */
    static LimitAlgorithm gradient2(int initialLimit, int min, int max) {
        return gradient2(initialLimit, min, max, Gradient2Limit.DEFAULT_SMOOTHING, Gradient2Limit.DEFAULT_RTT_TOLERANCE,
                Gradient2Limit.DEFAULT_LONG_WINDOW, Gradient2Limit.DEFAULT_QUEUE_SIZE);
    }

    /**
     * Gradient2, after concurrency-limits' {@code Gradient2Limit}: compares each sample's round trip
     * (the short RTT) with a long-term RTT, an exponential average over {@code longWindow} samples
     * (the plain mean of the first 10 while it warms up), and moves an estimated limit by
     * <pre>{@code
     * gradient = max(0.5, min(1.0, rttTolerance * longRtt / shortRtt))
     * newLimit = estimate * gradient + queueSize
     * estimate = clamp(estimate * (1 - smoothing) + newLimit * smoothing, min, max)
     * }</pre>
     * so the limit grows by {@code queueSize * smoothing} per sample while the round trips stay
     * within {@code rttTolerance} times the long-term RTT, and shrinks as they rise above it (by at
     * most {@code smoothing / 2} of itself per sample: the gradient is at least 0.5). When the long RTT exceeds twice the short
     * one (latency has come back down after a long overload) it decays by 5 % per sample, so the
     * limit recovers without waiting for the long average. While fewer than half the estimated limit
     * are in flight, the limiter is app-limited: the sample updates the RTTs but not the limit. A
     * drop counts only through its round trip, as in concurrency-limits: a timed-out call's long
     * round trip lowers the limit; Gradient2 has no separate drop rule. One difference from
     * concurrency-limits: a drop whose round trip is shorter than the long-term RTT (a guard inside
     * that refused at once, or any drop before the first sample) is no sample, because taken as one
     * it would raise the limit and shorten the long RTT until the next real calls look slow and the
     * limit collapses. A sample of 0 ns or less (a clock that did not move) is ignored.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @param smoothing in (0, 1]: how much of the new limit each sample takes (0.2 in concurrency-limits)
     * @param rttTolerance at least 1: how many times the long-term RTT a round trip may take before
     *     the limit shrinks (1.5 in concurrency-limits)
     * @param longWindow at least 1: the number of samples the long-term RTT averages over (600 in concurrency-limits)
     * @param queueSize at least 0: the calls allowed to queue; the limit grows by {@code smoothing * queueSize}
     *     per sample while round trips hold (4 in concurrency-limits)
     * @return the algorithm, with state of its own: give each limiter its own
     * @throws IllegalArgumentException if an argument is out of range, naming it
     */
    static LimitAlgorithm gradient2(int initialLimit, int min, int max, double smoothing, double rttTolerance,
            int longWindow, int queueSize) {
        if (queueSize < 0) {
            throw new IllegalArgumentException("queueSize must not be negative: " + queueSize);
        }
        return newGradient2(initialLimit, min, max, smoothing, rttTolerance, longWindow, queueSize, null);
    }

    /**
     * {@link #gradient2(int, int, int, double, double, int, int) Gradient2} with the queue size a
     * function of the limit, as concurrency-limits' {@code queueSizeFunction} allows (for example
     * {@code limit -> Math.max(4, (int) Math.sqrt(limit))}). The function is called with the current
     * estimate, truncated, on every busy sample, by the thread that completes the call: it must be
     * fast and must not block. A negative result counts as 0; if it throws, the sample leaves the
     * limit as it is (the RTTs still learn from it), and the first such failure is logged at ERROR
     * on the {@code dev.resilience.core.callback} logger.
     *
     * @param initialLimit the starting limit, within [min, max]
     * @param min the lowest limit, at least 1
     * @param max the highest limit
     * @param smoothing in (0, 1]: how much of the new limit each sample takes
     * @param rttTolerance at least 1: how many times the long-term RTT a round trip may take
     * @param longWindow at least 1: the number of samples the long-term RTT averages over
     * @param queueSize the queue size for a limit
     * @return the algorithm, with state of its own: give each limiter its own
     * @throws IllegalArgumentException if an argument is out of range, naming it
     * @throws NullPointerException if {@code queueSize} is null
     */
    static LimitAlgorithm gradient2(int initialLimit, int min, int max, double smoothing, double rttTolerance,
            int longWindow, IntUnaryOperator queueSize) {
        Objects.requireNonNull(queueSize, "queueSize");
        return newGradient2(initialLimit, min, max, smoothing, rttTolerance, longWindow, 0, queueSize);
    }

    private static LimitAlgorithm newGradient2(int initialLimit, int min, int max, double smoothing, double rttTolerance,
            int longWindow, int queueSize, IntUnaryOperator queueSizeFunction) {
        checkBounds(initialLimit, min, max);
        if (!(smoothing > 0 && smoothing <= 1)) {
            throw new IllegalArgumentException("smoothing must be in (0, 1]: " + smoothing);
        }
        if (!(rttTolerance >= 1) || Double.isInfinite(rttTolerance)) {
            throw new IllegalArgumentException("rttTolerance must be at least 1 and finite: " + rttTolerance);
        }
        if (longWindow < 1) {
            throw new IllegalArgumentException("longWindow must be at least 1: " + longWindow);
        }
        return new Gradient2Limit(initialLimit, min, max, smoothing, rttTolerance, longWindow, queueSize,
                queueSizeFunction);
    }

    private static void checkBounds(int initialLimit, int min, int max) {
        if (min < 1) {
            throw new IllegalArgumentException("min must be at least 1: " + min);
        }
        if (max < min) {
            throw new IllegalArgumentException("max must be at least min: " + max + " < " + min);
        }
        if (initialLimit < min || initialLimit > max) {
            throw new IllegalArgumentException("initialLimit must be within [" + min + ", " + max + "]: " + initialLimit);
        }
    }
}

/**
 * Vegas, after concurrency-limits' {@code VegasLimit}: its alpha and beta functions are
 * {@code alpha x log10(limit)} and {@code beta x log10(limit)} (3 and 6 by default), its threshold
 * (fast growth) function {@code log10(limit)}; optionally growing only on a window of samples'
 * mean round trip (and shrinking on one). Not thread-safe: the limiter serialises updates.
 */
final class VegasLimit implements LimitAlgorithm {
    static final double DEFAULT_ALPHA = 3;
    static final double DEFAULT_BETA = 6;
    static final double MAX_THRESHOLD = 1000;
    static final int MAX_SAMPLE_WINDOW = 100_000;

    private final int initialLimit;
    private final int min;
    private final int max;
    private final double alpha;
    private final double beta;
    private final int sampleWindow;
    private long rttNoLoad = Long.MAX_VALUE;
    private double estimate;
    private long windowSum;
    private int windowCount;
    private int windowInFlight;

    VegasLimit(int initialLimit, int min, int max, double alpha, double beta, int sampleWindow) {
        this.initialLimit = initialLimit;
        this.min = min;
        this.max = max;
        this.alpha = alpha;
        this.beta = beta;
        this.sampleWindow = sampleWindow;
        this.estimate = initialLimit;
    }

    @Override
    public int initialLimit() {
        return initialLimit;
    }

    @Override
    public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
        double current = estimate;
        double log = Math.max(1.0, Math.log10(current));
        if (dropped) {
            // before the no-load check, and whatever its round trip: a drop (a refusal answered at
            // once) is no measure of the unloaded dependency. The window's samples were taken at the
            // limit before this one: they start again.
            clearWindow();
            return set(current - log);
        }
        if (rttNanos <= 0) {
            return limit;
        }
        if (rttNanos < rttNoLoad) {
            rttNoLoad = rttNanos;
            return limit;
        }
        double shrink = beta * log;
        double queue = queue(current, rttNanos);
        // A shrink needs one sample (a dependency that slows down at once is answered at once) and
        // starts any window again; a growth needs the window's mean (with a window of 1, this sample).
        if (inFlight >= current / 2 && queue > shrink) {
            clearWindow();
            return set(current - log);
        }
        int busy = inFlight;
        if (sampleWindow > 1) {
            long sum = windowSum + rttNanos;
            windowSum = sum < 0 ? Long.MAX_VALUE : sum;
            windowInFlight = Math.max(windowInFlight, inFlight);
            if (++windowCount < sampleWindow) {
                return limit;
            }
            queue = queue(current, windowSum / windowCount);
            busy = windowInFlight;
            clearWindow();
        }
        if (busy < current / 2) {
            return limit;
        }
        if (queue <= log) {
            return set(current + shrink);
        } else if (queue < alpha * log) {
            return set(current + log);
        }
        return limit;
    }

    /** The calls queued at the dependency, by Vegas: {@code ceil(limit x (1 - noLoad / rtt))}. */
    private double queue(double current, long rtt) {
        return Math.ceil(current * (1.0 - (double) rttNoLoad / rtt));
    }

    private int set(double next) {
        estimate = Math.max(min, Math.min(max, next));
        return (int) estimate;
    }

    private void clearWindow() {
        windowSum = 0;
        windowCount = 0;
        windowInFlight = 0;
    }

    @Override
    public String toString() {
        String window = sampleWindow == 1 ? "" : ", sample window " + sampleWindow;
        return alpha == DEFAULT_ALPHA && beta == DEFAULT_BETA ? "Vegas[" + min + ".." + max + window + "]"
                : "Vegas[" + min + ".." + max + ", alpha " + alpha + ", beta " + beta + window + "]";
    }
}

/**
 * Gradient2, after concurrency-limits' {@code Gradient2Limit} (0.5.4), step for step and in the same
 * floating-point order, so that fed the same samples it computes the same limits, except that it
 * takes no sample of a drop faster than the long-term round trip (see {@link LimitAlgorithm#gradient2}). Not thread-safe:
 * the limiter serialises updates.
 */
final class Gradient2Limit implements LimitAlgorithm {
    static final double DEFAULT_SMOOTHING = 0.2;
    static final double DEFAULT_RTT_TOLERANCE = 1.5;
    static final int DEFAULT_LONG_WINDOW = 600;
    static final int DEFAULT_QUEUE_SIZE = 4;
    /** Samples averaged plainly before the long RTT becomes an exponential average (concurrency-limits: 10). */
    static final int WARMUP = 10;
    /** What the long RTT is multiplied by while it exceeds twice the short RTT (concurrency-limits: 0.95). */
    static final double DECAY = 0.95;

    private final int initialLimit;
    private final int min;
    private final int max;
    private final double smoothing;
    private final double rttTolerance;
    private final int longWindow;
    /** The long RTT's exponential weight of a new sample, {@code 2 / (longWindow + 1)}. */
    private final double longFactor;
    private final int queueSize;
    /** The queue size as a function of the limit, or null for the constant {@link #queueSize}. */
    private final IntUnaryOperator queueSizeFunction;
    private double estimate;
    private double longRtt;
    private double warmupSum;
    private int warmupCount;
    private boolean functionFailed;

    Gradient2Limit(int initialLimit, int min, int max, double smoothing, double rttTolerance, int longWindow,
            int queueSize, IntUnaryOperator queueSizeFunction) {
        this.initialLimit = initialLimit;
        this.min = min;
        this.max = max;
        this.smoothing = smoothing;
        this.rttTolerance = rttTolerance;
        this.longWindow = longWindow;
        this.longFactor = 2.0 / (longWindow + 1.0);
        this.queueSize = queueSize;
        this.queueSizeFunction = queueSizeFunction;
        this.estimate = initialLimit;
    }

    @Override
    public int initialLimit() {
        return initialLimit;
    }

    @Override
    public int update(int limit, long rttNanos, int inFlight, boolean dropped) {
        double current = estimate;
        if (rttNanos <= 0) {
            return (int) current;
        }
        if (dropped && (warmupCount == 0 || rttNanos < (long) longRtt)) {
            // A drop faster than the long-term round trip (a guard inside refused at once) says nothing
            // about latency: taken as a sample, it would raise the limit and shorten the long round trip,
            // so that the next real calls look slow and the limit collapses. No sample.
            return (int) current;
        }
        double shortRtt = rttNanos;
        double longRtt = addLongSample(shortRtt);
        if (longRtt / shortRtt > 2) {
            this.longRtt = this.longRtt * DECAY;
        }
        if (inFlight < current / 2) {
            return (int) current;
        }
        int queue = queueSizeFunction == null ? queueSize : queueSizeOf((int) current);
        if (queue < 0) {
            return (int) current;
        }
        double gradient = Math.max(0.5, Math.min(1.0, rttTolerance * longRtt / shortRtt));
        double next = current * gradient + queue;
        next = current * (1 - smoothing) + next * smoothing;
        estimate = Math.max(min, Math.min(max, next));
        return (int) estimate;
    }

    /** Adds a sample to the long RTT: the mean of the first {@link #WARMUP}, then an exponential average. */
    private double addLongSample(double rtt) {
        if (warmupCount < WARMUP) {
            warmupCount++;
            warmupSum += rtt;
            longRtt = warmupSum / warmupCount;
        } else {
            longRtt = longRtt * (1 - longFactor) + rtt * longFactor;
        }
        return longRtt;
    }

    /** The user's queue size for {@code limit}, at least 0; -1 if the function threw (logged the first time). */
    private int queueSizeOf(int limit) {
        try {
            return Math.max(0, queueSizeFunction.applyAsInt(limit));
        } catch (Throwable e) {
            if (!functionFailed) {
                functionFailed = true;
                Callbacks.failed(null, e, "Gradient2's queue size function (for limit " + limit
                        + "; its samples are skipped, later failures not logged)");
            }
            return -1;
        }
    }

    @Override
    public String toString() {
        return "Gradient2[" + min + ".." + max + ", smoothing " + smoothing + ", rttTolerance " + rttTolerance
                + ", longWindow " + longWindow + ", queueSize " + (queueSizeFunction == null ? queueSize : queueSizeFunction)
                + "]";
    }
}

