package dev.resilience.core;

import dev.resilience.context.Ticker;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A budget shared by many calls that keeps retries from multiplying load during an outage, after
 * Finagle's {@code RetryBudget}: every call deposits {@code ratio} of a retry, every retry
 * withdraws one, and a small {@code minPerSecond} of retries is always allowed so that low traffic
 * can still retry. A {@link Retry} deposits once a call's first attempt has ended, unless a guard
 * inside the retry refused it (a {@link RefusedException}, also as the cause of another exception)
 * or an asynchronous attempt returned no stage: nothing was sent. So the ratio is one of the calls
 * whose first attempt went out, as in Google SRE's per-client rule, also while a limiter inside the
 * retry refuses much of the traffic (a first attempt that waited for a bulkhead slot until a
 * timeout inside the retry fired, or that found the caller's context already ended, still
 * deposits: its failure does not say whether it was sent). A retry that such a guard then refuses
 * has still withdrawn its retry. The balance is capped at {@code maxBalance} retries, so a quiet hour does not
 * bank a storm. Over any period, retries are at most {@code ratio x deposits + minPerSecond x
 * seconds + maxBalance}.
 *
 * <pre>{@code
 * RetryBudget budget = RetryBudget.of(0.2, 10, 100);    // +20% traffic at most, 10 retries/s always
 * Retry retry = Retry.builder("payments").budget(budget).build();
 * }</pre>
 */
public final class RetryBudget {
    private static final long SCALE = 1_000_000L;

    private final long depositPerRequest;
    private final long maxBalance;
    private final AtomicLong balance = new AtomicLong();
    private final RateLimiter minimum;
    private final double ratio;

    private RetryBudget(double ratio, double minPerSecond, int maxBalance, Ticker ticker) {
        this.ratio = ratio;
        this.depositPerRequest = Math.round(ratio * SCALE);
        this.maxBalance = maxBalance * SCALE;
        this.minimum = minPerSecond > 0
                ? RateLimiter.builder("retry-budget-minimum").rate(minPerSecond)
                        .burst((int) Math.max(1, Math.ceil(minPerSecond))).ticker(ticker).build()
                : null;
    }

    /**
     * A budget on the system ticker.
     *
     * @param ratio retries per request allowed on top of the minimum, in [0, 10] (0.2 = +20%)
     * @param minPerSecond retries always allowed per second, not negative
     * @param maxBalance the most retries that can be banked, at least 1
     */
    public static RetryBudget of(double ratio, double minPerSecond, int maxBalance) {
        return of(ratio, minPerSecond, maxBalance, Ticker.system());
    }

    /** Like {@link #of(double, double, int)}, timing the minimum on {@code ticker}. */
    public static RetryBudget of(double ratio, double minPerSecond, int maxBalance, Ticker ticker) {
        if (!(ratio >= 0 && ratio <= 10)) {
            throw new IllegalArgumentException("ratio must be in [0, 10]: " + ratio);
        }
        if (!(minPerSecond >= 0) || minPerSecond > 1e9) {
            throw new IllegalArgumentException("minPerSecond must be in [0, 1e9]: " + minPerSecond);
        }
        if (maxBalance < 1) {
            throw new IllegalArgumentException("maxBalance must be at least 1: " + maxBalance);
        }
        java.util.Objects.requireNonNull(ticker, "ticker");
        return new RetryBudget(ratio, minPerSecond, maxBalance, ticker);
    }

    /** Records a first attempt sent to the dependency: deposits its share of a retry. */
    public void deposit() {
        if (depositPerRequest == 0) {
            return;
        }
        long b = balance.get();
        if (b >= maxBalance) {
            return;
        }
        long next = Math.min(maxBalance, b + depositPerRequest);
        if (!balance.compareAndSet(b, next)) {
            balance.accumulateAndGet(depositPerRequest, (cur, add) -> Math.min(maxBalance, cur + add));
        }
    }

    /** Takes one retry from the budget if it has one; false means "do not retry". */
    public boolean tryWithdraw() {
        for (;;) {
            long b = balance.get();
            if (b < SCALE) {
                return minimum != null && minimum.tryAcquire();
            }
            if (balance.compareAndSet(b, b - SCALE)) {
                return true;
            }
        }
    }

    /** Retries available now from deposits (not counting the per-second minimum). */
    public double balance() {
        return (double) balance.get() / SCALE;
    }

    @Override
    public String toString() {
        return "RetryBudget[ratio " + ratio + ", balance " + balance() + "]";
    }
}
