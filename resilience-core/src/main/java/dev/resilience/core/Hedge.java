package dev.resilience.core;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Delays;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import dev.resilience.context.internal.Suppression;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Hedged requests: if an attempt has not completed after a delay, start another; the first
 * success wins and the others are cancelled through their contexts. The delay is fixed, or a
 * percentile of the latencies observed recently (so only the slowest calls are hedged).
 *
 * <pre>{@code
 * Hedge hedge = Hedge.builder("search").percentileDelay(0.95, Duration.ofMillis(50)).maxHedges(1).build();
 * CompletionStage<Results> r = hedge.callAsync(() -> client.searchAsync(query));
 * }</pre>
 *
 * <p>Each attempt runs under its own child of the caller's context; cancelling the losers cancels
 * those children, so work that honours {@link Context#current()} stops. A failure does not start a
 * hedge (hedging is not retrying): the call fails, with the last exception, as soon as every
 * attempt started so far has failed; a hedge not yet started then never is. If that last exception
 * is a refusal of a guard inside ({@link RefusedException#isRefusal}) and an earlier attempt failed
 * otherwise, the call fails with the first such failure: the dependency's own answer, which a
 * breaker or a retry outside counts (and a retry outside may retry, where it leaves a refusal).
 */
public final class Hedge implements Policy, Listenable<HedgeListener> {

    private static final int SAMPLES = 128;
    private static final int MIN_SAMPLES = 16;

    private final String name;
    private final long fixedDelayNanos;
    private final double percentile;
    private final int maxHedges;
    private final Ticker ticker;
    private final Executor executor;
    private final Listeners<HedgeListener> listeners;
    private final boolean interruptAttempts;
    private final long[] latencies = new long[SAMPLES];
    private final AtomicLong recorded = new AtomicLong();

    private Hedge(Builder b) {
        this.name = b.name;
        this.fixedDelayNanos = b.delayNanos;
        this.percentile = b.percentile;
        this.maxHedges = b.maxHedges;
        this.ticker = b.ticker;
        this.executor = b.executor;
        this.listeners = GuardedListeners.ofHedge(b.listeners);
        this.interruptAttempts = b.interruptAttempts;
    }

    /** Starts building a hedging policy; {@code name} identifies it. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** The delay before a hedge, now: the fixed delay, or the observed percentile once known. */
    public long delayNanos() {
        long n = recorded.get();
        if (Double.isNaN(percentile) || n < MIN_SAMPLES) {
            return fixedDelayNanos;
        }
        int count = (int) Math.min(n, SAMPLES);
        long[] copy = Arrays.copyOf(latencies, count);
        Arrays.sort(copy);
        return copy[Math.min(count - 1, (int) Math.ceil(percentile * count) - 1)];
    }

    private void record(long latency) {
        long i = recorded.getAndIncrement();
        latencies[(int) (i % SAMPLES)] = latency;
    }

    /** Runs {@code attempt}, hedging it as configured; see the class comment. */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> attempt) {
        Objects.requireNonNull(attempt, "attempt");
        return new Call<T>(attempt, Context.current()).start();
    }

    /**
     * Runs {@code attempt} on the executor, hedging it, and waits for the winner; the winner's
     * exception comes out unchanged. If the caller is interrupted or its context ends, no further
     * hedge starts, the running attempts' contexts are cancelled (and, with
     * {@link Builder#interruptAttempts()}, their threads interrupted), and the interrupt
     * ({@link InterruptedException}) or the context's exception comes out.
     */
    @Override
    public <T> T call(Callable<T> attempt) throws Exception {
        Objects.requireNonNull(attempt, "attempt");
        return execute(Invoker.direct(), 0, attempt);
    }

    /**
     * {@link #call}, each attempt running what is inside through {@code next} (a pipeline's next
     * layer) on the hedge's executor.
     */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        Callable<T> attempt = next == Invoker.direct() ? task : () -> next.invoke(index, task);
        CompletableFuture<T> f = callAsync(() -> {
            Context attemptContext = Context.current();
            return CompletableFuture.supplyAsync(() -> {
                try (Scope s = interruptAttempts ? attemptContext.attachInterruptibly() : attemptContext.attach()) {
                    return attempt.call();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, executor);
        }).toCompletableFuture();
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false); // ends the call: no new hedge, and every attempt's context is cancelled
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = Stages.unwrap(e.getCause());
            throw Suppression.rethrow(cause); // as it was thrown: an Error, or a Throwable past the signature
        }
    }

    @Override
    public Kind kind() {
        return Kind.HEDGE;
    }

    @Override
    public Registration addListener(HedgeListener listener) {
        return listeners.add(listener);
    }

    /** The policy's name. */
    public String name() {
        return name;
    }

    /** One hedged call: its attempts, their contexts, and the single outcome. */
    private final class Call<T> {
        final Supplier<? extends CompletionStage<T>> attempt;
        final Context parent;
        final CompletableFuture<T> result = new CompletableFuture<>();
        final List<CancelHandle> attempts = new CopyOnWriteArrayList<>();
        /** The attempts' stages: cancelled with their contexts, so policies inside give permits back. */
        final List<CompletionStage<T>> stages = new CopyOnWriteArrayList<>();
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        /** The first failure that was not a refusal of a guard inside; null while there is none. */
        final AtomicReference<Throwable> answered = new AtomicReference<>();
        final long delay = delayNanos();
        volatile Registration nextHedge;

        Call(Supplier<? extends CompletionStage<T>> attempt, Context parent) {
            this.attempt = attempt;
            this.parent = parent;
        }

        CompletableFuture<T> start() {
            Registration onParentDone = parent.onDone(() -> finish(null, parent.err()), Runnable::run);
            result.whenComplete((v, e) -> {
                onParentDone.remove();
                Registration hedge = nextHedge;
                if (hedge != null) {
                    hedge.remove();
                }
                for (CancelHandle h : attempts) {
                    h.cancel();
                }
                for (CompletionStage<T> stage : stages) {
                    // the winner's is done: nothing happens to it; losers are cancelled (no drop), and
                    // if the call was failed from outside (a timeout), every attempt is failed alike
                    Stages.endInside(stage, e);
                }
            });
            launch();
            return result;
        }

        void launch() {
            if (result.isDone()) {
                return;
            }
            int n = started.incrementAndGet();
            CancelHandle h = parent.withCancel();
            attempts.add(h);
            if (result.isDone()) {
                h.cancel();
                return;
            }
            if (n <= maxHedges) {
                nextHedge = Delays.schedule(ticker, ticker.read() + delay, this::launch);
            } else {
                nextHedge = null;
            }
            if (n > 1) {
                listeners.current().onHedge(Hedge.this, n);
            }
            long begin = ticker.read();
            CompletionStage<T> stage;
            try (Scope s = h.attach()) {
                stage = Stages.start(attempt);
            }
            stages.add(stage);
            if (result.isDone()) {
                result.whenComplete((v, e) -> Stages.endInside(stage, e)); // the call ended while this attempt started
            }
            stage.whenComplete((v, e) -> {
                if (e == null) {
                    record(ticker.read() - begin); // winners' latencies: a loser is cancelled, its own is not known
                    finish(v, null);
                } else {
                    Throwable failure = Stages.unwrap(e);
                    boolean refused = RefusedException.isRefusal(failure);
                    if (!refused) {
                        answered.compareAndSet(null, failure); // before the count: the last to count sees it
                    }
                    if (failed.incrementAndGet() == started.get()) {
                        Throwable first = answered.get();
                        finish(null, refused && first != null ? first : failure);
                    }
                }
            });
        }

        void finish(T value, Throwable error) {
            if (error == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(Stages.unwrap(error));
            }
        }
    }

    @Override
    public String toString() {
        return "Hedge[" + name + ", up to " + maxHedges + " hedge(s)]";
    }

    /** Builds a {@link Hedge}: a fixed {@code delay} or a {@code percentileDelay} is required. */
    public static final class Builder {
        private final String name;
        private long delayNanos = -1;
        private double percentile = Double.NaN;
        /** The most extra attempts a hedge may make. */
        public static final int MAX_HEDGES = 100;

        private int maxHedges = -1;
        private Ticker ticker;
        private Executor executor;
        private final List<HedgeListener> listeners = new ArrayList<>();
        private boolean interruptAttempts;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Hedge after a fixed delay. */
        public Builder delay(Duration delay) {
            Checks.once(delayNanos < 0, "delay");
            this.delayNanos = Checks.nonNegativeNanos(delay, "delay");
            return this;
        }

        /**
         * Hedge after the {@code percentile} (e.g. 0.95) of recent successful latencies, or after
         * {@code initial} until enough have been seen.
         */
        public Builder percentileDelay(double percentile, Duration initial) {
            Checks.once(delayNanos < 0, "delay");
            if (!(percentile > 0 && percentile < 1)) {
                throw new IllegalArgumentException("percentile must be in (0, 1): " + percentile);
            }
            this.percentile = percentile;
            this.delayNanos = Checks.nonNegativeNanos(initial, "initial");
            return this;
        }

        /**
         * How many extra attempts at most, 1 to {@value #MAX_HEDGES}; default 1. (gRPC caps a hedging
         * policy at 5 attempts; a due hedge starts the next one on the same stack, so the bound also
         * keeps a zero delay from nesting without limit.)
         *
         * @throws IllegalArgumentException if {@code maxHedges} is below 1 or above {@value #MAX_HEDGES}
         */
        public Builder maxHedges(int maxHedges) {
            Checks.once(this.maxHedges < 0, "maxHedges");
            if (maxHedges < 1 || maxHedges > MAX_HEDGES) {
                throw new IllegalArgumentException("maxHedges must be in [1, " + MAX_HEDGES + "]: " + maxHedges);
            }
            this.maxHedges = maxHedges;
            return this;
        }

        /** The clock; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Where {@link #call} runs attempts; default {@link ForkJoinPool#commonPool()}. */
        public Builder executor(Executor executor) {
            Checks.once(this.executor == null, "executor");
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Also interrupt the thread of a cancelled attempt of {@link Hedge#call} (a loser, or every
         * attempt once the caller leaves). Off by default: interrupting a thread blocked on an
         * interruptible channel closes the channel, which a shared connection may not survive.
         */
        public Builder interruptAttempts() {
            this.interruptAttempts = true;
            return this;
        }

        /**
         * Adds a listener of the hedge's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder listener(HedgeListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Builds the policy. */
        public Hedge build() {
            if (delayNanos < 0) {
                throw new IllegalStateException("delay or percentileDelay must be set");
            }
            if (maxHedges < 0) {
                maxHedges = 1;
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            if (executor == null) {
                executor = ForkJoinPool.commonPool();
            }
            return new Hedge(this);
        }
    }
}
