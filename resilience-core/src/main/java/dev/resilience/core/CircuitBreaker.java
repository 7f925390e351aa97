package dev.resilience.core;

import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A circuit breaker with the semantics of {@code sony/gobreaker} v2, plus the failure-rate and
 * slow-call-rate trips Resilience4j users configure.
 *
 * <pre>{@code
 * CircuitBreaker breaker = CircuitBreaker.builder("payments")
 *         .openDuration(Duration.ofSeconds(30))                   // open for 30 s
 *         .failureRateThreshold(50, 20).countWindow(100)          // else the default: > 5 consecutive failures
 *         .build();
 *
 * Permit p = breaker.tryAcquire();             // allocation-free, no exception
 * if (p.isPermitted()) {
 *     try { pay(); p.onSuccess(); } catch (IOException e) { p.onFailure(e); }
 * }
 * Receipt r = breaker.call(() -> pay());                        // or: throws CallNotPermittedException
 * }</pre>
 *
 * <p><b>States.</b> CLOSED admits every call and counts outcomes; when {@code readyToTrip(counts)}
 * says so, or a run of {@code consecutiveFailures} failures in a row is reached (default: more than
 * 5, that is 6, when no rate threshold or {@code readyToTrip} is set), or a configured rate window
 * exceeds its threshold, it turns OPEN. A rate threshold replaces the default trip (as
 * Resilience4j's breaker trips on its rate alone); give {@code consecutiveFailures} or
 * {@code readyToTrip} as well to trip on either. OPEN refuses calls until {@code openDuration} has
 * passed, then (lazily, on the next call: there is no timer) turns HALF_OPEN, which admits
 * {@code maxRequests} probes: that many consecutive successes close it, any failure re-opens it. Each state change starts a new
 * <em>generation</em>; results of calls admitted in an earlier generation are ignored. In CLOSED, a
 * non-zero {@code interval} starts a new generation (clearing the counts) every interval, or, with a
 * bucket period, rolls the totals over the last interval without a new generation.
 *
 * <p><b>Cost.</b> The CLOSED path of the permit API writes nothing at admission and, without a
 * slow-call threshold, time-based window or interval, reads no clock and allocates nothing: the
 * permit is the generation itself. In CLOSED, {@link Counts#requests()} counts calls completed in
 * the generation, excluded ones included as in gobreaker v2 (so {@code requests - totalExclusions}
 * are the calls that counted; calls still in flight are not counted); in HALF_OPEN it counts
 * admitted probes, and an excluded probe frees its slot.
 * Under concurrency the consecutive counts follow one interleaving of the racing outcomes.
 *
 * <p><b>Permits.</b> Every permit ends with one of {@link Permit#onSuccess()},
 * {@link Permit#onFailure(Throwable)}, {@link Permit#onExcluded()} or {@link Permit#release()}
 * (the call was cancelled: nothing is counted and a half-open slot comes back). A half-open probe
 * that never reports cannot wedge the breaker: after {@code halfOpenTimeout} (default: the open
 * open duration) a HALF_OPEN breaker re-opens.
 *
 * <p><b>Exclusions.</b> A refusal by a local guard ({@link RequestNotPermittedException} from a rate
 * limiter, bulkhead or adaptive limiter inside the breaker, {@link CallNotPermittedException} from
 * another breaker) says nothing about the dependency's health: it is always excluded, whatever
 * {@link Builder#isExcluded} says. By default the caller's own cancellation
 * ({@link ContextCancelledException}, {@link InterruptedException}) is excluded too; see
 * {@link #defaultExclusions()} to add to that.
 *
 * <p><b>Reload.</b> The rate thresholds, their minimum of calls, the run of failures that trips, the
 * open duration and the number of half-open probes can change on a live breaker
 * ({@link #setFailureRateThreshold}, {@link #setSlowCallRateThreshold}, {@link #setMinimumCalls},
 * {@link #setConsecutiveFailures}, {@link #setOpenDuration}, {@link #setMaxRequests}; a registry
 * reload changes the same settings, all of one breaker's in one step); the window's kind and size,
 * the interval and the predicates are fixed at build. A change keeps the counts: a lower threshold opens the breaker at the next failure (or, for the
 * slow-call rate, the next slow call) if the window already exceeds it; lowering
 * {@code maxRequests} may close a half-open breaker whose probes already succeeded that often (or
 * re-open one whose half-open time is up). A trip is judged by the settings in force when the
 * outcome's listeners have run.
 */
public final class CircuitBreaker implements Policy, Listenable<CircuitBreakerListener> {

    /** The breaker's states. */
    public enum State {
        /** Calls flow and outcomes are counted. */
        CLOSED,
        /** Calls are refused until the open duration passes. */
        OPEN,
        /** A few probe calls decide between CLOSED and OPEN. */
        HALF_OPEN,
        /** Refuses every call until {@link #reset()}. */
        FORCED_OPEN,
        /** Admits every call and counts nothing until {@link #reset()}. */
        DISABLED
    }

    /**
     * gobreaker's {@code Counts} in the current generation.
     *
     * @param requests calls counted, excluded ones included (see the class comment for CLOSED vs HALF_OPEN)
     * @param totalSuccesses successful calls
     * @param totalFailures failed calls
     * @param totalExclusions calls whose outcome was excluded
     * @param consecutiveSuccesses successes since the last failure
     * @param consecutiveFailures failures since the last success
     */
    public record Counts(long requests, long totalSuccesses, long totalFailures, long totalExclusions,
            long consecutiveSuccesses, long consecutiveFailures) {
    }

    private static final Predicate<Throwable> DEFAULT_EXCLUSIONS =
            e -> e instanceof ContextCancelledException || e instanceof InterruptedException;

    private static final VarHandle TUNING;

    static {
        try {
            TUNING = MethodHandles.lookup().findVarHandle(CircuitBreaker.class, "tuning", Tuning.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final Permit REFUSED_OPEN = new RefusedPermit(State.OPEN);
    private static final Permit REFUSED_HALF_OPEN = new RefusedPermit(State.HALF_OPEN);
    private static final Permit REFUSED_FORCED_OPEN = new RefusedPermit(State.FORCED_OPEN);

    private final String name;
    private final Ticker ticker;
    private final long intervalNanos;
    private final long bucketPeriodNanos;
    private final double openMultiplier;
    /** The {@code openBackoff} maximum as built; -1 without a backoff. */
    private final long backoffMaxNanos;
    /** The {@code halfOpenTimeout} as built; -1 to follow the open duration. */
    private final long halfOpenTimeoutSet;
    /** Whether permits carry their start time: built with a slow-call threshold. */
    private final boolean timed;
    /** What a reload may change; replaced whole by the setters (a CAS through {@link #TUNING}). */
    private volatile Tuning tuning;
    /** The user's trip predicate on counts; null unless {@link Builder#readyToTrip} was given. */
    private final Predicate<Counts> readyToTrip;
    private final Predicate<Throwable> isSuccessful;
    private final Predicate<Throwable> isExcluded;
    private final Listeners<CircuitBreakerListener> listeners;
    private final WindowSpec windowSpec;
    private final AtomicReference<Generation> current;
    private final AtomicLong generations = new AtomicLong();

    private CircuitBreaker(Builder b) {
        this.name = b.name;
        this.ticker = b.ticker;
        this.intervalNanos = b.intervalNanos;
        this.bucketPeriodNanos = b.bucketPeriodNanos;
        this.openMultiplier = b.openMultiplier;
        this.backoffMaxNanos = b.maxOpenNanos;
        this.halfOpenTimeoutSet = b.halfOpenTimeoutNanos;
        this.timed = b.slowCallNanos != Long.MAX_VALUE;
        this.tuning = b.tuning();
        this.readyToTrip = b.readyToTrip;
        this.isSuccessful = b.isSuccessful;
        this.isExcluded = b.isExcluded;
        this.listeners = GuardedListeners.ofCircuitBreaker(b.listeners);
        this.windowSpec = b.windowSpec();
        long now = ticker.read();
        this.current = new AtomicReference<>(closed(now, 0, newWindow(now)));
    }

    /** Starts building a breaker; {@code name} identifies it in metrics and errors. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    // ---------------------------------------------------------------- permit API

    /**
     * Asks to make a call; never throws and, when refused, allocates nothing. Check
     * {@link Permit#isPermitted()}.
     */
    public Permit tryAcquire() {
        Generation g = current.get();
        if (!g.expires) {
            switch (g.state) {
                case CLOSED:
                    return g.permit();
                case DISABLED:
                    return g;
                case FORCED_OPEN:
                    listeners.current().onNotPermitted(this, State.FORCED_OPEN);
                    return REFUSED_FORCED_OPEN;
                default:
                    break;
            }
        }
        return acquireSlow(g);
    }

    private Permit acquireSlow(Generation g) {
        long now = ticker.read();
        for (;;) {
            g = advance(g, now);
            switch (g.state) {
                case CLOSED:
                    return g.permit(now);
                case DISABLED:
                    return g;
                case FORCED_OPEN:
                    listeners.current().onNotPermitted(this, State.FORCED_OPEN);
                    return REFUSED_FORCED_OPEN;
                case OPEN:
                    listeners.current().onNotPermitted(this, State.OPEN);
                    return REFUSED_OPEN;
                default:
                    int admitted = g.admitted.get();
                    if (admitted >= tuning.maxRequests) {
                        listeners.current().onNotPermitted(this, State.HALF_OPEN);
                        return REFUSED_HALF_OPEN;
                    }
                    if (g.admitted.compareAndSet(admitted, admitted + 1)) {
                        if (admitted < tuning.maxRequests) { // again: a setMaxRequests may have lowered it since
                            return g.permit(now);
                        }
                        g.admitted.decrementAndGet();
                        listeners.current().onNotPermitted(this, State.HALF_OPEN);
                        return REFUSED_HALF_OPEN;
                    }
                    g = current.get();
            }
        }
    }

    /** Applies the lazy, time-driven transitions due at {@code now}; returns the current generation. */
    private Generation advance(Generation g, long now) {
        for (;;) {
            if (!g.expires || now - g.expiry < 0) {
                return g;
            }
            Generation next;
            switch (g.state) {
                case CLOSED:
                    next = closed(now, g.trips, g.window);
                    break;
                case OPEN:
                    next = new Generation(this, State.HALF_OPEN, generations.incrementAndGet(), true,
                            now + tuning.halfOpenTimeoutNanos, g.trips, null, null);
                    break;
                case HALF_OPEN:
                    next = opened(now, g.trips + 1, tuning);
                    break;
                default:
                    return g;
            }
            if (transition(g, next)) {
                return next;
            }
            g = current.get();
        }
    }

    private Generation closed(long now, int trips, OutcomeWindow window) {
        boolean rolling = bucketPeriodNanos > 0;
        return new Generation(this, State.CLOSED, generations.incrementAndGet(), intervalNanos > 0 && !rolling,
                now + intervalNanos, trips, window,
                rolling ? new RollingCounts(intervalNanos, bucketPeriodNanos, now) : null);
    }

    private Generation opened(long now, int trips, Tuning t) {
        double scaled = t.openNanos * Math.pow(openMultiplier, Math.max(0, trips - 1));
        long open = scaled >= t.maxOpenNanos ? t.maxOpenNanos : (long) scaled;
        return new Generation(this, State.OPEN, generations.incrementAndGet(), true, now + open, trips, null, null);
    }

    /** Replaces {@code from} by {@code to} if still current; tells the listener exactly once. */
    private boolean transition(Generation from, Generation to) {
        if (!current.compareAndSet(from, to)) {
            return false;
        }
        if (from.state != to.state) {
            listeners.current().onStateChange(this, from.state, to.state);
        }
        return true;
    }

    // ---------------------------------------------------------------- synchronous and asynchronous

    /**
     * Calls {@code task} if the breaker permits and records its outcome; the task's exceptions come
     * out unchanged.
     *
     * @throws CallNotPermittedException if the breaker refuses (no stack trace)
     */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        Permit p = tryAcquire();
        if (!p.isPermitted()) {
            throw new CallNotPermittedException(name, ((RefusedPermit) p).state);
        }
        T result;
        try {
            result = next.invoke(index, task);
        } catch (Throwable e) {
            p.onFailure(e);
            throw e;
        }
        p.onSuccess();
        return result;
    }

    /** Runs {@code task} if the breaker permits and records its outcome; allocates nothing. */
    @Override
    public void run(Runnable task) throws Exception {
        Objects.requireNonNull(task, "task");
        Permit p = tryAcquire();
        if (!p.isPermitted()) {
            throw new CallNotPermittedException(name, ((RefusedPermit) p).state);
        }
        try {
            task.run();
        } catch (Throwable e) {
            p.onFailure(e);
            throw e;
        }
        p.onSuccess();
    }

    /**
     * Starts {@code task} if the breaker permits and records the outcome when its stage completes; a
     * cancelled stage releases the permit without counting. Refusal fails the returned stage with
     * {@link CallNotPermittedException}.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        Permit p = tryAcquire();
        if (!p.isPermitted()) {
            return CompletableFuture.failedFuture(new CallNotPermittedException(name, ((RefusedPermit) p).state));
        }
        return Stages.underPermit(p, task);
    }

    // ---------------------------------------------------------------- state and control

    /** The current state, after any transition that is due now. */
    public State state() {
        Generation g = current.get();
        return g.expires ? advance(g, ticker.read()).state : g.state;
    }

    /** The counts of the current generation. */
    public Counts counts() {
        long now = ticker.read();
        Generation g = current.get();
        return (g.expires ? advance(g, now) : g).counts(now);
    }

    /** Opens the breaker until {@link #reset()}; Resilience4j's {@code transitionToForcedOpenState}. */
    public void forceOpen() {
        force(State.FORCED_OPEN);
    }

    /** Admits every call and counts nothing until {@link #reset()}. */
    public void disable() {
        force(State.DISABLED);
    }

    /** Closes the breaker with fresh counts and forgets earlier trips. */
    public void reset() {
        long now = ticker.read();
        for (;;) {
            Generation g = current.get();
            if (transition(g, closed(now, 0, newWindow(now)))) {
                return;
            }
        }
    }

    private void force(State state) {
        for (;;) {
            Generation g = current.get();
            if (transition(g, new Generation(this, state, generations.incrementAndGet(), false, 0L, g.trips, null, null))) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- reload

    /**
     * Changes the failure-rate threshold, for example on a configuration reload; the next failure
     * is judged by it. A breaker with a rate window may gain one this way (built with a slow-call
     * threshold only); one without a window cannot.
     *
     * @param percent opens at this share of failed calls in the window, in (0, 100]
     * @throws IllegalArgumentException if {@code percent} is outside (0, 100]
     * @throws IllegalStateException if the breaker was built without a rate window
     */
    public void setFailureRateThreshold(double percent) {
        retune(new Retuning(null, null, null, Builder.percentage(percent, "failureRateThreshold"), null, null, null));
    }

    /**
     * Changes the slow-call-rate threshold and the duration from which a call counts as slow; the
     * next outcome is judged by them (a call in flight is judged by the duration in force when it
     * ends).
     *
     * @param percent opens at this share of slow calls in the window, in (0, 100]
     * @param slowerThan a call this long or longer is slow
     * @throws IllegalArgumentException if {@code percent} is outside (0, 100] or {@code slowerThan}
     *     is not positive
     * @throws NullPointerException if {@code slowerThan} is null
     * @throws IllegalStateException if the breaker was built without a slow-call threshold (its
     *     permits do not carry their start time)
     */
    public void setSlowCallRateThreshold(double percent, Duration slowerThan) {
        retune(new Retuning(null, null, null, null, Builder.percentage(percent, "slowCallRateThreshold"),
                Objects.requireNonNull(slowerThan, "slowerThan"), null));
    }

    /**
     * Changes how many calls the rate window must hold before a rate threshold can open the
     * breaker (one number for both thresholds).
     *
     * @throws IllegalArgumentException if {@code minimumCalls} is below 1
     * @throws IllegalStateException if the breaker was built without a rate window
     */
    public void setMinimumCalls(int minimumCalls) {
        retune(new Retuning(null, null, minimumCalls, null, null, null, null));
    }

    /**
     * Changes how long the breaker stays open (before any {@code openBackoff} growth, whose maximum
     * is raised to it if lower) and, unless {@code halfOpenTimeout} was set, how long HALF_OPEN
     * waits for its probes. A breaker open now keeps the expiry it has; the next opening uses this.
     *
     * @throws IllegalArgumentException if {@code openDuration} is not positive
     * @throws NullPointerException if {@code openDuration} is null
     */
    public void setOpenDuration(Duration openDuration) {
        retune(new Retuning(null, Objects.requireNonNull(openDuration, "openDuration"), null, null, null, null, null));
    }

    /**
     * Changes the run of failures in a row that opens the breaker (0: none), for example on a
     * configuration reload; the next failure is judged by it. A breaker built with a rate threshold
     * alone may gain one this way (then either trips).
     *
     * @param failures the run of failures that opens the breaker; 0 for none
     * @throws IllegalArgumentException if {@code failures} is negative
     * @throws IllegalStateException if the breaker was built with {@code readyToTrip}, which decides
     *     its trips instead
     */
    public void setConsecutiveFailures(int failures) {
        retune(new Retuning(null, null, null, null, null, null, failures));
    }

    /**
     * Changes how many probes HALF_OPEN admits, and how many consecutive successes close it. A
     * half-open breaker takes it at once: if its probes have already succeeded that many times, it
     * closes now; otherwise it admits probes up to the new number (those admitted already run on,
     * also past a lowered one).
     *
     * @throws IllegalArgumentException if {@code maxRequests} is below 1
     */
    public void setMaxRequests(int maxRequests) {
        retune(new Retuning(maxRequests, null, null, null, null, null, null));
    }

    /**
     * A rate threshold's value for "off" in a {@link Retuning} (the registry's reload turns off a
     * threshold its new configuration removed while the other stays); the public setters refuse it.
     */
    static final double RATE_OFF = 101.0;

    /**
     * Changes to the reloadable settings, applied together; a null leaves that setting as it is.
     * {@code slowRate} and {@code slowerThan} come together or not at all; a rate may be
     * {@link #RATE_OFF}.
     */
    record Retuning(Integer maxRequests, Duration openDuration, Integer minimumCalls, Double failureRate,
            Double slowRate, Duration slowerThan, Integer consecutiveFailures) {
    }

    /** Whether the breaker was built with a {@code readyToTrip} predicate (so its run of failures is not its own). */
    boolean hasTripPredicate() {
        return readyToTrip != null;
    }

    /** Whether the breaker was built with a rate window (so its rate thresholds can change). */
    boolean hasRateWindow() {
        return windowSpec != null;
    }

    /** Whether the breaker was built with a slow-call threshold (so its permits carry their start). */
    boolean timesCalls() {
        return timed;
    }

    /**
     * Checks every change first, then applies them all in one step, so no decision sees some of them
     * without the others (a registry reload changes several at once); then closes a half-open breaker
     * whose probes already meet a lowered {@code maxRequests}.
     *
     * @throws IllegalArgumentException if a value is out of range; nothing changed
     * @throws IllegalStateException if a threshold needs a window or timing the breaker was built
     *     without; nothing changed
     */
    void retune(Retuning r) {
        if (r.maxRequests() != null) {
            Builder.atLeastOne(r.maxRequests(), "maxRequests");
        }
        long open = r.openDuration() == null ? -1 : Checks.positiveNanos(r.openDuration(), "openDuration");
        if (r.minimumCalls() != null) {
            Builder.atLeastOne(r.minimumCalls(), "minimumCalls");
        }
        double failureRate = rate(r.failureRate(), "failureRate");
        double slowRate = rate(r.slowRate(), "slowRate");
        long slow = r.slowerThan() == null ? -1 : Checks.positiveNanos(r.slowerThan(), "slowerThan");
        if ((r.slowRate() == null) != (r.slowerThan() == null)) {
            throw new IllegalArgumentException("slowRate and slowerThan change together");
        }
        if ((r.minimumCalls() != null || r.failureRate() != null) && windowSpec == null) {
            throw new IllegalStateException(name + ": a rate threshold or minimum of calls needs a breaker built with"
                    + " a rate window (countWindow or timeWindow)");
        }
        if (r.consecutiveFailures() != null) {
            Builder.notNegative(r.consecutiveFailures(), "consecutiveFailures");
        }
        if (r.consecutiveFailures() != null && readyToTrip != null) {
            throw new IllegalStateException(name + ": a breaker built with readyToTrip trips by it; its run of"
                    + " consecutive failures cannot be set");
        }
        if (r.slowRate() != null && !timed) {
            throw new IllegalStateException(name + ": a slow-call threshold needs a breaker built with"
                    + " slowCallRateThreshold(...), whose permits carry their start time");
        }
        Tuning t;
        Tuning next;
        do {
            t = tuning;
            next = new Tuning(
                    r.maxRequests() == null ? t.maxRequests : r.maxRequests(),
                    open < 0 ? t.openNanos : open,
                    open < 0 ? t.maxOpenNanos : openMax(open, backoffMaxNanos),
                    open < 0 || halfOpenTimeoutSet >= 0 ? t.halfOpenTimeoutNanos : open,
                    r.minimumCalls() == null ? t.minCalls : r.minimumCalls(),
                    r.failureRate() == null ? t.failureRate : failureRate,
                    r.slowRate() == null ? t.slowRate : slowRate,
                    slow < 0 ? t.slowCallNanos : slow,
                    r.consecutiveFailures() == null ? t.consecutiveFailures : r.consecutiveFailures());
        } while (!TUNING.compareAndSet(this, t, next));
        if (r.maxRequests() != null) {
            long now = ticker.read();
            Generation g = current.get();
            if (g.expires && now - g.expiry >= 0) {
                advance(g, now); // its time is up: it re-opens, as any other path would have it
            } else if (g.state == State.HALF_OPEN && probesSucceeded(g, tuning)) {
                transition(g, closed(now, 0, newWindow(now)));
            }
        }
    }

    /** A rate of a {@link Retuning}: NaN for null, {@link #RATE_OFF} as it is, else a checked percentage. */
    private static double rate(Double percent, String what) {
        if (percent == null) {
            return Double.NaN;
        }
        return percent == RATE_OFF ? RATE_OFF : Builder.percentage(percent, what);
    }

    /** Whether half-open {@code g}'s probes have succeeded as many times in a row as {@code t} asks. */
    private static boolean probesSucceeded(Generation g, Tuning t) {
        return g.successCount() - g.successesAtLastFailure.get() >= t.maxRequests;
    }

    /** The open duration's cap: the backoff's maximum, never below the open duration itself. */
    private static long openMax(long openNanos, long backoffMaxNanos) {
        return backoffMaxNanos < 0 ? openNanos : Math.max(backoffMaxNanos, openNanos);
    }

    private OutcomeWindow newWindow(long now) {
        return windowSpec == null ? null : windowSpec.create(now);
    }

    /** Whether {@code window}'s rates call for a trip at {@code now}, by the thresholds of {@code t}. */
    private static boolean exceeded(OutcomeWindow window, long now, Tuning t) {
        return window.exceeded(now, t.minCalls, t.failureRate, t.slowRate);
    }

    @Override
    public Kind kind() {
        return Kind.CIRCUIT_BREAKER;
    }

    @Override
    public Registration addListener(CircuitBreakerListener listener) {
        return listeners.add(listener);
    }

    /** The breaker's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "CircuitBreaker[" + name + ", " + state() + "]";
    }

    // ---------------------------------------------------------------- outcomes

    private void succeeded(Generation g, long startNanos) {
        if (startNanos == Long.MIN_VALUE && g.plainClosed) {
            if (current.get() == g) {
                g.recordPlainSuccess();
                listeners.current().onSuccess(this);
            }
            return;
        }
        succeededTimed(g, startNanos);
    }

    private void succeededTimed(Generation g, long startNanos) {
        if (current.get() != g) {
            return;
        }
        boolean slow = false;
        long now = 0;
        if (startNanos != Long.MIN_VALUE || g.window instanceof OutcomeWindow.TimeBased || g.rolling != null
                || g.state != State.CLOSED) {
            now = ticker.read();
            if (g.expires && now - g.expiry >= 0) {
                advance(g, now);
                return;
            }
            slow = startNanos != Long.MIN_VALUE && now - startNanos >= tuning.slowCallNanos;
        }
        if (g.countWindow == null) {
            g.successes.increment();
        }
        if (g.rolling != null) {
            g.rolling.record(RollingCounts.SUCCESS, now);
        }
        g.markSuccess();
        listeners.current().onSuccess(this);
        if (slow) {
            listeners.current().onSlowCall(this, now - startNanos);
        }
        switch (g.state) {
            case CLOSED:
                if (g.window != null) {
                    g.window.record(slow ? OutcomeWindow.SLOW : 0, now);
                    if (slow) {
                        // read after the listeners: a setter that returned while they ran is in force
                        Tuning t = tuning;
                        if (exceeded(g.window, now, t)) {
                            transition(g, opened(now, g.trips + 1, t));
                        }
                    }
                }
                break;
            case HALF_OPEN:
                // read again after counting this success: a setMaxRequests racing it either sees the
                // success or is seen here, so one of the two closes the breaker
                if (probesSucceeded(g, tuning)) {
                    transition(g, closed(now, 0, newWindow(now)));
                }
                break;
            default:
                break;
        }
    }

    private void failed(Generation g, long startNanos, Throwable failure) {
        if (g.state == State.DISABLED) {
            return; // counts nothing and asks no predicate, as its Javadoc says
        }
        if (isLocalRefusal(failure) || Callbacks.test(isExcluded, failure, false, "isExcluded")) {
            excluded(g, failure);
            return;
        }
        if (Callbacks.test(isSuccessful, failure, false, "isSuccessful")) {
            succeeded(g, startNanos);
            return;
        }
        if (current.get() != g) {
            return;
        }
        long now = ticker.read();
        if (g.expires && now - g.expiry >= 0) {
            advance(g, now);
            return;
        }
        boolean slow = startNanos != Long.MIN_VALUE && now - startNanos >= tuning.slowCallNanos;
        long failures = g.failures.incrementAndGet();
        if (g.window != null) {
            g.window.record(OutcomeWindow.FAILED | (slow ? OutcomeWindow.SLOW : 0), now);
        }
        g.markFailure();
        if (g.rolling != null) {
            g.rolling.record(RollingCounts.FAILURE, now);
        }
        listeners.current().onFailure(this, failure);
        if (slow) {
            listeners.current().onSlowCall(this, now - startNanos);
        }
        // The trip and the opening are judged by the settings in force now, after the listeners ran: a
        // setter that returned meanwhile (a slow metrics listener, say) is not undone by this failure.
        Tuning t = tuning;
        if (g.state == State.HALF_OPEN) {
            transition(g, opened(now, g.trips + 1, t));
            return;
        }
        // Only a user's readyToTrip takes a Counts snapshot (an allocation); the built-in run of
        // failures and the rate window do not.
        boolean trip = readyToTrip != null && readyToTrip(g.counts(now), failure)
                || t.consecutiveFailures > 0 && g.consecutiveFailures() >= t.consecutiveFailures
                || g.window != null && exceeded(g.window, now, t);
        if (trip && failures > 0) {
            transition(g, opened(now, g.trips + 1, t));
        }
    }

    /** The user's trip predicate; if it throws, the breaker does not trip on its account. */
    private boolean readyToTrip(Counts counts, Throwable failure) {
        try {
            return readyToTrip.test(counts);
        } catch (Throwable e) {
            Callbacks.failed(failure, e, "readyToTrip");
            return false;
        }
    }

    /** A refusal by a guard on this side of the call: never the dependency's failure. */
    private static boolean isLocalRefusal(Throwable failure) {
        return failure instanceof RefusedException;
    }

    /**
     * The exclusions a breaker has when {@link Builder#isExcluded} is not set: the caller's own
     * cancellation ({@link ContextCancelledException}, {@link InterruptedException}). To add to them:
     * {@code .isExcluded(CircuitBreaker.defaultExclusions().or(e -> e instanceof NotFoundException))}.
     * Local refusals are excluded in any case (see the class comment).
     */
    public static Predicate<Throwable> defaultExclusions() {
        return DEFAULT_EXCLUSIONS;
    }

    private void excluded(Generation g, Throwable failure) {
        if (current.get() != g || g.state == State.DISABLED) {
            return;
        }
        g.exclusions.incrementAndGet();
        if (g.rolling != null) {
            g.rolling.record(RollingCounts.EXCLUSION, ticker.read());
        }
        if (g.state == State.HALF_OPEN) {
            g.admitted.decrementAndGet();
        }
        listeners.current().onExcluded(this, failure);
    }

    private void released(Generation g) {
        if (current.get() == g && g.state == State.HALF_OPEN) {
            g.admitted.decrementAndGet();
        }
    }

    /** One generation: its state, expiry and counts. In CLOSED without timing it is also the permit. */
    private static final class Generation implements Permit {
        final CircuitBreaker breaker;
        final State state;
        final long id;
        final boolean expires;
        final long expiry;
        final int trips;
        final OutcomeWindow window;
        final LongAdder successes = new LongAdder();
        final AtomicLong failures = new AtomicLong();
        final AtomicLong exclusions = new AtomicLong();
        final AtomicInteger admitted = new AtomicInteger();
        final AtomicLong failuresAtLastSuccess = new AtomicLong();
        final AtomicLong successesAtLastFailure = new AtomicLong();
        /** gobreaker's rolling totals, when {@code interval} has a bucket period. */
        final RollingCounts rolling;
        /** The count window, whose sequence also counts this generation's successes; or null. */
        final OutcomeWindow.CountBased countWindow;
        /** The window's sequence when this generation began. */
        final long windowBase;
        /** CLOSED with nothing that needs the clock on success: the short path. */
        final boolean plainClosed;

        Generation(CircuitBreaker breaker, State state, long id, boolean expires, long expiry, int trips,
                OutcomeWindow window, RollingCounts rolling) {
            this.breaker = breaker;
            this.state = state;
            this.id = id;
            this.expires = expires;
            this.expiry = expiry;
            this.trips = trips;
            this.window = window;
            this.rolling = rolling;
            this.countWindow = window instanceof OutcomeWindow.CountBased ? (OutcomeWindow.CountBased) window : null;
            this.windowBase = countWindow == null ? 0L : countWindow.recorded();
            this.plainClosed = state == State.CLOSED && rolling == null
                    && (window == null || countWindow != null) && !breaker.timed;
        }

        /** A success on the short path: one atomic increment (the window's, or the adder's). */
        void recordPlainSuccess() {
            if (countWindow != null) {
                countWindow.record(0, 0L);
            } else {
                successes.increment();
            }
            markSuccess();
        }

        /**
         * Ends the run of consecutive failures; writes only if there was one. The mark only moves
         * forward: a thread preempted between reading the count and writing it must not write its
         * older count over a newer one (which would make up a run of failures that never happened).
         */
        void markSuccess() {
            advanceTo(failuresAtLastSuccess, failures.get());
        }

        /** Ends the run of consecutive successes, forward only, as {@link #markSuccess}. */
        void markFailure() {
            advanceTo(successesAtLastFailure, successCount());
        }

        private static void advanceTo(AtomicLong mark, long value) {
            for (long seen = mark.get(); seen < value; seen = mark.get()) {
                if (mark.compareAndSet(seen, value)) {
                    return;
                }
            }
        }

        /** Successes in this generation: counted by the window's sequence when there is one. */
        long successCount() {
            if (countWindow != null) {
                return Math.max(0L, countWindow.recorded() - windowBase - failures.get());
            }
            return successes.sum();
        }

        Permit permit() {
            return breaker.timed ? new TimedPermit(this, breaker.ticker.read()) : this;
        }

        Permit permit(long now) {
            return breaker.timed ? new TimedPermit(this, now) : this;
        }

        /** Failures since the last success in this generation, as {@link Counts#consecutiveFailures()}. */
        long consecutiveFailures() {
            return Math.max(0, failures.get() - failuresAtLastSuccess.get());
        }

        Counts counts(long now) {
            long s = successCount();
            long f = failures.get();
            long consecutiveSuccesses = Math.max(0, s - successesAtLastFailure.get());
            long consecutiveFailures = Math.max(0, f - failuresAtLastSuccess.get());
            if (rolling != null) {
                long[] t = rolling.totals(now);
                return new Counts(t[0] + t[1] + t[2], t[0], t[1], t[2], consecutiveSuccesses, consecutiveFailures);
            }
            long x = exclusions.get();
            // HALF_OPEN: an excluded probe gave its slot back, so it is added here, keeping
            // requests - totalExclusions the probes that count
            long requests = state == State.HALF_OPEN ? admitted.get() + x : s + f + x;
            return new Counts(requests, s, f, x, consecutiveSuccesses, consecutiveFailures);
        }

        @Override
        public boolean isPermitted() {
            return true;
        }

        @Override
        public void onSuccess() {
            if (state != State.DISABLED) {
                breaker.succeeded(this, Long.MIN_VALUE);
            }
        }

        @Override
        public void onFailure(Throwable failure) {
            if (failure == null) {
                breaker.released(this); // a caller bug must not strand a half-open probe slot
                throw new NullPointerException("failure");
            }
            breaker.failed(this, Long.MIN_VALUE, failure);
        }

        @Override
        public void onExcluded() {
            breaker.excluded(this, null);
        }

        @Override
        public void release() {
            breaker.released(this);
        }

        @Override
        public String toString() {
            return "Generation[" + state + " #" + id + "]";
        }
    }

    /** A permit that remembers its start, for slow-call detection. */
    private static final class TimedPermit implements Permit {
        private final Generation generation;
        private final long start;

        TimedPermit(Generation generation, long start) {
            this.generation = generation;
            this.start = start == Long.MIN_VALUE ? start + 1 : start;
        }

        @Override
        public boolean isPermitted() {
            return true;
        }

        @Override
        public void onSuccess() {
            generation.breaker.succeeded(generation, start);
        }

        @Override
        public void onFailure(Throwable failure) {
            if (failure == null) {
                generation.breaker.released(generation);
                throw new NullPointerException("failure");
            }
            generation.breaker.failed(generation, start, failure);
        }

        @Override
        public void onExcluded() {
            generation.breaker.excluded(generation, null);
        }

        @Override
        public void release() {
            generation.breaker.released(generation);
        }
    }

    /** How to make a fresh rate window. */
    private record WindowSpec(boolean timeBased, int size, long bucketNanos) {
        OutcomeWindow create(long now) {
            return timeBased
                    ? new OutcomeWindow.TimeBased(size, bucketNanos, now)
                    : new OutcomeWindow.CountBased(size);
        }
    }

    /**
     * The settings a reload may change, read together: half-open probes, open timing, the rate
     * thresholds ({@link #RATE_OFF} is off) and their minimum of calls, the slow-call duration, the
     * run of failures that trips (0: none).
     */
    private record Tuning(int maxRequests, long openNanos, long maxOpenNanos, long halfOpenTimeoutNanos,
            int minCalls, double failureRate, double slowRate, long slowCallNanos, int consecutiveFailures) {
    }

    /**
     * Builds a {@link CircuitBreaker}. Defaults are gobreaker's: {@code maxRequests} 1,
     * {@code interval} 0 (counts never cleared while closed), {@code openDuration} 60 s,
     * {@code consecutiveFailures} 6, gobreaker's "more than 5" (unless a rate threshold or
     * {@code readyToTrip} is set: then the rate alone trips, as in Resilience4j; set
     * {@code consecutiveFailures} or {@code readyToTrip} too for both), every exception a failure except a
     * {@link ContextCancelledException} or {@link InterruptedException} (the caller gave up, which
     * says nothing of the dependency's health: excluded). Each setter may be called once.
     */
    public static final class Builder {
        /** gobreaker's defaults, also what a registry reload falls back to when a key is removed. */
        static final int DEFAULT_MAX_REQUESTS = 1;
        static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(60);
        /** gobreaker's default trip, more than 5 failures in a row, when nothing else trips the breaker. */
        static final int DEFAULT_CONSECUTIVE_FAILURES = 6;

        private final String name;
        private Ticker ticker;
        private int maxRequests = -1;
        private long intervalNanos = -1;
        private long bucketPeriodNanos = 0;
        private long timeoutNanos = -1;
        private double openMultiplier = Double.NaN;
        private long maxOpenNanos = -1;
        private long halfOpenTimeoutNanos = -1;
        private long slowCallNanos = -1;
        private Predicate<Counts> readyToTrip;
        private int consecutiveFailures = -1;
        private Predicate<Throwable> isSuccessful;
        private Predicate<Throwable> isExcluded;
        private final List<CircuitBreakerListener> listeners = new ArrayList<>();
        private double failureRate = Double.NaN;
        private double slowRate = Double.NaN;
        private int minCalls = -1;
        private int countWindow = -1;
        private int timeBuckets = -1;
        private long bucketNanos = -1;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** The clock; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Half-open probes admitted, and consecutive successes that close; default 1. */
        public Builder maxRequests(int maxRequests) {
            Checks.once(this.maxRequests < 0, "maxRequests");
            this.maxRequests = atLeastOne(maxRequests, "maxRequests");
            return this;
        }

        /** The closed-state period after which counts are cleared; zero (default) never clears them. */
        public Builder interval(Duration interval) {
            Checks.once(this.intervalNanos < 0, "interval");
            this.intervalNanos = Checks.nonNegativeNanos(interval, "interval");
            return this;
        }

        /**
         * A rolling closed-state window, gobreaker v2's {@code Interval} with {@code BucketPeriod}:
         * the totals of {@link Counts} cover the last {@code interval}, dropped one
         * {@code bucketPeriod} at a time, and the generation does not change when they roll
         * (consecutive counts are not rolled). Reads the clock once per outcome.
         */
        public Builder interval(Duration interval, Duration bucketPeriod) {
            Checks.once(this.intervalNanos < 0, "interval");
            long len = Checks.positiveNanos(interval, "interval");
            long bucket = Checks.positiveNanos(bucketPeriod, "bucketPeriod");
            if (len % bucket != 0 || len / bucket > 10_000) {
                throw new IllegalArgumentException(
                        "interval must be a multiple of bucketPeriod, at most 10000 buckets: " + interval + " / "
                                + bucketPeriod);
            }
            this.intervalNanos = len;
            this.bucketPeriodNanos = bucket;
            return this;
        }

        /**
         * How long the breaker stays open before probing; default 60 s. gobreaker calls it
         * {@code Timeout}, Resilience4j {@code waitDurationInOpenState}.
         */
        public Builder openDuration(Duration openDuration) {
            Checks.once(this.timeoutNanos < 0, "openDuration");
            this.timeoutNanos = Checks.positiveNanos(openDuration, "openDuration");
            return this;
        }

        /**
         * Grows the open duration on repeated trips without a close in between: the n-th trip stays
         * open {@code openDuration x multiplier^(n-1)}, at most {@code max}.
         */
        public Builder openBackoff(double multiplier, Duration max) {
            Checks.once(Double.isNaN(this.openMultiplier), "openBackoff");
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("multiplier must be at least 1: " + multiplier);
            }
            this.openMultiplier = multiplier;
            this.maxOpenNanos = Checks.positiveNanos(max, "max");
            return this;
        }

        /** How long HALF_OPEN may wait for its probes before re-opening; default the open duration. */
        public Builder halfOpenTimeout(Duration timeout) {
            Checks.once(this.halfOpenTimeoutNanos < 0, "halfOpenTimeout");
            this.halfOpenTimeoutNanos = Checks.positiveNanos(timeout, "timeout");
            return this;
        }

        /**
         * Opens the breaker at this many failures in a row (0: never on that account), what a gobreaker
         * user writes as a {@code ReadyToTrip} on {@code ConsecutiveFailures}; without it, and without a
         * rate threshold or {@link #readyToTrip}, 6 (gobreaker's "more than 5"). Beside a rate threshold,
         * either trips. Unlike a predicate it can change on a live breaker
         * ({@link CircuitBreaker#setConsecutiveFailures}) and takes no snapshot of the counts.
         *
         * @param failures the run of failures that opens the breaker; 0 for none
         * @return this builder
         * @throws IllegalArgumentException if {@code failures} is negative
         * @throws IllegalStateException if called twice
         */
        public Builder consecutiveFailures(int failures) {
            Checks.once(this.consecutiveFailures < 0, "consecutiveFailures");
            this.consecutiveFailures = notNegative(failures, "consecutiveFailures");
            return this;
        }

        /**
         * When to trip, given the closed-state counts after a failure; gobreaker's {@code ReadyToTrip}.
         * Not with {@link #consecutiveFailures} ({@code build()} refuses the two together).
         */
        public Builder readyToTrip(Predicate<Counts> readyToTrip) {
            Checks.once(this.readyToTrip == null, "readyToTrip");
            this.readyToTrip = Objects.requireNonNull(readyToTrip, "readyToTrip");
            return this;
        }

        /** Exceptions that nevertheless count as success; gobreaker's {@code IsSuccessful}. */
        public Builder isSuccessful(Predicate<Throwable> isSuccessful) {
            Checks.once(this.isSuccessful == null, "isSuccessful");
            this.isSuccessful = Objects.requireNonNull(isSuccessful, "isSuccessful");
            return this;
        }

        /**
         * Exceptions that count neither way; gobreaker v2's {@code IsExcluded}. Replaces
         * {@link CircuitBreaker#defaultExclusions()}; combine with it to add to the defaults. Local
         * refusals are excluded whatever this says.
         */
        public Builder isExcluded(Predicate<Throwable> isExcluded) {
            Checks.once(this.isExcluded == null, "isExcluded");
            this.isExcluded = Objects.requireNonNull(isExcluded, "isExcluded");
            return this;
        }

        /**
         * Adds a listener of the circuit breaker's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(CircuitBreakerListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Trips when at least {@code percent} of the calls in the window failed, once it holds at
         * least {@code minimumCalls}; needs {@link #countWindow} or {@link #timeWindow}.
         */
        public Builder failureRateThreshold(double percent, int minimumCalls) {
            Checks.once(Double.isNaN(this.failureRate), "failureRateThreshold");
            this.failureRate = percentage(percent, "failureRateThreshold");
            setMinCalls(minimumCalls);
            return this;
        }

        /**
         * Trips when at least {@code percent} of the calls in the window took {@code slowerThan} or
         * longer, once it holds at least {@code minimumCalls}. Permits then carry their start time
         * (one small object per call).
         */
        public Builder slowCallRateThreshold(double percent, Duration slowerThan, int minimumCalls) {
            Checks.once(Double.isNaN(this.slowRate), "slowCallRateThreshold");
            this.slowRate = percentage(percent, "slowCallRateThreshold");
            this.slowCallNanos = Checks.positiveNanos(slowerThan, "slowerThan");
            setMinCalls(minimumCalls);
            return this;
        }

        /** The rate window holds the last {@code size} calls (Resilience4j's COUNT_BASED). */
        public Builder countWindow(int size) {
            Checks.once(countWindow < 0 && timeBuckets < 0, "window");
            this.countWindow = atLeastOne(size, "size");
            return this;
        }

        /**
         * The rate window holds the calls of the last {@code length}, in buckets of
         * {@code bucketPeriod} (Resilience4j's TIME_BASED with one-second buckets).
         */
        public Builder timeWindow(Duration length, Duration bucketPeriod) {
            Checks.once(countWindow < 0 && timeBuckets < 0, "window");
            long len = Checks.positiveNanos(length, "length");
            long bucket = Checks.positiveNanos(bucketPeriod, "bucketPeriod");
            if (len % bucket != 0 || len / bucket > 10_000) {
                throw new IllegalArgumentException("length must be a multiple of bucketPeriod, at most 10000 buckets: "
                        + length + " / " + bucketPeriod);
            }
            this.timeBuckets = (int) (len / bucket);
            this.bucketNanos = bucket;
            return this;
        }

        /** Builds the breaker, CLOSED. */
        public CircuitBreaker build() {
            boolean rates = rateThreshold();
            boolean window = countWindow > 0 || timeBuckets > 0;
            if (rates != window) {
                throw new IllegalStateException(rates
                        ? "a rate threshold needs countWindow(...) or timeWindow(...)"
                        : "a window needs failureRateThreshold(...) or slowCallRateThreshold(...)");
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            if (maxRequests < 0) {
                maxRequests = DEFAULT_MAX_REQUESTS;
            }
            if (intervalNanos < 0) {
                intervalNanos = 0;
            }
            if (timeoutNanos < 0) {
                timeoutNanos = DEFAULT_OPEN_DURATION.toNanos();
            }
            if (Double.isNaN(openMultiplier)) {
                openMultiplier = 1.0;
            }
            if (slowCallNanos < 0) {
                slowCallNanos = Long.MAX_VALUE;
            }
            if (readyToTrip != null && consecutiveFailures >= 0) {
                throw new IllegalStateException("readyToTrip or consecutiveFailures, not both");
            }
            if (isSuccessful == null) {
                isSuccessful = e -> false;
            }
            if (isExcluded == null) {
                isExcluded = DEFAULT_EXCLUSIONS;
            }
            return new CircuitBreaker(this);
        }

        WindowSpec windowSpec() {
            if (countWindow < 0 && timeBuckets < 0) {
                return null;
            }
            return countWindow > 0 ? new WindowSpec(false, countWindow, 0L) : new WindowSpec(true, timeBuckets, bucketNanos);
        }

        /** The reloadable settings as built; after {@link #build()} set the defaults. */
        Tuning tuning() {
            return new Tuning(maxRequests, timeoutNanos, openMax(timeoutNanos, maxOpenNanos),
                    halfOpenTimeoutNanos < 0 ? timeoutNanos : halfOpenTimeoutNanos, minCalls,
                    Double.isNaN(failureRate) ? RATE_OFF : failureRate, Double.isNaN(slowRate) ? RATE_OFF : slowRate,
                    slowCallNanos, consecutiveFailures >= 0 ? consecutiveFailures // the default not written back
                            : readyToTrip != null ? 0 : defaultConsecutiveFailures(rateThreshold()));
        }

        private void setMinCalls(int minimumCalls) {
            atLeastOne(minimumCalls, "minimumCalls");
            this.minCalls = minCalls < 0 ? minimumCalls : Math.min(minCalls, minimumCalls);
        }

        /** Whether a failure-rate or slow-call-rate threshold is set. */
        private boolean rateThreshold() {
            return !Double.isNaN(failureRate) || !Double.isNaN(slowRate);
        }

        /**
         * The run of failures that trips a breaker given no {@code consecutiveFailures} and no
         * {@code readyToTrip}: gobreaker's 6 ("more than 5"), none beside a rate threshold (which replaces
         * it, as in Resilience4j). A registry reload falls back to it when the key is removed.
         */
        static int defaultConsecutiveFailures(boolean rateThreshold) {
            return rateThreshold ? 0 : DEFAULT_CONSECUTIVE_FAILURES;
        }

        /** {@code value}, if not negative. */
        static int notNegative(int value, String what) {
            if (value < 0) {
                throw new IllegalArgumentException(what + " must not be negative: " + value);
            }
            return value;
        }

        /** {@code value}, if at least 1. */
        static int atLeastOne(int value, String what) {
            if (value < 1) {
                throw new IllegalArgumentException(what + " must be at least 1: " + value);
            }
            return value;
        }

        static double percentage(double percent, String what) {
            if (!(percent > 0 && percent <= 100)) {
                throw new IllegalArgumentException(what + " must be a percentage in (0, 100]: " + percent);
            }
            return percent;
        }

    }
}
