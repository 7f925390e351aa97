package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Composes policies around a call in one explicit, documented order, so nobody stacks decorators
 * by hand. The default order, outermost first, is the one users of Resilience4j and Failsafe expect:
 *
 * <pre>
 * FALLBACK &gt; RETRY &gt; CIRCUIT_BREAKER &gt; RATE_LIMITER &gt; TIMEOUT &gt; HEDGE &gt; BULKHEAD &gt; FAULT_INJECTION &gt; call
 * </pre>
 *
 * <p>Why it matters: with RETRY outside TIMEOUT, every attempt gets the full timeout and the
 * breaker sees every attempt; with TIMEOUT outside RETRY, the timeout bounds all attempts together.
 * Fallback is outermost so it also catches the breaker's and limiter's refusals; fault injection is
 * innermost because it stands in for the dependency.
 *
 * <pre>{@code
 * Pipeline<Receipt> payments = Pipeline.<Receipt>builder("payments")
 *         .fallback(Fallback.<Receipt>on(CallNotPermittedException.class).to(e -> Receipt.deferred()))
 *         .retry(retry).circuitBreaker(breaker).rateLimiter(limiter).timeout(timeout).bulkhead(bulkhead)
 *         .build();
 * Receipt r = payments.call(() -> pay(order));
 * }</pre>
 *
 * <p>Every call runs under the current context (or a given one), and every attempt sees the
 * remaining deadline. Exceptions of the call come out unchanged; failures a policy produced have
 * their own types (refusals before running are {@link RefusedException}s,
 * {@link TimeoutExceededException}, the context's exceptions).
 *
 * @param <T> the result type
 */
public final class Pipeline<T> {

    /** The kinds of policy a pipeline can hold. */
    public enum Stage {
        FALLBACK, RETRY, CIRCUIT_BREAKER, RATE_LIMITER, TIMEOUT, HEDGE, BULKHEAD, FAULT_INJECTION
    }

    /** The default order, outermost first. */
    public static final List<Stage> DEFAULT_ORDER = List.of(Stage.values());

    /** One policy, seen through the shape every policy shares; the sync form allocates nothing. */
    private static final class Layer<T> {
        final Sync<T> sync;
        final Async<T> async;

        Layer(Sync<T> sync, Async<T> async) {
            this.sync = sync;
            this.async = async;
        }
    }

    /** A policy's synchronous form, calling the next layer by index. */
    @FunctionalInterface
    private interface Sync<T> {
        T execute(Invoker<T> pipeline, int next, Callable<T> task) throws Exception;
    }

    /** A policy's asynchronous form. */
    @FunctionalInterface
    private interface Async<T> {
        CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> next);
    }

    private final String name;
    private final List<Stage> order;
    private final Layer<T>[] layers;
    private final PipelineListener listener;
    private final Ticker ticker;
    /** This pipeline as the layers see it: made once, so a call allocates no continuation. */
    private final Invoker<T> chain = this::invoke;

    private Pipeline(String name, List<Stage> order, Layer<T>[] layers, PipelineListener listener, Ticker ticker) {
        this.name = name;
        this.order = order;
        this.layers = layers;
        this.listener = listener;
        this.ticker = ticker;
    }

    /** Starts building a pipeline; {@code name} identifies it. */
    public static <T> Builder<T> builder(String name) {
        return new Builder<>(name);
    }

    /** Calls {@code task} through every policy, under the current context. */
    public T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return listener == PipelineListener.NOOP ? invoke(0, task) : observed(task);
    }

    /** A call timed and reported to the listener. */
    private T observed(Callable<T> task) throws Exception {
        long start = ticker.read();
        T result;
        try {
            result = invoke(0, task);
        } catch (Exception | Error e) {
            listener.onCall(this, ticker.read() - start, e);
            throw e;
        }
        listener.onCall(this, ticker.read() - start, null);
        return result;
    }

    /** Runs {@code task} through every policy, under the current context. */
    public void run(Runnable task) throws Exception {
        Objects.requireNonNull(task, "task");
        call(() -> {
            task.run();
            return null;
        });
    }

    /** Calls {@code task} through every policy, under {@code context}. */
    public T call(Context context, Callable<T> task) throws Exception {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(task, "task");
        try (Scope s = context.attach()) {
            return call(task);
        }
    }

    /** Runs layer {@code i} around the rest; past the last layer, the task. */
    private T invoke(int i, Callable<T> task) throws Exception {
        if (i == layers.length) {
            return task.call();
        }
        return layers[i].sync.execute(chain, i + 1, task);
    }

    /** Starts {@code task} through every policy, under the current context. */
    public CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        if (listener == PipelineListener.NOOP) {
            return invokeAsync(0, task);
        }
        long start = ticker.read();
        CompletionStage<T> stage;
        try {
            stage = invokeAsync(0, task);
        } catch (RuntimeException | Error e) {
            listener.onCall(this, ticker.read() - start, e);
            throw e;
        }
        return stage.whenComplete((v, e) -> listener.onCall(this, ticker.read() - start,
                e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e));
    }

    private CompletionStage<T> invokeAsync(int i, Supplier<? extends CompletionStage<T>> task) {
        if (i == layers.length) {
            return Stages.start(task);
        }
        return layers[i].async.callAsync(() -> invokeAsync(i + 1, task));
    }

    /** The policies present, outermost first. */
    public List<Stage> stages() {
        return order;
    }

    /** The pipeline's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Pipeline[" + name + ", " + order + "]";
    }

    /**
     * Builds a {@link Pipeline}. Each policy may be set once; any may be left out.
     *
     * @param <T> the result type
     */
    public static final class Builder<T> {
        private final String name;
        private final Map<Stage, Layer<T>> layers = new EnumMap<>(Stage.class);
        private List<Stage> order;
        private PipelineListener listener;
        private Ticker ticker;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        private Builder<T> put(Stage stage, Sync<T> sync, Async<T> async) {
            Checks.once(!layers.containsKey(stage), stage.name());
            layers.put(stage, new Layer<>(sync, async));
            return this;
        }

        /** Replaces selected failures with a value. */
        public Builder<T> fallback(Fallback<T> fallback) {
            Objects.requireNonNull(fallback, "fallback");
            return put(Stage.FALLBACK, fallback::execute, fallback::callAsync);
        }

        /** Retries failed attempts. */
        public Builder<T> retry(Retry retry) {
            Objects.requireNonNull(retry, "retry");
            return put(Stage.RETRY, retry::execute, retry::callAsync);
        }

        /** Stops calling a failing dependency. */
        public Builder<T> circuitBreaker(CircuitBreaker breaker) {
            Objects.requireNonNull(breaker, "circuitBreaker");
            return put(Stage.CIRCUIT_BREAKER, breaker::execute, breaker::callAsync);
        }

        /** Limits the rate of calls (waiting under the context deadline). */
        public Builder<T> rateLimiter(RateLimiter limiter) {
            Objects.requireNonNull(limiter, "rateLimiter");
            return put(Stage.RATE_LIMITER, limiter::execute, limiter::callAsync);
        }

        /** Bounds each call (or, placed outside retry, all attempts) in time. */
        public Builder<T> timeout(Timeout timeout) {
            Objects.requireNonNull(timeout, "timeout");
            return put(Stage.TIMEOUT, timeout::execute, timeout::callAsync);
        }

        /** Starts extra attempts for slow calls (attempts run on the hedge's executor). */
        public Builder<T> hedge(Hedge hedge) {
            Objects.requireNonNull(hedge, "hedge");
            return put(Stage.HEDGE, (pipeline, next, task) -> hedge.call(() -> pipeline.invoke(next, task)),
                    hedge::callAsync);
        }

        /** Bounds concurrent calls. */
        public Builder<T> bulkhead(Bulkhead bulkhead) {
            Objects.requireNonNull(bulkhead, "bulkhead");
            return put(Stage.BULKHEAD, bulkhead::execute, bulkhead::callAsync);
        }

        /** Injects faults in front of the call. */
        public Builder<T> faultInjection(FaultInjection faults) {
            Objects.requireNonNull(faults, "faultInjection");
            return put(Stage.FAULT_INJECTION, faults::execute, faults::callAsync);
        }

        /**
         * An explicit order, outermost first; it must name every policy set, and nothing else.
         * Without it, {@link #DEFAULT_ORDER} applies.
         */
        public Builder<T> order(Stage... order) {
            Objects.requireNonNull(order, "order");
            Checks.once(this.order == null, "order");
            this.order = List.copyOf(Arrays.asList(order));
            return this;
        }

        /** Receives each call's outcome and duration; default {@link PipelineListener#NOOP}. */
        public Builder<T> listener(PipelineListener listener) {
            Checks.once(this.listener == null, "listener");
            this.listener = GuardedListeners.of(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** The clock the listener's durations are read on; default {@link Ticker#system()}. */
        public Builder<T> ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Builds the pipeline. */
        @SuppressWarnings("unchecked")
        public Pipeline<T> build() {
            List<Stage> effective = new ArrayList<>();
            if (order == null) {
                for (Stage s : DEFAULT_ORDER) {
                    if (layers.containsKey(s)) {
                        effective.add(s);
                    }
                }
            } else {
                if (order.size() != layers.size() || !layers.keySet().containsAll(order)
                        || order.stream().distinct().count() != order.size()) {
                    throw new IllegalStateException("order " + order + " must name each policy set exactly once: "
                            + layers.keySet());
                }
                effective.addAll(order);
            }
            Layer<T>[] array = (Layer<T>[]) new Layer<?>[effective.size()];
            for (int i = 0; i < array.length; i++) {
                array[i] = layers.get(effective.get(i));
            }
            return new Pipeline<>(name, List.copyOf(effective), array,
                    listener == null ? PipelineListener.NOOP : listener, ticker == null ? Ticker.system() : ticker);
        }
    }
}
