package dev.resilience.core;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Delays;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A token bucket with the semantics of Go's {@code golang.org/x/time/rate}: permits refill at
 * {@code rate} per second up to {@code burst}; a new limiter starts full.
 *
 * <pre>{@code
 * RateLimiter limiter = RateLimiter.builder("payments").rate(10).burst(3).build();
 *
 * if (limiter.tryAcquire()) { ... }            // hot path: no wait, no allocation, no exception
 * limiter.acquire(1);                           // waits under Context.current()'s deadline
 * String r = limiter.call(() -> client.get());  // acquire, then call
 * }</pre>
 *
 * <p><b>Three layers.</b> {@link #tryAcquire(int)} and {@link #reserve(int)} decide at once;
 * {@link #acquire(int)} and {@link #call(Callable)} wait (honouring the current context: they fail
 * at once, consuming nothing, when the permits exceed the burst, the context is done, or the wait
 * would pass its deadline, and give the reservation back when the context ends during the wait);
 * {@link #callAsync(Supplier)} waits without blocking a thread.
 *
 * <p><b>State.</b> One atomic word per limiter, the GCRA "theoretical arrival time": a granted
 * {@code tryAcquire} is one clock read and one CAS; a refusal changes nothing. Time going
 * backwards adds no permits. The cost of a permit is kept in whole nanoseconds, so rates above
 * 10^9 per second are refused and each permit's cost is exact to half a nanosecond. Reservations
 * run ahead of now at most 2^62 ns (about 146 years): one beyond that is refused, never wrapped.
 *
 * <p><b>Edge values, as in Go.</b> A request for 0 permits changes nothing. It is granted at once
 * unless reservations have run the limiter into debt (permits reserved ahead of their refill: Go's
 * negative tokens); then, as Go's {@code AllowN(t, 0)}, {@code ReserveN(t, 0)} and
 * {@code WaitN(ctx, 0)} do, {@code tryAcquire(0)} refuses, {@code reserve(0)} says to wait until
 * the debt is paid and {@code acquire(0)} waits for that. During a warm-up ({@link Builder#warmup}),
 * which keeps no such debt, 0 permits are always granted at once.
 * Rate 0 (Go's {@code Limit(0)}) refills nothing: a new limiter has its burst and no more, and
 * {@code setRate(0)} keeps the permits available at that moment and nothing after (an operator's
 * kill switch, with {@code setBurst(0)} for none at all). So does a rate so small that one permit
 * would take longer than 2^62 ns to come back. A reservation can be cancelled up to and including
 * its time to act.
 */
public final class RateLimiter implements Policy, Listenable<RateLimiterListener> {

    private static final long NO_RESERVATION = Long.MIN_VALUE;
    private static final long RETRY = Long.MIN_VALUE + 1;
    /** The interval of rate 0 (and of rates whose interval does not fit the horizon): no refill. */
    static final long NO_REFILL = Long.MAX_VALUE;
    /** How far ahead of now reservations may run. */
    private static final long HORIZON = Checks.MAX_NANOS;

    private final String name;
    private final Ticker ticker;
    private final Listeners<RateLimiterListener> listeners;
    /** The longest a waiting acquire waits, whatever the context allows (Resilience4j's timeoutDuration). */
    private final long maxWaitNanos;
    private volatile RateLimiterState state;
    /** Guava-style warm-up, or null (the default). */
    private final WarmingUp warm;

    private RateLimiter(Builder b) {
        this.name = b.name;
        this.ticker = b.ticker;
        this.listeners = GuardedListeners.ofRateLimiter(b.listeners);
        this.maxWaitNanos = b.maxWaitNanos;
        long now = ticker.read();
        this.warm = b.warmupNanos > 0 ? new WarmingUp(b.interval, b.warmupNanos, b.coldFactor, now) : null;
        // A warm-up limiter keeps an "infinite" bucket state, so that the hot path of ordinary
        // limiters carries no extra branch: the warm-up and zero-rate checks sit behind infinite().
        this.state = b.interval == NO_REFILL ? RateLimiterState.zeroRate(b.burst, b.burst)
                : new RateLimiterState(warm != null ? 0L : b.interval, b.burst, now);
    }

    /** Starts building a limiter; {@code name} identifies it in metrics and errors. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    // ---------------------------------------------------------------- layer 1: decide now

    /** Takes one permit if one is available now; Go's {@code Allow}. */
    public boolean tryAcquire() {
        return tryAcquire(1);
    }

    /**
     * Takes {@code permits} if all are available now; Go's {@code AllowN}. A refusal leaves the
     * limiter unchanged.
     *
     * @param permits not negative; 0 is granted unless reservations have run the limiter into debt
     * @throws IllegalArgumentException if {@code permits} is negative
     */
    public boolean tryAcquire(int permits) {
        if (permits <= 0) {
            return noPermits(permits);
        }
        RateLimiterState s = state;
        if (s.infinite()) {
            return tryAcquireSpecial(s, permits);
        }
        long now = ticker.read();
        for (;;) {
            if (permits > s.burst) {
                listeners.current().onRejected(this, permits, RequestNotPermittedException.Reason.EXCEEDS_BURST);
                return false;
            }
            long tat = s.tat;
            if (tat == RateLimiterState.RETIRED) {
                s = current(s);
                if (s.infinite()) {
                    return tryAcquireSpecial(s, permits);
                }
                continue;
            }
            long ahead = tat - now > 0 ? tat - now : 0;
            long cost = permits * s.interval; // at most the tolerance: permits <= burst
            if (ahead > s.tolerance - cost) { // ahead + cost > tolerance, without overflow
                listeners.current().onRejected(this, permits, RequestNotPermittedException.Reason.NO_PERMIT);
                return false;
            }
            long next = now + ahead + cost;
            if (RateLimiterState.TAT.compareAndSet(s, tat, next)) {
                listeners.current().onPermitted(this, permits, 0L);
                return true;
            }
            // Lost a race: back off a moment so that two cores do not trade the line back and forth.
            Thread.onSpinWait();
        }
    }

    /** Granted unless the limiter is in debt, changing nothing; negative counts are refused as bad input. */
    private boolean noPermits(int permits) {
        checkPermits(permits);
        if (debtNanos(ticker.read()) > 0) {
            listeners.current().onRejected(this, 0, RequestNotPermittedException.Reason.NO_PERMIT);
            return false;
        }
        listeners.current().onPermitted(this, 0, 0L);
        return true;
    }

    /**
     * How long from {@code now} until the permits reserved ahead of their refill are paid back (Go's
     * negative tokens); 0 when there is no such debt, and always 0 at an infinite or zero rate and
     * during warm-up.
     */
    private long debtNanos(long now) {
        if (warm != null) {
            return 0;
        }
        for (;;) {
            RateLimiterState s = current(state);
            if (s.infinite()) {
                return 0;
            }
            long tat = s.tat;
            if (tat == RateLimiterState.RETIRED) {
                continue;
            }
            long ahead = tat - now > 0 ? tat - now : 0;
            return Math.max(0, ahead - s.tolerance);
        }
    }

    /** Warm-up, an infinite rate or a zero rate: the states kept off the hot path. */
    private boolean tryAcquireSpecial(RateLimiterState s, int permits) {
        if (warm != null) {
            return tryAcquireWarm(permits);
        }
        int taken;
        for (;;) {
            if (!s.zero) {
                if (!s.infinite()) {
                    return tryAcquire(permits); // replaced by a GCRA state: its path, once
                }
                listeners.current().onPermitted(this, permits, 0L);
                return true;
            }
            taken = takeFromZeroRate(s, permits);
            if (taken != ZERO_REPLACED) {
                break;
            }
            s = current(s); // waits (briefly) for the state replacing it
        }
        if (taken == ZERO_TAKEN) {
            listeners.current().onPermitted(this, permits, 0L);
            return true;
        }
        listeners.current().onRejected(this, permits, taken == ZERO_NONE_LEFT ? RequestNotPermittedException.Reason.NO_PERMIT
                : RequestNotPermittedException.Reason.EXCEEDS_BURST);
        return false;
    }

    private static final int ZERO_TAKEN = 1;
    private static final int ZERO_NONE_LEFT = 0;
    private static final int ZERO_EXCEEDS_BURST = -1;
    /** A concurrent setRate replaced the zero-rate state by another kind: start over. */
    private static final int ZERO_REPLACED = 2;

    /**
     * Takes {@code permits} from a zero-rate state: {@link #ZERO_TAKEN}, {@link #ZERO_NONE_LEFT}
     * (none will come), {@link #ZERO_EXCEEDS_BURST} or {@link #ZERO_REPLACED}.
     */
    private static int takeFromZeroRate(RateLimiterState s, int permits) {
        for (;;) {
            if (permits > s.burst) {
                return ZERO_EXCEEDS_BURST;
            }
            long left = s.tat;
            if (left == RateLimiterState.RETIRED) {
                return ZERO_REPLACED;
            }
            if (left < permits) {
                return ZERO_NONE_LEFT;
            }
            if (RateLimiterState.TAT.compareAndSet(s, left, left - permits)) {
                return ZERO_TAKEN;
            }
        }
    }

    private boolean tryAcquireWarm(int permits) {
        if (warm.reserve(permits, ticker.read(), 0L) == Long.MIN_VALUE) {
            listeners.current().onRejected(this, permits, RequestNotPermittedException.Reason.NO_PERMIT);
            return false;
        }
        listeners.current().onPermitted(this, permits, 0L);
        return true;
    }

    /**
     * Reserves {@code permits} whatever the wait; Go's {@code ReserveN}. The reservation says how
     * long to wait before acting, or is not {@linkplain Reservation#isOk() ok} (and changed nothing)
     * when {@code permits} exceeds the burst, at a zero rate when fewer are left, or when the wait
     * would run past the 2^62 ns horizon.
     *
     * @param permits not negative; 0 is ok, to act once any debt from earlier reservations is paid
     * @throws IllegalArgumentException if {@code permits} is negative
     */
    public Reservation reserve(int permits) {
        return reserveWithin(permits, Long.MAX_VALUE);
    }

    /**
     * Reserves {@code permits} if they are available within {@code maxWait}; Go's
     * {@code reserveN} with a {@code maxFutureReserve}. When the wait would exceed {@code maxWait}
     * the reservation is not {@linkplain Reservation#isOk() ok} and nothing is consumed.
     *
     * @param permits not negative
     * @param maxWait not negative; longer than 2^62 ns counts as unbounded
     */
    public Reservation reserve(int permits, Duration maxWait) {
        long max = Checks.nonNegativeNanos(maxWait, "maxWait");
        return reserveWithin(permits, max >= HORIZON ? Long.MAX_VALUE : max + 1); // a wait of exactly maxWait is fine
    }

    /** Reserves when the wait is below {@code waitBelow}. */
    private Reservation reserveWithin(int permits, long waitBelow) {
        checkPermits(permits);
        long now = ticker.read();
        if (permits == 0) {
            long debt = debtNanos(now);
            return new Reservation(this, null, 0, debt == 0 || debt < waitBelow, now + debt, now);
        }
        if (warm != null) {
            long at = warm.reserve(permits, now, waitBelow);
            return at == Long.MIN_VALUE ? new Reservation(this, null, permits, false, now, now)
                    : new Reservation(this, null, permits, true, at, now);
        }
        for (;;) {
            RateLimiterState s = current(state);
            if (s.zero) {
                int taken = takeFromZeroRate(s, permits);
                if (taken == ZERO_REPLACED) {
                    continue;
                }
                return new Reservation(this, null, permits, taken == ZERO_TAKEN, now, now);
            }
            if (s.infinite()) {
                return new Reservation(this, s, permits, true, now, now);
            }
            if (permits > s.burst) {
                return new Reservation(this, s, permits, false, now, now);
            }
            long next = reserveUpTo(s, permits, now, waitBelow);
            if (next == NO_RESERVATION) {
                return new Reservation(this, s, permits, false, now, now);
            }
            if (next != RETRY) {
                return new Reservation(this, s, permits, true, next - s.tolerance, now);
            }
        }
    }

    /**
     * Moves the arrival time of {@code s} for {@code permits} if they are available within
     * {@code maxWait} and the horizon; returns the new arrival time, {@link #NO_RESERVATION} if they
     * are not, or {@link #RETRY} if {@code s} was retired by a concurrent {@code setRate}/{@code setBurst}.
     */
    private static long reserveUpTo(RateLimiterState s, int permits, long now, long maxWait) {
        for (;;) {
            long tat = s.tat;
            if (tat == RateLimiterState.RETIRED) {
                return RETRY;
            }
            long ahead = tat - now > 0 ? tat - now : 0;
            long cost = permits * s.interval;
            if (ahead > HORIZON - cost) {
                return NO_RESERVATION; // beyond what the arrival time can represent: refused, never wrapped
            }
            long wait = ahead + cost - s.tolerance;
            if (wait > 0 && wait >= maxWait) {
                return NO_RESERVATION;
            }
            long next = now + ahead + cost;
            if (RateLimiterState.TAT.compareAndSet(s, tat, next)) {
                return next;
            }
        }
    }

    // ---------------------------------------------------------------- layer 2: wait

    /** Waits for one permit under the current context; see {@link #acquire(int)}. */
    public void acquire() throws InterruptedException {
        acquire(1);
    }

    /**
     * Waits until {@code permits} are available, under {@link Context#current()}; Go's
     * {@code WaitN}.
     *
     * @param permits not negative; 0 returns once any debt from earlier reservations is paid
     * @throws IllegalArgumentException if {@code permits} is negative
     * @throws RequestNotPermittedException at once, consuming nothing, if {@code permits} exceeds
     *     the burst or the wait would reach the context's deadline
     * @throws dev.resilience.context.ContextDoneException if the context is done before or during
     *     the wait; a reservation made is given back
     * @throws InterruptedException if the thread is interrupted during the wait; the reservation is
     *     given back
     */
    public void acquire(int permits) throws InterruptedException {
        checkPermits(permits);
        Context ctx = Context.current();
        ctx.throwIfDone();
        long now = ticker.read();
        if (permits == 0) {
            acquireNone(now, ctx);
            return;
        }
        if (warm != null) {
            acquireWarm(permits, now, ctx);
            return;
        }
        RateLimiterState s;
        long at;
        do {
            s = current(state);
            if (s.zero) {
                if (takeFromZeroRateOrThrow(s, permits)) {
                    return;
                }
                at = RETRY;
                continue;
            }
            if (s.infinite()) {
                listeners.current().onPermitted(this, permits, 0L);
                return;
            }
            at = reserveOrThrow(s, permits, now, ctx);
        } while (at == RETRY);
        long actAt = at - s.tolerance;
        if (actAt - now <= 0) {
            listeners.current().onPermitted(this, permits, 0L);
            return;
        }
        try {
            ctx.sleepUntil(ticker, actAt);
        } catch (InterruptedException | ContextDoneException e) {
            giveBack(s, permits, at, ticker.read());
            throw e;
        }
        listeners.current().onPermitted(this, permits, actAt - now);
    }

    /** {@code acquire(0)}: waits out the limiter's debt, if any, within the context's deadline. */
    private void acquireNone(long now, Context ctx) throws InterruptedException {
        long debt = debtNanos(now);
        if (debt > 0) {
            if (debt >= waitBudget(ctx)) {
                throw wouldPassDeadline(0);
            }
            ctx.sleepUntil(ticker, now + debt);
        }
        listeners.current().onPermitted(this, 0, debt);
    }

    private void acquireWarm(int permits, long now, Context ctx) throws InterruptedException {
        long actAt = warm.reserve(permits, now, waitBudget(ctx));
        if (actAt == Long.MIN_VALUE) {
            throw wouldPassDeadline(permits);
        }
        if (actAt - now > 0) {
            ctx.sleepUntil(ticker, actAt);
        }
        listeners.current().onPermitted(this, permits, Math.max(0L, actAt - now));
    }

    private RequestNotPermittedException wouldPassDeadline(int permits) {
        if (maxWaitNanos < Context.current().remainingNanos()) {
            listeners.current().onRejected(this, permits, RequestNotPermittedException.Reason.NO_PERMIT);
            return new RequestNotPermittedException(name, RequestNotPermittedException.Reason.NO_PERMIT,
                    "no permit within the limiter's maxWait of " + java.time.Duration.ofNanos(maxWaitNanos));
        }
        listeners.current().onRejected(this, permits, RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE);
        return new RequestNotPermittedException(name, RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE,
                "waiting for " + permits + " permit(s) would pass the context deadline");
    }

    /**
     * At a zero rate nothing comes by waiting: the permits are there now, or never. Returns false
     * if the state was replaced meanwhile (the caller starts over).
     */
    private boolean takeFromZeroRateOrThrow(RateLimiterState s, int permits) {
        int taken = takeFromZeroRate(s, permits);
        if (taken == ZERO_REPLACED) {
            return false;
        }
        if (taken == ZERO_TAKEN) {
            listeners.current().onPermitted(this, permits, 0L);
            return true;
        }
        RequestNotPermittedException.Reason reason = taken == ZERO_NONE_LEFT ? RequestNotPermittedException.Reason.NO_PERMIT
                : RequestNotPermittedException.Reason.EXCEEDS_BURST;
        listeners.current().onRejected(this, permits, reason);
        throw new RequestNotPermittedException(name, reason, taken == ZERO_NONE_LEFT
                ? "rate 0: fewer than " + permits + " permit(s) left, and none will come"
                : permits + " permit(s) exceed the burst of " + s.burst);
    }

    /** Reserves within the context's deadline, or throws; may return {@link #RETRY}. */
    private long reserveOrThrow(RateLimiterState s, int permits, long now, Context ctx) {
        if (permits > s.burst) {
            listeners.current().onRejected(this, permits, RequestNotPermittedException.Reason.EXCEEDS_BURST);
            throw new RequestNotPermittedException(name, RequestNotPermittedException.Reason.EXCEEDS_BURST,
                    permits + " permit(s) exceed the burst of " + s.burst);
        }
        long at = reserveUpTo(s, permits, now, waitBudget(ctx));
        if (at == NO_RESERVATION) {
            throw wouldPassDeadline(permits);
        }
        return at;
    }

    /**
     * The bound a wait must stay under: the context's remaining time (a wait that ends at the
     * deadline is refused), or {@code maxWait} plus 1 ns (a wait of exactly {@code maxWait} is fine,
     * as in {@link #reserve(int, Duration)} and Resilience4j), whichever is smaller.
     */
    private long waitBudget(Context ctx) {
        return Math.min(ctx.remainingNanos(), maxWaitNanos < HORIZON ? maxWaitNanos + 1 : maxWaitNanos);
    }

    /**
     * Acquires one permit (waiting as {@link #acquire(int)} does) and then calls {@code task}; the
     * task's own exceptions come out unchanged.
     */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        acquire(1);
        return next.invoke(index, task);
    }


    /**
     * Acquires one permit, waiting as {@link #acquire(int)} does, and then runs {@code task};
     * allocates nothing.
     */
    @Override
    public void run(Runnable task) throws Exception {
        Objects.requireNonNull(task, "task");
        acquire(1);
        task.run();
    }

    // ---------------------------------------------------------------- layer 3: wait without a thread

    /**
     * Acquires one permit without blocking a thread, then starts {@code task} under the caller's
     * context. The returned stage fails with {@link RequestNotPermittedException} when the wait
     * would pass the deadline, or with the context's exception if it ends during the wait (the
     * reservation is given back). With a wait, the task starts on the common pool (or, on a
     * {@link dev.resilience.context.ManualTicker}, on the thread that advances it).
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        Context ctx = Context.current();
        if (ctx.isDone()) {
            return CompletableFuture.failedFuture(ctx.err());
        }
        long now = ticker.read();
        long actAt = now;
        long at = 0;
        RateLimiterState s;
        do {
            s = current(state);
            if (warm != null) {
                actAt = warm.reserve(1, now, waitBudget(ctx));
                if (actAt == Long.MIN_VALUE) {
                    return CompletableFuture.failedFuture(wouldPassDeadline(1));
                }
                s = null;
                break;
            }
            if (s.zero) {
                try {
                    if (!takeFromZeroRateOrThrow(s, 1)) {
                        at = RETRY;
                        continue;
                    }
                } catch (RequestNotPermittedException e) {
                    return CompletableFuture.failedFuture(e);
                }
                return Stages.start(task);
            }
            if (s.infinite()) {
                break;
            }
            try {
                at = reserveOrThrow(s, 1, now, ctx);
            } catch (RequestNotPermittedException e) {
                return CompletableFuture.failedFuture(e);
            }
            actAt = at - s.tolerance;
        } while (at == RETRY);
        if (actAt - now <= 0) {
            listeners.current().onPermitted(this, 1, 0L);
            return Stages.start(task);
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        RateLimiterState reserved = s;
        long reservedAt = at;
        long waitNanos = actAt - now;
        // the wait, unless the context ends first (then the reservation is given back)
        Registration wait = Delays.scheduleUnlessDone(ticker, actAt, ctx, () -> {
            if (result.isDone()) {
                return; // cancelled by the caller while its withdrawal of the wait raced this start
            }
            listeners.current().onPermitted(this, 1, waitNanos);
            CompletionStage<T> stage;
            try (Scope scope = ctx.attach()) {
                stage = Stages.start(task);
            }
            result.whenComplete((v, e) -> Stages.endInside(stage, e)); // the caller's cancel, a timeout outside, reaches the task
            stage.whenComplete((v, e) -> Stages.relay(result, v, e));
        }, () -> {
            giveBack(reserved, 1, reservedAt, ticker.read());
            result.completeExceptionally(ctx.err());
        });
        // Ended from outside during the wait (a cancel, a timeout): the task never starts and the
        // reservation is given back.
        result.whenComplete((v, e) -> {
            if (wait.remove()) {
                giveBack(reserved, 1, reservedAt, ticker.read());
            }
        });
        return result;
    }



    // ---------------------------------------------------------------- state

    /**
     * Permits available now: up to the burst, fractional while refilling, negative while
     * reservations are outstanding. {@link Double#POSITIVE_INFINITY} for an infinite rate.
     */
    public double tokens() {
        if (warm != null) {
            return warm.tokens(ticker.read());
        }
        RateLimiterState s = current(state);
        if (s.zero) {
            long left = s.tat;
            return left == RateLimiterState.RETIRED ? tokens() : left;
        }
        if (s.infinite()) {
            return Double.POSITIVE_INFINITY;
        }
        long now = ticker.read();
        long tat = s.tat;
        if (tat == RateLimiterState.RETIRED) {
            return tokens();
        }
        long owed = tat - now > 0 ? tat - now : 0;
        return s.burst - (double) owed / s.interval;
    }

    /** Permits per second; {@link Double#POSITIVE_INFINITY} when unlimited. */
    public double rate() {
        if (warm != null) {
            return 1e9 / warm.stableInterval;
        }
        RateLimiterState s = state;
        return s.zero ? 0.0 : s.infinite() ? Double.POSITIVE_INFINITY : 1e9 / s.interval;
    }

    /** The burst: the most permits available at once. */
    public int burst() {
        return state.burst;
    }

    @Override
    public Kind kind() {
        return Kind.RATE_LIMITER;
    }

    @Override
    public Registration addListener(RateLimiterListener listener) {
        return listeners.add(listener);
    }

    /** The limiter's name. */
    public String name() {
        return name;
    }

    /**
     * Changes the rate; Go's {@code SetLimit}. The bucket is first brought up to date, so permits
     * accrued so far are kept.
     *
     * @param permitsPerSecond not negative (0: no refill from now on), at most 10^9, or
     *     {@link Double#POSITIVE_INFINITY}
     */
    public void setRate(double permitsPerSecond) {
        long interval = intervalOf(permitsPerSecond);
        replace(interval, -1);
    }

    /**
     * Changes the rate to one permit every {@code interval}.
     *
     * @param interval positive
     */
    public void setRate(Duration interval) {
        replace(intervalOf(interval), -1);
    }

    /**
     * Changes the burst; Go's {@code SetBurst}. The permits available now do not change (beyond
     * being capped by a smaller burst).
     *
     * @param burst not negative; 0 refuses everything at a finite rate
     */
    public void setBurst(int burst) {
        checkBurst(burst);
        replace(-1, burst);
    }

    private void replace(long newInterval, int newBurst) {
        if (warm != null) {
            throw new IllegalStateException(name + ": setRate and setBurst are not supported with warm-up");
        }
        for (;;) {
            RateLimiterState s = state;
            long tat = s.tat;
            if (tat == RateLimiterState.RETIRED) {
                Thread.onSpinWait();
                continue;
            }
            long interval = newInterval >= 0 ? newInterval : s.zero ? NO_REFILL : s.interval;
            int burst = newBurst >= 0 ? newBurst : s.burst;
            checkTolerance(interval, burst);
            if (!RateLimiterState.TAT.compareAndSet(s, tat, RateLimiterState.RETIRED)) {
                continue;
            }
            long now = ticker.read();
            double owedPermits = s.zero ? s.burst - tat
                    : s.infinite() ? 0 : (double) (tat - now > 0 ? tat - now : 0) / s.interval;
            double newOwed = Math.max(0.0, owedPermits + (burst - s.burst));
            if (interval == NO_REFILL) {
                state = RateLimiterState.zeroRate(burst, (long) Math.floor(burst - newOwed));
            } else {
                long newTat = now + (long) Math.min((double) HORIZON, Math.ceil(newOwed * interval));
                state = new RateLimiterState(interval, burst, newTat);
            }
            return;
        }
    }

    /** Waits (briefly: a setRate is between its two steps) for the state that replaced {@code s}. */
    private RateLimiterState current(RateLimiterState s) {
        RateLimiterState n;
        while ((n = state) == s && s.tat == RateLimiterState.RETIRED) {
            Thread.onSpinWait();
        }
        return n;
    }

    /**
     * Returns the permits of a reservation that nobody reserved after; Go's {@code CancelAt}.
     * Nothing happens once the reservation's time to act has passed (at that very instant it is
     * still given back, as in Go), or if the state was replaced since.
     */
    void giveBack(RateLimiterState s, int permits, long reservedTat, long now) {
        if (s == null || s.infinite() || reservedTat - s.tolerance - now < 0) {
            return;
        }
        for (;;) {
            long tat = s.tat;
            if (tat == RateLimiterState.RETIRED) {
                return;
            }
            long reservedAfter = tat - reservedTat > 0 ? tat - reservedTat : 0;
            long restore = permits * s.interval - reservedAfter;
            if (restore <= 0) {
                return;
            }
            if (RateLimiterState.TAT.compareAndSet(s, tat, tat - restore)) {
                return;
            }
        }
    }

    @Override
    public String toString() {
        return "RateLimiter[" + name + ", rate " + rate() + "/s, burst " + burst() + "]";
    }

    // ---------------------------------------------------------------- validation

    private static void checkPermits(int permits) {
        if (permits < 0) {
            throw new IllegalArgumentException("permits must not be negative: " + permits);
        }
    }

    private static void checkBurst(int burst) {
        if (burst < 0) {
            throw new IllegalArgumentException("burst must not be negative: " + burst);
        }
    }

    /** 0 for an infinite rate, {@link #NO_REFILL} for rate 0 or one too small to represent. */
    static long intervalOf(double permitsPerSecond) {
        if (Double.isNaN(permitsPerSecond) || permitsPerSecond < 0) {
            throw new IllegalArgumentException("permitsPerSecond must not be negative: " + permitsPerSecond);
        }
        if (permitsPerSecond == Double.POSITIVE_INFINITY) {
            return 0L;
        }
        if (permitsPerSecond > 1e9) {
            throw new IllegalArgumentException(
                    "permitsPerSecond must be at most 1e9 (or infinite): " + permitsPerSecond);
        }
        if (permitsPerSecond == 0) {
            return NO_REFILL;
        }
        double interval = Math.rint(1e9 / permitsPerSecond);
        return interval > (double) Checks.MAX_NANOS ? NO_REFILL : (long) interval;
    }

    static long intervalOf(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        if (interval.getSeconds() >= Checks.MAX_NANOS / 1_000_000_000L) {
            return NO_REFILL; // one permit per more than 146 years: none within the horizon
        }
        return interval.toNanos();
    }

    static void checkTolerance(long interval, int burst) {
        if (interval > 0 && interval != NO_REFILL && burst > 0 && interval > Checks.MAX_NANOS / burst) {
            throw new IllegalArgumentException(
                    "burst x interval must not exceed 2^62 ns: burst " + burst + ", interval " + interval + "ns");
        }
    }

    /**
     * A reservation from {@link #reserve(int)}; Go's {@code *Reservation}.
     */
    public static final class Reservation {
        private final RateLimiter limiter;
        private final RateLimiterState state;
        private final int permits;
        private final boolean ok;
        private final long timeToAct;
        private final long reservedTat;

        Reservation(RateLimiter limiter, RateLimiterState state, int permits, boolean ok, long timeToAct, long now) {
            this.limiter = limiter;
            this.state = state;
            this.permits = permits;
            this.ok = ok;
            this.timeToAct = ok ? Math.max(timeToAct - now, 0) + now : now;
            this.reservedTat = state == null ? timeToAct : timeToAct + state.tolerance;
        }

        /**
         * False if nothing was reserved: more permits than the burst, fewer left at a zero rate, a
         * wait beyond {@code maxWait} or beyond the 2^62 ns horizon. A zero-rate reservation acts at
         * once, so (as in Go) {@link #cancel()} later gives nothing back.
         */
        public boolean isOk() {
            return ok;
        }

        /** How many permits were reserved. */
        public int permits() {
            return permits;
        }

        /** The ticker reading at which the permits are available. */
        public long timeToAct() {
            return timeToAct;
        }

        /** Nanoseconds from now until the permits are available; 0 if they are. Undefined if not ok. */
        public long delayNanos() {
            return Math.max(0L, timeToAct - limiter.ticker.read());
        }

        /** {@link #delayNanos()} as a duration. */
        public Duration delay() {
            return Duration.ofNanos(delayNanos());
        }

        /**
         * Gives the permits back, as far as nobody reserved after this reservation; Go's
         * {@code Cancel}. Does nothing once the time to act has come, or with warm-up.
         */
        public void cancel() {
            if (ok) {
                limiter.giveBack(state, permits, reservedTat, limiter.ticker.read());
            }
        }
    }

    /**
     * Builds a {@link RateLimiter}. Each setter may be called once; {@link #rate(double)} or
     * {@link #interval(Duration)} is required.
     */
    public static final class Builder {
        private final String name;
        private long interval = -1;
        private int burst = -1;
        private Ticker ticker;
        private final List<RateLimiterListener> listeners = new ArrayList<>();
        private long warmupNanos = -1;
        private double coldFactor = 3.0;
        private long maxWaitNanos = Long.MAX_VALUE;
        private boolean maxWaitSet;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * The longest {@code acquire}/{@code call} wait for permits, whatever the context would allow
         * (Resilience4j's {@code timeoutDuration}); zero makes them fail at once when no permit is
         * free, with reason {@code NO_PERMIT}. Default: no cap, only the context's deadline.
         */
        public Builder maxWait(java.time.Duration maxWait) {
            Checks.once(!maxWaitSet, "maxWait");
            this.maxWaitNanos = Checks.nonNegativeNanos(maxWait, "maxWait");
            this.maxWaitSet = true;
            return this;
        }

        /**
         * Permits per second: at most 10^9, or {@link Double#POSITIVE_INFINITY} for no limit (which
         * ignores the burst); 0 for no refill at all (only the burst), as is any rate so small that a
         * permit would take longer than 2^62 ns to come back.
         */
        public Builder rate(double permitsPerSecond) {
            Checks.once(interval < 0, "rate");
            this.interval = intervalOf(permitsPerSecond);
            return this;
        }

        /** One permit every {@code interval}. */
        public Builder interval(Duration interval) {
            Checks.once(this.interval < 0, "rate");
            this.interval = intervalOf(interval);
            return this;
        }

        /** The most permits available at once; default 1, as in {@code rate.NewLimiter(r, 1)}. */
        public Builder burst(int burst) {
            Checks.once(this.burst < 0, "burst");
            checkBurst(burst);
            this.burst = burst;
            return this;
        }

        /**
         * Warm-up, as Guava's {@code SmoothWarmingUp} with a cold factor of 3: after idling, the
         * limiter starts at a third of the rate and ramps up to it over {@code period}. Not the
         * default. A warm-up limiter has no burst (each grant makes the next caller wait its cost),
         * does not support {@code setRate}/{@code setBurst}, and cannot give reservations back.
         */
        public Builder warmup(Duration period) {
            return warmup(period, 3.0);
        }

        /** Warm-up with a given cold factor (how much slower than the rate a cold limiter starts). */
        public Builder warmup(Duration period, double coldFactor) {
            Checks.once(this.warmupNanos < 0, "warmup");
            long nanos = Checks.positiveNanos(period, "period");
            if (!(coldFactor >= 1.0) || Double.isInfinite(coldFactor)) {
                throw new IllegalArgumentException("coldFactor must be at least 1: " + coldFactor);
            }
            this.warmupNanos = nanos;
            this.coldFactor = coldFactor;
            return this;
        }

        /** The clock; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds a listener of the rate limiter's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(RateLimiterListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Builds the limiter, full. */
        public RateLimiter build() {
            if (interval < 0) {
                throw new IllegalStateException("rate or interval must be set");
            }
            if (warmupNanos > 0 && (interval == 0 || interval == NO_REFILL || burst >= 0)) {
                throw new IllegalStateException("warmup needs a finite, positive rate and no burst");
            }
            if (burst < 0) {
                burst = 1;
            }
            checkTolerance(interval, burst);
            if (ticker == null) {
                ticker = Ticker.system();
            }
            return new RateLimiter(this);
        }
    }
}
