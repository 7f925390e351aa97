package dev.resilience.core;

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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Client-side throttling as Google's SRE book describes it ("Handling Overload") and go-zero uses
 * as its default breaker: instead of flipping between closed and open, the client drops each call
 * with probability
 *
 * <pre>{@code
 * dropRatio = max(0, (requests - protection - K * accepts) / (requests + 1))
 * }</pre>
 *
 * <p>over a rolling window (default 10 s in 40 buckets), where {@code requests} are the calls the
 * application attempted (those the throttle dropped included, as the book defines them; see
 * {@link Builder#countDroppedCalls(boolean)}) and {@code accepts} the calls the dependency accepted. While the dependency accepts everything,
 * nothing is dropped; when it refuses, the client sends it about {@code K} times what it accepts and
 * drops the rest at once, locally, so an overloaded dependency is not kept busy refusing.
 *
 * <pre>{@code
 * AdaptiveThrottle throttle = AdaptiveThrottle.builder("payments").build();  // K 1.5, protection 5
 * Receipt r = throttle.call(() -> pay());               // or: throws ThrottledException
 *
 * Permit p = throttle.tryAcquire();                       // allocation-free, no lock, one clock read
 * if (p.isPermitted()) {
 *     try { pay(); p.onSuccess(); } catch (IOException e) { p.onFailure(e); }
 * }
 * }</pre>
 *
 * <p><b>Defaults and choices.</b>
 * <ul>
 * <li>{@code K} 1.5 (go-zero's; the book suggests 2). Larger is more lenient.</li>
 * <li>{@code protection} 5: the first 5 requests of a window are never dropped, so low traffic is
 *     never throttled.</li>
 * <li>A forced pass: while calls are being dropped, one goes through whenever none has for
 *     {@code forcedPassInterval} (default 1 s), so a recovered dependency is noticed even when the
 *     ratio is near 1. Only passes while dropping are remembered (remembering every call would be a
 *     shared write per call), so the first call dropped after a calm spell may pass as a forced
 *     pass: one call more than go-zero.</li>
 * <li>Recovery scaling (on by default, as go-zero does, but faster): the ratio is multiplied by
 *     {@code max(0, span - working) / span}, where {@code working} is the latest completed buckets in
 *     a row whose calls were all accepted (buckets without calls neither count nor break the run) and
 *     {@code span} the buckets of {@link Builder#recoveryTime(Duration) recoveryTime} (default 2 s:
 *     8 buckets of 250 ms); once that many buckets of calls in a row were all accepted, nothing is
 *     dropped, instead of dropping until the refusals age out of the window and the accepts build up
 *     again. go-zero fades over the whole window and never quite to 0 ({@code (40 - working) / 40});
 *     {@code recoveryTime} equal to the window gives this class's earlier fade,
 *     {@code (39 - working) / 39}, the closest to it. The default is shorter because the fade is
 *     undone by the next failure: the formula keeps the window's memory, and the first refusal or
 *     failure recorded ends the run, so from the next bucket on the formula's ratio applies again.
 *     What a relapse costs is the calls admitted until its first failures are recorded (for a
 *     dependency that hangs, until the calls time out; a closed breaker admits them too) and at most
 *     one bucket after that, where a slow fade costs seconds of goodput after every recovery (the
 *     overload lab's outage). At a call or two per bucket, all-accept buckets also happen by chance.
 *     By a calculation (not measured; Poisson arrivals of 1.5 calls a bucket reaching a dependency
 *     that refuses half): fewer than one bucket in 10,000 completes a run of 8, but shorter runs lower
 *     the drop ratio by about 6 % on average (with a span of 39, about 1 %), so at such low traffic
 *     the ratio sits a little below the formula's.
 *     {@link Builder#recoveryScaling(boolean) recoveryScaling(false)} gives the book's formula.</li>
 * <li>Lowering {@code K} while failing (off by default; go-zero always does it):
 *     {@link Builder#lowerKWhileFailing(double) lowerKWhileFailing(1.1)} lowers {@code K} towards
 *     {@code minK} in proportion to the latest completed buckets in a row that had only refusals, so
 *     a dependency that is down is sent less. Off by default so that the drop ratio is the book's
 *     formula, which operators can compute from the metrics.</li>
 * </ul>
 *
 * <p><b>What counts.</b> An outcome is classified as a {@link CircuitBreaker}'s is: an exception
 * that {@link Builder#isSuccessful} accepts (a business error) is an accept; a refusal by a local
 * guard ({@link RefusedException}) and what {@link Builder#isExcluded} excludes (by default the
 * caller's own cancellation) count neither way; any other exception (a timeout, a 5xx) is a
 * request that was not accepted. {@link Permit#release()} counts nothing.
 *
 * <p><b>Cost.</b> {@link #tryAcquire()} reads the clock once, reads the current bucket's counters and
 * the window's totals of its completed buckets (recomputed once per bucket period, by the first call
 * of the new period, which allocates that period's two small objects); it takes no lock and
 * allocates nothing per call (the permit is shared). The outcome increments one counter of the
 * period of the latest admission, without reading the clock: an outcome counts in the bucket of the
 * latest call admitted by any thread, so the outcome of a call that outlived the whole window while
 * no other call was admitted is not counted. A random number is drawn only while calls are being
 * dropped. Each bucket period has its own counters, so recycling a bucket never loses what other
 * threads add. A granted permit must be ended once: being shared, it cannot tell a second end from
 * another call's.
 */
public final class AdaptiveThrottle implements Policy, Listenable<AdaptiveThrottleListener> {

    private static final Permit REFUSED = new RefusedPermit(null);
    /** What {@link #decide} returns for an admitted call. */
    private static final double ADMITTED = -1;
    private static final VarHandle WINDOW;
    private static final VarHandle ACCEPTS;
    private static final VarHandle FAILURES;
    private static final VarHandle DROPS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            WINDOW = lookup.findVarHandle(AdaptiveThrottle.class, "window", Window.class);
            ACCEPTS = lookup.findVarHandle(Period.class, "accepts", long.class);
            FAILURES = lookup.findVarHandle(Period.class, "failures", long.class);
            DROPS = lookup.findVarHandle(Period.class, "drops", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One bucket period's counts: a new object for each period, so that recycling a bucket never
     * resets counts another thread is adding to (outcomes that arrive late go to the old period,
     * which the window stops counting when it ages out).
     */
    private static final class Period {
        final long epoch;
        volatile long accepts;
        volatile long failures;
        volatile long drops;

        Period(long epoch) {
            this.epoch = epoch;
        }
    }

    private final String name;
    private final Ticker ticker;
    private final double k;
    private final double minK;
    private final int protection;
    private final int buckets;
    private final long bucketNanos;
    private final long forcedPassNanos;
    /** The all-accept buckets in a row after which nothing is dropped; 0 without recovery scaling. */
    private final int recoverySpan;
    private final boolean countDropped;
    private final DoubleSupplier random;
    private final Predicate<Throwable> isSuccessful;
    private final Predicate<Throwable> isExcluded;
    private final Listeners<AdaptiveThrottleListener> listeners;
    /** The periods of the window by {@code epoch mod buckets}; a slot holds the latest period that used it. */
    private final AtomicReferenceArray<Period> ring;
    /** The ticker's reading at construction: epochs count bucket periods from it (wrap-safe). */
    private final long origin;
    private final AtomicLong lastPass;
    private final Permit admitted = new Admitted();
    /** The current bucket and the totals of the window's completed buckets; replaced once per bucket period. */
    private volatile Window window;

    /**
     * The current period, and what the window's other periods held when it began.
     *
     * @param start the ticker reading at which the period began
     * @param failing the latest completed buckets in a row with refusals and no accept
     * @param working the latest completed buckets in a row with accepts and no refusal
     */
    private record Window(long epoch, long start, Period current, long requests, long accepts, int failing, int working) {
    }

    private AdaptiveThrottle(Builder b) {
        this.name = b.name;
        this.ticker = b.ticker;
        this.k = b.k;
        this.minK = b.minK;
        this.protection = b.protection;
        this.buckets = b.buckets;
        this.bucketNanos = Math.max(1, b.windowNanos / b.buckets);
        this.forcedPassNanos = b.forcedPassNanos;
        this.recoverySpan = !b.recoveryScaling || b.buckets < 2 ? 0
                : (int) Math.max(1, Math.min(b.buckets - 1, ceilDiv(b.recoveryNanos, bucketNanos)));
        this.countDropped = b.countDropped;
        this.random = b.random;
        this.isSuccessful = b.isSuccessful != null ? b.isSuccessful : e -> false;
        this.isExcluded = b.isExcluded != null ? b.isExcluded : CircuitBreaker.defaultExclusions();
        this.listeners = GuardedListeners.ofAdaptiveThrottle(b.listeners);
        this.ring = new AtomicReferenceArray<>(buckets);
        long now = ticker.read();
        this.origin = now;
        Period first = new Period(0);
        ring.set(0, first);
        this.window = new Window(0, now, first, 0, 0, 0, 0);
        this.lastPass = new AtomicLong(now);
    }

    /** Starts building a throttle; {@code name} identifies it in metrics and errors. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    // ---------------------------------------------------------------- permit API

    /**
     * Asks to make a call: never throws, takes no lock and allocates nothing. Check
     * {@link Permit#isPermitted()}; a granted permit must end with one of its methods.
     */
    public Permit tryAcquire() {
        return decide() == ADMITTED ? admitted : REFUSED;
    }

    /** Admits or drops a call: {@link #ADMITTED}, or the ratio with which it was dropped. */
    private double decide() {
        long now = ticker.read();
        Window w = window(now);
        Period p = w.current;
        long accepts = p.accepts;
        double ratio = ratio(w.requests + requests(p, accepts), w.accepts + accepts, w);
        if (ratio <= 0) {
            return ADMITTED;
        }
        long last = lastPass.get();
        if (now - last >= forcedPassNanos && lastPass.compareAndSet(last, now)) {
            return ADMITTED; // nothing went through for a while: let one call see whether the dependency is back
        }
        if (!(draw() < ratio)) {
            lastPass.set(now);
            return ADMITTED;
        }
        DROPS.getAndAdd(p, 1L); // a request, as the book counts them, unless countDroppedCalls(false)
        listeners.current().onRejected(this, ratio);
        return ratio;
    }

    /** The random source's next number in [0, 1); if it throws, 1 (the call is not dropped on its account). */
    private double draw() {
        try {
            return random.getAsDouble();
        } catch (Throwable e) {
            Callbacks.failed(null, e, "the throttle's random source");
            return 1.0;
        }
    }

    /** The requests period {@code p} holds, given its {@code accepts}. */
    private long requests(Period p, long accepts) {
        long r = accepts + p.failures;
        return countDropped ? r + p.drops : r;
    }

    /** The drop ratio for these totals (the current bucket's included). */
    private double ratio(long requests, long accepts, Window w) {
        double weight = k;
        if (!Double.isNaN(minK)) {
            weight = Math.max(minK, k - (k - minK) * w.failing / buckets);
        }
        double excess = requests - protection - weight * accepts;
        if (excess <= 0) {
            return 0; // the common case: no division
        }
        double ratio = excess / (requests + 1.0);
        if (recoverySpan > 0 && w.working > 0) {
            ratio *= (double) Math.max(0, recoverySpan - w.working) / recoverySpan;
        }
        return ratio;
    }

    /** {@code a / b} rounded up, for positive operands (Math.ceilDiv is Java 18). */
    private static long ceilDiv(long a, long b) {
        return a / b + (a % b == 0 ? 0 : 1);
    }

    /** The window of {@code now}: the current one, or a new one if a bucket period has begun. */
    private Window window(long now) {
        Window w = window;
        long offset = now - w.start; // differences only: the ticker may have any origin, and wrap
        if (offset >= 0 && offset < bucketNanos) {
            return w;
        }
        if (offset < 0) {
            return w; // the clock went back: stay in the current bucket
        }
        return roll(w, Math.floorDiv(now - origin, bucketNanos));
    }

    private Window roll(Window w, long epoch) {
        if (epoch - w.epoch <= 0) {
            return w;
        }
        int index = (int) Math.floorMod(epoch, (long) buckets);
        Period p = ring.get(index);
        while (p == null || p.epoch - epoch < 0) { // an older period's slot: ours now
            Period fresh = new Period(epoch);
            if (ring.compareAndSet(index, p, fresh)) {
                p = fresh;
                break;
            }
            p = ring.get(index);
        }
        if (p.epoch != epoch) {
            return (Window) WINDOW.getVolatile(this); // this thread is late: a later period has begun
        }
        long requests = 0;
        long accepts = 0;
        int failing = 0;
        int working = 0;
        for (long e = epoch - buckets + 1; e - epoch < 0; e++) { // oldest first
            Period q = ring.get((int) Math.floorMod(e, (long) buckets));
            if (q == null || q.epoch != e) {
                continue; // no traffic in that period: the runs go on as they were
            }
            long a = q.accepts;
            long f = q.failures;
            requests += requests(q, a);
            accepts += a;
            working = f > 0 ? 0 : a > 0 ? working + 1 : working;
            failing = a > 0 ? 0 : f > 0 ? failing + 1 : failing;
        }
        Window next = new Window(epoch, origin + epoch * bucketNanos, p, requests, accepts, failing, working);
        if (WINDOW.compareAndSet(this, w, next)) {
            return next;
        }
        return (Window) WINDOW.getVolatile(this);
    }

    private void accepted() {
        ACCEPTS.getAndAdd(window.current, 1L);
        listeners.current().onAccepted(this);
    }

    private void failed(Throwable failure) {
        if (failure instanceof RefusedException || Callbacks.test(isExcluded, failure, false, "isExcluded")) {
            return;
        }
        if (Callbacks.test(isSuccessful, failure, false, "isSuccessful")) {
            accepted();
            return;
        }
        FAILURES.getAndAdd(window.current, 1L);
        listeners.current().onFailure(this, failure);
    }

    /** The one granted permit: an admission carries no per-call data. */
    private final class Admitted implements Permit {
        @Override
        public boolean isPermitted() {
            return true;
        }

        @Override
        public void onSuccess() {
            accepted();
        }

        @Override
        public void onFailure(Throwable failure) {
            failed(Objects.requireNonNull(failure, "failure"));
        }

        @Override
        public void onExcluded() {
        }

        @Override
        public void release() {
        }

        @Override
        public String toString() {
            return "Permitted[" + name + "]";
        }
    }

    // ---------------------------------------------------------------- synchronous and asynchronous

    /**
     * Calls {@code task} unless the throttle drops it, and counts its outcome; the task's exceptions
     * come out unchanged.
     *
     * @throws ThrottledException if the throttle drops the call (no stack trace)
     */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        double dropped = decide();
        if (dropped != ADMITTED) {
            throw new ThrottledException(name, dropped);
        }
        Permit p = admitted;
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

    /** Runs {@code task} unless the throttle drops it, and counts its outcome; allocates nothing. */
    @Override
    public void run(Runnable task) throws Exception {
        Objects.requireNonNull(task, "task");
        double dropped = decide();
        if (dropped != ADMITTED) {
            throw new ThrottledException(name, dropped);
        }
        Permit p = admitted;
        try {
            task.run();
        } catch (Throwable e) {
            p.onFailure(e);
            throw e;
        }
        p.onSuccess();
    }

    /**
     * Starts {@code task} unless the throttle drops it, and counts the outcome when its stage
     * completes; a cancelled stage counts nothing. A drop fails the returned stage with
     * {@link ThrottledException}.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        double dropped = decide();
        if (dropped != ADMITTED) {
            return CompletableFuture.failedFuture(new ThrottledException(name, dropped));
        }
        Permit p = admitted;
        return Stages.underPermit(p, task);
    }

    // ---------------------------------------------------------------- state

    /**
     * The probability with which a call would be dropped now (before the forced pass), in [0, 1):
     * what a gauge shows.
     */
    public double dropRatio() {
        Window w = window(ticker.read());
        long accepts = w.current.accepts;
        return ratio(w.requests + requests(w.current, accepts), w.accepts + accepts, w);
    }

    /**
     * The window's totals now.
     *
     * @param requests calls attempted whose outcome is known (dropped ones included, unless
     *     {@link Builder#countDroppedCalls(boolean) countDroppedCalls(false)})
     * @param accepts calls the dependency accepted
     * @param failures calls it refused or failed
     * @param dropRatio the probability with which a call would be dropped now
     */
    public record Stats(long requests, long accepts, long failures, double dropRatio) {
    }

    /** The window's totals and the drop ratio now (allocates: for monitoring, not for each call). */
    public Stats stats() {
        Window w = window(ticker.read());
        long requests = 0;
        long accepts = 0;
        long failures = 0;
        for (long e = w.epoch - buckets + 1; e - w.epoch <= 0; e++) {
            Period q = ring.get((int) Math.floorMod(e, (long) buckets));
            if (q != null && q.epoch == e) {
                long a = q.accepts;
                requests += requests(q, a);
                accepts += a;
                failures += q.failures;
            }
        }
        return new Stats(requests, accepts, failures, dropRatio());
    }

    /** Where a {@linkplain Pipeline#DEFAULT_ORDER default-ordered} pipeline puts it: in the circuit breaker's place. */
    @Override
    public Kind kind() {
        return Kind.CIRCUIT_BREAKER;
    }

    @Override
    public Registration addListener(AdaptiveThrottleListener listener) {
        return listeners.add(listener);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "AdaptiveThrottle[" + name + ", K " + k + ", protection " + protection + ", recoveryTime "
                + (recoverySpan == 0 ? "off" : Duration.ofNanos(recoverySpan * bucketNanos)) + ", dropRatio " + dropRatio() + "]";
    }

    // ---------------------------------------------------------------- builder

    /** Builds an {@link AdaptiveThrottle}; every setting is optional. */
    public static final class Builder {
        private final String name;
        private Ticker ticker = Ticker.system();
        private double k = 1.5;
        private double minK = Double.NaN;
        private int protection = 5;
        private long windowNanos = Duration.ofSeconds(10).toNanos();
        private int buckets = 40;
        private long forcedPassNanos = Duration.ofSeconds(1).toNanos();
        private boolean recoveryScaling = true;
        private long recoveryNanos = Duration.ofSeconds(2).toNanos();
        private boolean countDropped = true;
        private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();
        private Predicate<Throwable> isSuccessful;
        private Predicate<Throwable> isExcluded;
        private final List<AdaptiveThrottleListener> listeners = new ArrayList<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** The clock; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * How many times what the dependency accepts the client may send before it drops calls;
         * default 1.5.
         *
         * @throws IllegalArgumentException if {@code k} is below 1 or not finite (below 1 would drop
         *     calls to a healthy dependency)
         */
        public Builder k(double k) {
            if (!(k >= 1.0) || Double.isInfinite(k)) {
                throw new IllegalArgumentException("k must be a finite number of at least 1: " + k);
            }
            this.k = k;
            return this;
        }

        /**
         * Lowers {@code K} towards {@code minK} while the latest completed buckets had only refusals
         * (go-zero's behaviour, which uses 1.1): by {@code (K - minK) * failing / buckets}. Off by default.
         *
         * @throws IllegalArgumentException if {@code minK} is below 1, not finite, or above {@code K}
         *     (checked when built)
         */
        public Builder lowerKWhileFailing(double minK) {
            if (!(minK >= 1.0) || Double.isInfinite(minK)) {
                throw new IllegalArgumentException("minK must be a finite number of at least 1: " + minK);
            }
            this.minK = minK;
            return this;
        }

        /**
         * Requests of a window that are never dropped, so that low traffic is never throttled; default 5.
         *
         * @throws IllegalArgumentException if negative
         */
        public Builder protection(int protection) {
            if (protection < 0) {
                throw new IllegalArgumentException("protection must not be negative: " + protection);
            }
            this.protection = protection;
            return this;
        }

        /**
         * The rolling window: {@code length} in {@code buckets} buckets; default 10 s in 40.
         *
         * @throws IllegalArgumentException if {@code length} is not positive, {@code buckets} is
         *     below 1 or above 10,000, or a bucket would be shorter than a millisecond (each new
         *     bucket period sums the window: a bucket per call would cost every call that sum)
         */
        public Builder window(Duration length, int buckets) {
            long nanos = Checks.positiveNanos(length, "length");
            if (buckets < 1 || buckets > 10_000) {
                throw new IllegalArgumentException("buckets must be between 1 and 10000: " + buckets);
            }
            if (nanos / buckets < 1_000_000) {
                throw new IllegalArgumentException("buckets of " + length + " / " + buckets + " would be shorter than 1 ms");
            }
            this.windowNanos = nanos;
            this.buckets = buckets;
            return this;
        }

        /**
         * While calls are being dropped, one goes through whenever none has for this long; default 1 s.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder forcedPassInterval(Duration interval) {
            this.forcedPassNanos = Checks.positiveNanos(interval, "interval");
            return this;
        }

        /**
         * Whether the drop ratio fades out as the latest completed buckets are all accepts (go-zero's
         * behaviour; default true); false keeps the book's formula.
         */
        public Builder recoveryScaling(boolean enabled) {
            this.recoveryScaling = enabled;
            return this;
        }

        /**
         * The span of recovery scaling, as a time converted to buckets: after this many completed
         * buckets in a row whose calls were all accepted (buckets without calls do not count), nothing
         * is dropped; the drop ratio fades linearly over them. Default 2 s (8 buckets of 250 ms);
         * rounded up to whole buckets, at most the window's completed buckets (the window's length
         * gives the fade over the whole window, close to go-zero's). Without recovery scaling it has
         * no effect.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder recoveryTime(Duration time) {
            this.recoveryNanos = Checks.positiveNanos(time, "time");
            return this;
        }

        /**
         * Whether a call the throttle drops counts as a request (default true, as the SRE book
         * defines {@code requests} and go-zero counts them). Counted, they make the client send the
         * dependency about {@code K} times what it accepts whatever the offered load: an overloaded
         * dependency gets about {@code K} times its capacity, and one that refuses a fixed share
         * {@code a} of calls with {@code K a < 1} is, over a few windows, sent little more than
         * probes. Not counted (false), only calls that reached the dependency count: the ratio
         * settles within one window at {@code 1 - K a}, in proportion to the share refused, and falls
         * back sooner after a recovery, but an overloaded dependency is sent more as the offered
         * load grows.
         */
        public Builder countDroppedCalls(boolean counted) {
            this.countDropped = counted;
            return this;
        }

        /**
         * The random source, numbers in [0, 1): tests inject a seeded one; default
         * {@link ThreadLocalRandom}. It is called only while calls are being dropped; if it throws,
         * the call goes through.
         */
        public Builder random(DoubleSupplier random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** Exceptions that nevertheless count as accepted (a business error); as the breaker's {@code isSuccessful}. */
        public Builder isSuccessful(Predicate<Throwable> isSuccessful) {
            Checks.once(this.isSuccessful == null, "isSuccessful");
            this.isSuccessful = Objects.requireNonNull(isSuccessful, "isSuccessful");
            return this;
        }

        /**
         * Exceptions that count neither way; replaces {@link CircuitBreaker#defaultExclusions()}.
         * Local refusals are excluded whatever this says.
         */
        public Builder isExcluded(Predicate<Throwable> isExcluded) {
            Checks.once(this.isExcluded == null, "isExcluded");
            this.isExcluded = Objects.requireNonNull(isExcluded, "isExcluded");
            return this;
        }

        /**
         * Adds a listener of the throttle's events; may be called any number of times.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(AdaptiveThrottleListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Builds the throttle.
         *
         * @throws IllegalArgumentException if {@code minK} is above {@code K}
         */
        public AdaptiveThrottle build() {
            if (!Double.isNaN(minK) && minK > k) {
                throw new IllegalArgumentException("minK must not be above k: " + minK + " > " + k);
            }
            return new AdaptiveThrottle(this);
        }
    }
}
