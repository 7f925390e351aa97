package dev.resilience.core;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Delays;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import dev.resilience.context.internal.Suppression;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Retries a call with backoff, per-class rules, a shared {@link RetryBudget}, and respect for the
 * current context's deadline.
 *
 * <pre>{@code
 * Retry retry = Retry.builder("payments")
 *         .on(TimeoutException.class, 4, Backoff.exponential(ms(50), 2, ms(800), Backoff.Jitter.FULL))
 *         .on(IdempotentFailure.class, 3, Backoff.fixed(ms(100)))
 *         .never(BusinessRejection.class)
 *         .budget(RetryBudget.of(0.2, 10, 100))
 *         .build();
 * Receipt r = retry.call(() -> pay(order));
 * }</pre>
 *
 * <p><b>Classification.</b> An exception goes to the first {@link Builder#never never} or
 * {@link Builder#on on} rule whose class matches it; otherwise to the default rule
 * ({@link Builder#maxAttempts}, {@link Builder#backoff}) if {@link Builder#retryOn} accepts it. By
 * default every exception is retried except the ones a guard or the context produced
 * ({@link ContextDoneException}, every refusal: {@link RefusedException#isRefusal}), {@link InterruptedException} and
 * {@link Error}s. A result is retried under the default rule
 * when {@link Builder#retryOnResult} accepts it (e.g. an HTTP 503).
 *
 * <p><b>Waiting.</b> A server-provided delay ({@link Builder#delayHint}, e.g. {@code Retry-After})
 * replaces the backoff. No retry is attempted whose wait would reach the current context's
 * deadline or exceed {@link Builder#maxDelay}, nor one the budget refuses. When the call stops, its last outcome comes out unchanged:
 * the last exception is rethrown as it was (never wrapped), or the last result is returned. The
 * listener says why it stopped.
 *
 * <p><b>Interruption</b> ends the retries: an attempt that throws {@link InterruptedException}, or
 * leaves the thread interrupted, is not retried, and an interrupted backoff throws
 * {@link InterruptedException}. <b>User callbacks</b> ({@code retryOn}, {@code retryOnResult},
 * {@code delayHint}, a backoff, the random source) that throw end the retries with the attempt's own
 * outcome, the callback's exception attached to it as suppressed; the listener's exceptions are
 * logged and ignored.
 *
 * <p>A successful first attempt allocates nothing and reads no clock.
 */
public final class Retry implements Policy, Listenable<RetryListener> {

    private final String name;
    private final Rule defaultRule;
    private final List<Rule> rules;
    /** What is retried when {@link Builder#retryOn} is not set: every exception but the ones listed in the class comment. */
    static final Predicate<Throwable> DEFAULT_RETRY_ON = e -> !(e instanceof Error || e instanceof ContextDoneException
            || e instanceof InterruptedException || RefusedException.isRefusal(e));

    private final Predicate<Throwable> retryOn;
    private final Predicate<Object> retryOnResult;
    private final BiFunction<Object, Throwable, Duration> delayHint;
    private final RetryBudget budget;
    private final DoubleSupplier random;
    private final Ticker ticker;
    private final Listeners<RetryListener> listeners;
    private final long maxDelayNanos;

    private Retry(Builder b) {
        this.name = b.name;
        this.defaultRule = new Rule(null, b.maxAttempts, b.backoff);
        this.rules = List.copyOf(b.rules);
        this.retryOn = b.retryOn;
        this.retryOnResult = b.retryOnResult;
        this.delayHint = b.delayHint;
        this.budget = b.budget;
        this.random = b.random;
        this.ticker = b.ticker;
        this.listeners = GuardedListeners.ofRetry(b.listeners);
        this.maxDelayNanos = b.maxDelayNanos;
    }

    /** Starts building a retry policy; {@code name} identifies it in metrics. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A rule: for outcomes of {@code type}, up to {@code maxAttempts} attempts with {@code backoff}. */
    private record Rule(Class<? extends Throwable> type, int maxAttempts, Backoff backoff) {
    }

    /**
     * The rule for an outcome that {@link #isSuccess} refused, or null if it must not be retried. A
     * result got here because {@code retryOnResult} accepted it: the predicate is not asked twice (a
     * stateful one, reading a response's body say, could answer differently).
     */
    private Rule ruleFor(Object result, Throwable failure) {
        if (failure == null) {
            return defaultRule;
        }
        for (Rule r : rules) {
            if (r.type.isInstance(failure)) {
                return r.maxAttempts > 1 ? r : null;
            }
        }
        return retryOn.test(failure) ? defaultRule : null;
    }

    private boolean isSuccess(Object result, Throwable failure) {
        if (failure != null) {
            return false;
        }
        if (retryOnResult == null) {
            return true;
        }
        try {
            return !retryOnResult.test(result);
        } catch (Throwable e) {
            Callbacks.failed(null, e, "retryOnResult"); // the result stands
            return true;
        }
    }

    /**
     * The wait before the next attempt, or -1 to stop; a throwing user callback stops the retries
     * with the attempt's own outcome (its exception attached to the failure).
     */
    private long decide(int attempt, long previous, Object result, Throwable failure, Context ctx, boolean sync,
            BooleanSupplier mayRepeat) {
        if (failure instanceof InterruptedException || sync && Thread.currentThread().isInterrupted()) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.NOT_RETRYABLE);
            return -1; // the caller is being told to stop: never retry past an interrupt
        }
        if (failure instanceof Stages.NoStageException) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.NOT_RETRYABLE);
            return -1; // a task that returned no stage: a programming error, which another attempt repeats
        }
        try {
            return nextDelay(ruleFor(result, failure), attempt, previous, result, failure, ctx, mayRepeat);
        } catch (Throwable e) {
            Callbacks.failed(failure, e, "a retry predicate, delay hint, backoff or mayRepeat");
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.NOT_RETRYABLE);
            return -1;
        }
    }

    /**
     * The wait before the next attempt, or -1 to give up (the listener is told why). Reads the
     * context and the budget only here, on the retry path.
     */
    private long nextDelay(Rule rule, int attempt, long previous, Object result, Throwable failure, Context ctx,
            BooleanSupplier mayRepeat) {
        if (rule == null) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.NOT_RETRYABLE);
            return -1;
        }
        if (attempt >= rule.maxAttempts) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.EXHAUSTED);
            return -1;
        }
        long delay = -1;
        if (delayHint != null) {
            Duration hint = delayHint.apply(result, failure);
            if (hint != null && !hint.isNegative()) {
                delay = Checks.nonNegativeNanos(hint, "delayHint");
                if (delay > maxDelayNanos) {
                    listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.DELAY_TOO_LONG);
                    return -1;
                }
            }
        }
        if (delay < 0) {
            delay = Math.min(maxDelayNanos, Math.max(0L, rule.backoff.delayNanos(attempt, previous, random)));
        }
        if (ctx.isDone() || ctx.remainingNanos() <= delay) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.DEADLINE);
            return -1;
        }
        if (mayRepeat != null && !mayRepeat.getAsBoolean()) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.NOT_RETRYABLE);
            return -1; // the work cannot be repeated any more (a stream that delivered an element)
        }
        if (budget != null && !budget.tryWithdraw()) {
            listeners.current().onGiveUp(this, attempt, RetryListener.GiveUp.BUDGET);
            return -1;
        }
        listeners.current().onRetry(this, attempt, delay, failure);
        return delay;
    }

    /**
     * Calls {@code task}, retrying as configured; returns its result or rethrows its exception,
     * unchanged.
     *
     * @throws ContextDoneException if the context ends during a backoff
     * @throws InterruptedException if interrupted during a backoff
     */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        int attempt = 1;
        long previous = 0;
        for (;;) {
            T result = null;
            Throwable failure = null;
            try {
                result = next.invoke(index, task);
            } catch (Throwable e) {
                failure = e;
            }
            if (attempt == 1) {
                deposit(failure);
            }
            if (isSuccess(result, failure)) {
                return result;
            }
            Context ctx = Context.current();
            long delay = decide(attempt, previous, result, failure, ctx, true, null);
            if (delay < 0) {
                return outcome(result, failure);
            }
            if (delay > 0) {
                try {
                    ctx.sleepUntil(ticker, ticker.read() + delay);
                } catch (InterruptedException | RuntimeException e) {
                    Suppression.attach(e, failure); // the attempt's outcome, for the record
                    throw e;
                }
            }
            previous = delay;
            attempt++;
        }
    }


    /**
     * The budget's deposit for a call's first attempt, made once it has ended: a first attempt that a
     * guard inside this retry refused ({@link RefusedException}: an open breaker, a full limiter or
     * bulkhead, a throttle) sent nothing to the dependency, so it earns no retry. The budget then
     * bounds retries by the requests that reached the dependency, as Google SRE's per-client 10 %
     * does, also while a limiter inside refuses much of the traffic.
     */
    private void deposit(Throwable firstFailure) {
        if (budget != null && !notSent(firstFailure)) {
            budget.deposit();
        }
    }

    /**
     * Whether a first attempt's failure says that nothing was sent: a refusal
     * ({@link RefusedException#isRefusal}: also as the cause of another exception, as an OkHttp
     * interceptor's {@code RefusedIOException} or a gRPC status carry it), or an asynchronous attempt
     * that returned no stage. Never throws.
     */
    static boolean notSent(Throwable failure) {
        return failure instanceof Stages.NoStageException || RefusedException.isRefusal(failure);
    }

    @SuppressWarnings("unchecked")
    private static <T, E extends Throwable> T outcome(T result, Throwable failure) throws E {
        if (failure != null) {
            throw (E) failure;
        }
        return result;
    }

    /**
     * Starts {@code task} and retries it as configured without blocking a thread between
     * attempts; each attempt starts under the caller's context. The returned stage completes with
     * the last outcome, or with the context's exception if it ends during a backoff.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        return start(task, null);
    }

    /**
     * {@link #callAsync(Supplier)} for work that can stop being repeatable part-way, as a stream
     * that delivered an element to its subscriber cannot be restarted without delivering it twice
     * (gRPC calls such a call <i>committed</i>). Before each retry that the rules, the deadline and the
     * maximum delay allow, and before the budget is asked, {@code mayRepeat} is asked once: false
     * ends the call with the attempt's outcome, the listener told
     * {@link RetryListener.GiveUp#NOT_RETRYABLE}, and no budget withdrawn. It runs on the thread
     * that completed the attempt; a {@code mayRepeat} that throws counts as false (its exception
     * attached to the attempt's failure as suppressed), so the outcome survives.
     *
     * <p>A caller that lets only one attempt deliver uses {@code mayRepeat} as its gate: answering
     * true, it closes the attempt that just ended, so a late element of that attempt is dropped rather
     * than delivered beside the next attempt's.
     *
     * @throws NullPointerException if {@code task} or {@code mayRepeat} is null
     */
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task, BooleanSupplier mayRepeat) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(mayRepeat, "mayRepeat");
        return start(task, mayRepeat);
    }

    private <T> CompletionStage<T> start(Supplier<? extends CompletionStage<T>> task, BooleanSupplier mayRepeat) {
        Context ctx = Context.current();
        CompletionStage<T> first;
        try (Scope s = ctx.attach()) {
            first = Stages.start(task);
        }
        if (retryOnResult == null && Stages.succeeded(first)) {
            deposit(null);
            return first; // done already, a success: nothing to retry, nothing to register
        }
        AsyncCall<T> call = new AsyncCall<>(task, ctx, first, mayRepeat);
        call.next(1, 0L);
        if (!call.result.isDone()) {
            call.result.whenComplete((v, e) -> { // ended from outside (a cancel, a timeout): the attempt running ends, no new one starts
                CompletionStage<T> running = call.current;
                if (running != null) {
                    Stages.endInside(running, e); // done already unless the result was ended from outside
                }
                Registration wait = call.backoff;
                if (wait != null) {
                    wait.remove(); // a backoff in progress: its timer and its listener on the context go now
                }
            });
        }
        return call.result;
    }

    /**
     * One asynchronous call's attempts. Attempts run one after another; an attempt whose stage is
     * already done and whose retry is due at once (no backoff) asks for the next one from inside the
     * previous one's completion: {@link #next} then runs it in the loop already on the stack instead
     * of nesting a frame per attempt, so many immediate retries cannot overflow the stack (the stage
     * would never complete: the error would end in a dependent stage nobody reads).
     */
    private final class AsyncCall<T> {
        final Supplier<? extends CompletionStage<T>> task;
        final Context ctx;
        /** Asked before each retry whether the work may run again; null: always. */
        final BooleanSupplier mayRepeat;
        final CompletableFuture<T> result = new CompletableFuture<>();
        volatile CompletionStage<T> current;
        /** The backoff under way, withdrawn if the caller ends the call during it. */
        volatile Registration backoff;
        /** Attempts asked for and not yet started by the loop; at most one is ever pending. */
        private final AtomicInteger pending = new AtomicInteger();
        private int nextAttempt;
        private long nextPrevious;

        /** The first attempt's stage, started by callAsync; null once used. */
        private CompletionStage<T> firstStage;
        /**
         * The last real failure an attempt ended with (one that was retried); the outcome if a later
         * attempt returns no stage, so a breaker outside counts what the dependency did.
         */
        private volatile Throwable lastFailure;

        AsyncCall(Supplier<? extends CompletionStage<T>> task, Context ctx, CompletionStage<T> firstStage,
                BooleanSupplier mayRepeat) {
            this.task = task;
            this.ctx = ctx;
            this.mayRepeat = mayRepeat;
            this.firstStage = firstStage;
        }

        private CompletionStage<T> startAttempt() {
            try (Scope s = ctx.attach()) {
                return Stages.start(task);
            }
        }

        /** Starts attempt {@code attempt}, here or in the loop already running on this stack. */
        void next(int attempt, long previous) {
            nextAttempt = attempt; // published by the increment, read after the loop's decrement
            nextPrevious = previous;
            if (pending.getAndIncrement() != 0) {
                return; // the loop below, deeper in this stack, runs it when this attempt's frame returns
            }
            do {
                start(nextAttempt, nextPrevious);
            } while (pending.decrementAndGet() != 0);
        }

        private void start(int attempt, long previous) {
            if (result.isDone()) {
                return; // ended from outside during the backoff
            }
            CompletionStage<T> stage = firstStage != null ? firstStage : startAttempt();
            firstStage = null; // the loop's thread, before any other attempt
            current = stage;
            if (result.isDone()) {
                result.whenComplete((v, e) -> Stages.endInside(stage, e)); // ended from outside while this attempt started
            }
            stage.whenComplete((value, error) -> {
                Throwable failure = Stages.unwrap(error);
                if (attempt == 1) {
                    deposit(failure); // also when the call was ended from outside: the attempt started
                }
                if (result.isDone()) {
                    return; // ended from outside: no retry, nothing to decide
                }
                try {
                    if (isSuccess(value, failure)) {
                        result.complete(value);
                        return;
                    }
                    // async: this thread is whoever completed the stage; its interrupt flag is not the caller's
                    long delay = decide(attempt, previous, value, failure, ctx, false, mayRepeat);
                    if (delay >= 0) {
                        lastFailure = failure; // null after a retried result: the latest outcome was no failure
                        // the backoff, unless the context ends first; nothing stays registered either way
                        Registration wait = Delays.scheduleUnlessDone(ticker, ticker.read() + delay, ctx,
                                () -> next(attempt + 1, delay), () -> result.completeExceptionally(ctx.err()));
                        if (delay > 0) { // a zero backoff ran (or handed its attempt to the loop) already
                            backoff = wait;
                            if (result.isDone()) {
                                wait.remove(); // ended while the backoff was being set up
                            }
                        }
                        return;
                    }
                } catch (Throwable unexpected) {
                    Callbacks.failed(failure, unexpected, "retrying"); // the stage completes all the same
                }
                if (failure instanceof Stages.NoStageException && lastFailure != null) {
                    Throwable earlier = lastFailure;
                    if (!hasNoStageSuppressed(earlier)) { // a failure shared by calls (a constant) records it once
                        earlier.addSuppressed(failure); // the programming error, for the record
                    }
                    failure = earlier;
                }
                if (failure != null) {
                    result.completeExceptionally(failure);
                } else {
                    result.complete(value);
                }
            });
        }
    }

    private static boolean hasNoStageSuppressed(Throwable t) {
        for (Throwable s : t.getSuppressed()) {
            if (s instanceof Stages.NoStageException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Kind kind() {
        return Kind.RETRY;
    }

    @Override
    public Registration addListener(RetryListener listener) {
        return listeners.add(listener);
    }

    /** The policy's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Retry[" + name + ", " + defaultRule.maxAttempts + " attempts, " + rules.size() + " rules]";
    }

    /** Builds a {@link Retry}. Each setter may be called once, except {@code on} and {@code never}. */
    public static final class Builder {
        private final String name;
        private int maxAttempts = -1;
        private Backoff backoff;
        private final List<Rule> rules = new ArrayList<>();
        private Predicate<Throwable> retryOn;
        private Predicate<Object> retryOnResult;
        private BiFunction<Object, Throwable, Duration> delayHint;
        private RetryBudget budget;
        private DoubleSupplier random;
        private Ticker ticker;
        private final List<RetryListener> listeners = new ArrayList<>();
        private long maxDelayNanos = -1;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Attempts in all (first one included) under the default rule; default 3. */
        public Builder maxAttempts(int maxAttempts) {
            Checks.once(this.maxAttempts < 0, "maxAttempts");
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** The default rule's backoff; default exponential from 100 ms, x2, capped at 10 s, full jitter. */
        public Builder backoff(Backoff backoff) {
            Checks.once(this.backoff == null, "backoff");
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /** A rule for exceptions of {@code type}: up to {@code maxAttempts} attempts with {@code backoff}. */
        public Builder on(Class<? extends Throwable> type, int maxAttempts, Backoff backoff) {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(backoff, "backoff");
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
            }
            rules.add(new Rule(type, maxAttempts, backoff));
            return this;
        }

        /** Never retry exceptions of {@code type} (e.g. a business rejection). */
        public Builder never(Class<? extends Throwable> type) {
            Objects.requireNonNull(type, "type");
            rules.add(new Rule(type, 1, (r, p, x) -> 0L));
            return this;
        }

        /** Which exceptions the default rule retries; replaces the default. */
        public Builder retryOn(Predicate<Throwable> retryOn) {
            Checks.once(this.retryOn == null, "retryOn");
            this.retryOn = Objects.requireNonNull(retryOn, "retryOn");
            return this;
        }

        /**
         * Which results the default rule retries (e.g. HTTP 503); default none. Results that are
         * not of {@code type} (null among them) are never retried.
         *
         * <pre>{@code
         * .retryOnResult(HttpResponse.class, r -> r.statusCode() == 503)
         * }</pre>
         */
        public <R> Builder retryOnResult(Class<R> type, Predicate<? super R> retryOnResult) {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(retryOnResult, "retryOnResult");
            Checks.once(this.retryOnResult == null, "retryOnResult");
            this.retryOnResult = r -> type.isInstance(r) && retryOnResult.test(type.cast(r));
            return this;
        }

        /**
         * A server-provided delay (such as {@code Retry-After}) to wait instead of the backoff. The
         * function gets the attempt's result if it is of {@code type} (else null) and its exception
         * (or null), and returns null when there is no hint.
         *
         * <pre>{@code
         * .delayHint(HttpResponse.class, (r, e) -> r == null ? null : retryAfter(r))
         * }</pre>
         */
        public <R> Builder delayHint(Class<R> type, BiFunction<? super R, Throwable, Duration> delayHint) {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(delayHint, "delayHint");
            Checks.once(this.delayHint == null, "delayHint");
            this.delayHint = (r, e) -> delayHint.apply(type.isInstance(r) ? type.cast(r) : null, e);
            return this;
        }

        /**
         * The longest wait between attempts: a backoff's wait is cut to it, and a longer wait that a
         * server asks for ({@link #delayHint}, minutes of {@code Retry-After}, say) ends the retries
         * with the last outcome ({@link RetryListener.GiveUp#DELAY_TOO_LONG}). Default: no limit but
         * the context's deadline.
         */
        public Builder maxDelay(Duration maxDelay) {
            Checks.once(this.maxDelayNanos < 0, "maxDelay");
            this.maxDelayNanos = Checks.nonNegativeNanos(maxDelay, "maxDelay");
            return this;
        }

        /** A budget shared with other calls; default none. */
        public Builder budget(RetryBudget budget) {
            Checks.once(this.budget == null, "budget");
            this.budget = Objects.requireNonNull(budget, "budget");
            return this;
        }

        /** The random source for jitter, uniform in [0, 1); default {@link ThreadLocalRandom}. */
        public Builder random(DoubleSupplier random) {
            Checks.once(this.random == null, "random");
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** The clock backoffs are waited on; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds a listener of the retry's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(RetryListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Builds the policy. */
        public Retry build() {
            if (maxAttempts < 0) {
                maxAttempts = 3;
            }
            if (backoff == null) {
                backoff = Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofSeconds(10), Backoff.Jitter.FULL);
            }
            if (retryOn == null) {
                retryOn = DEFAULT_RETRY_ON;
            }
            if (random == null) {
                random = () -> ThreadLocalRandom.current().nextDouble();
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            if (maxDelayNanos < 0) {
                maxDelayNanos = Long.MAX_VALUE;
            }
            return new Retry(this);
        }
    }
}
