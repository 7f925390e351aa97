package dev.resilience.core;

import dev.resilience.context.Context;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Composes policies around a call in an explicit order, outermost first, so nobody stacks
 * decorators by hand: {@link Builder#add(Policy)} takes any {@link Policy} (every guard of this
 * library, the Redis limiters, your own) and {@link Builder#add(Fallback)} a fallback, in the order
 * they should wrap the call, as {@code Failsafe.with(...)} does.
 *
 * <pre>{@code
 * Pipeline<Receipt> payments = Pipeline.<Receipt>builder("payments")
 *         .add(Fallback.<Receipt>on(RefusedException.class).to(e -> Receipt.deferred()))
 *         .add(retry).add(breaker).add(limiter).add(timeout).add(bulkhead)
 *         .build();
 * Receipt r = payments.call(() -> pay(order));
 * }</pre>
 *
 * <p>{@link Builder#inDefaultOrder()} sorts the policies by their {@link Policy#kind() kind} into
 * the order users of Resilience4j and Failsafe expect ({@link #DEFAULT_ORDER}):
 *
 * <pre>
 * FALLBACK &gt; RETRY &gt; CIRCUIT_BREAKER &gt; RATE_LIMITER &gt; TIMEOUT &gt; HEDGE &gt; CONCURRENCY_LIMIT &gt; FAULT_INJECTION &gt; call
 * </pre>
 *
 * <p>Why it matters: with RETRY outside TIMEOUT, every attempt gets the full timeout and the
 * breaker sees every attempt; with TIMEOUT outside RETRY, the timeout bounds all attempts together.
 * Fallback is outermost so it also catches the breaker's and limiter's refusals; fault injection is
 * innermost because it stands in for the dependency. A {@link Policy.Kind#CUSTOM} policy has no
 * default place: add it explicitly.
 *
 * <p>Every call runs under the current context (or a given one), and every attempt sees the
 * remaining deadline. Exceptions of the call come out unchanged; failures a policy produced have
 * their own types (refusals before running are {@link RefusedException}s,
 * {@link TimeoutExceededException}, the context's exceptions). A synchronous call through any
 * number of policies allocates nothing for the chaining: each policy reaches the next through an
 * {@link Invoker} made when the pipeline was built.
 *
 * @param <T> the result type
 */
public final class Pipeline<T> implements Listenable<PipelineListener> {

    /** The order {@link Builder#inDefaultOrder()} sorts into, outermost first. */
    public static final List<Policy.Kind> DEFAULT_ORDER = List.of(Policy.Kind.FALLBACK, Policy.Kind.RETRY,
            Policy.Kind.CIRCUIT_BREAKER, Policy.Kind.RATE_LIMITER, Policy.Kind.TIMEOUT, Policy.Kind.HEDGE,
            Policy.Kind.CONCURRENCY_LIMIT, Policy.Kind.FAULT_INJECTION);

    private final String name;
    private final List<Policy.Kind> kinds;
    private final List<String> names;
    private final Policy[] layers;
    private final Listeners<PipelineListener> listeners;
    private final Ticker ticker;
    /**
     * The outermost layer around the rest: a chain of nodes made once, so a call allocates no
     * continuation. Each position has a node class of its own, so each position's call site sees
     * one policy type (the JIT can inline through it) instead of one site seeing every layer's.
     */
    private final Invoker<T> head;
    /** Why {@link #callAsync(Supplier, BooleanSupplier)} is refused, or null. */
    private final String notRepeatSafe;

    private Pipeline(String name, Policy[] layers, Listeners<PipelineListener> listeners, Ticker ticker) {
        this.name = name;
        this.layers = layers;
        Policy.Kind[] kinds = new Policy.Kind[layers.length];
        String[] names = new String[layers.length];
        for (int i = 0; i < layers.length; i++) {
            kinds[i] = layers[i].kind();
            names[i] = layers[i].name();
        }
        this.kinds = List.of(kinds);
        this.names = List.of(names);
        this.listeners = listeners;
        this.ticker = ticker;
        Invoker<T> inner = Invoker.direct();
        for (int i = layers.length - 1; i >= 0; i--) {
            inner = Layer.at(i, layers[i], inner);
        }
        this.head = inner;
        this.notRepeatSafe = notRepeatSafe(name, layers);
    }

    /** Starts building a pipeline; {@code name} identifies it. */
    public static <T> Builder<T> builder(String name) {
        return new Builder<>(name);
    }

    /** Calls {@code task} through every policy, under the current context. */
    public T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        PipelineListener listener = listeners.current();
        return listener == PipelineListener.NOOP ? head.invoke(0, task) : observed(listener, task);
    }

    /** A call timed and reported to {@code listener} (the listeners as the call started). */
    private T observed(PipelineListener listener, Callable<T> task) throws Exception {
        long start = ticker.read();
        T result;
        try {
            result = head.invoke(0, task);
        } catch (Throwable e) {
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

    /** Starts {@code task} through every policy, under the current context. */
    public CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        return startAsync(task, null);
    }

    /**
     * {@link #callAsync(Supplier)} for work that can stop being repeatable part-way, as a stream
     * that delivered an element cannot be restarted without delivering it twice: every retry of the
     * pipeline asks {@code mayRepeat} before it retries
     * ({@link Retry#callAsync(Supplier, BooleanSupplier)}). A hedge runs attempts side by side,
     * which such work cannot take, and a policy of kind {@code RETRY} that is not a {@link Retry}
     * cannot be asked: a pipeline with either is refused.
     *
     * @throws NullPointerException if {@code task} or {@code mayRepeat} is null
     * @throws IllegalStateException if the pipeline hedges or has a retry that is not a {@link Retry}
     */
    public CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task, BooleanSupplier mayRepeat) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(mayRepeat, "mayRepeat");
        if (notRepeatSafe != null) {
            throw new IllegalStateException(notRepeatSafe);
        }
        return startAsync(task, mayRepeat);
    }

    /** Why work that may not repeat cannot run through {@code layers}, or null: decided once, at build. */
    private static String notRepeatSafe(String name, Policy[] layers) {
        for (Policy p : layers) {
            if (p.kind() == Policy.Kind.HEDGE) {
                return "pipeline '" + name + "' hedges: work that may not repeat cannot run in two attempts at once";
            } else if (p.kind() == Policy.Kind.RETRY && !(p instanceof Retry)) {
                return "pipeline '" + name + "' has a retry of its own (" + p.name() + ") that cannot be asked whether the work may repeat";
            }
        }
        return null;
    }

    private CompletionStage<T> startAsync(Supplier<? extends CompletionStage<T>> task, BooleanSupplier mayRepeat) {
        PipelineListener listener = listeners.current();
        if (listener == PipelineListener.NOOP) {
            return invokeAsync(0, task, mayRepeat);
        }
        long start = ticker.read();
        CompletionStage<T> stage;
        try {
            stage = invokeAsync(0, task, mayRepeat);
        } catch (Throwable e) {
            listener.onCall(this, ticker.read() - start, e);
            throw e;
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        CompletionStage<T> inner = stage;
        stage.whenComplete((v, e) -> {
            listener.onCall(this, ticker.read() - start, Stages.unwrap(e)); // guarded: a listener's throw is logged
            Stages.relay(result, v, e);
        });
        if (!result.isDone()) {
            result.whenComplete((v, e) -> Stages.endInside(inner, e)); // the caller cancelling reaches the policies and the work
        }
        return result;
    }

    private CompletionStage<T> invokeAsync(int i, Supplier<? extends CompletionStage<T>> task, BooleanSupplier mayRepeat) {
        if (i == layers.length) {
            return Stages.start(task);
        }
        Supplier<CompletionStage<T>> inner = () -> invokeAsync(i + 1, task, mayRepeat);
        CompletionStage<T> stage;
        try { // a policy of the user's may throw or return null: the caller still gets a stage that completes
            stage = mayRepeat != null && layers[i] instanceof Retry retry ? retry.callAsync(inner, mayRepeat)
                    : layers[i].callAsync(inner);
        } catch (Throwable e) {
            return CompletableFuture.failedFuture(e);
        }
        return Stages.nonNull(stage);
    }

    /** The kinds of the policies, outermost first. */
    public List<Policy.Kind> kinds() {
        return kinds;
    }

    /**
     * The policies, outermost first: the instances this pipeline calls, for an adapter that needs
     * to arrange them itself (an HTTP client retrying only idempotent requests) or to observe them.
     */
    public List<Policy> policies() {
        return List.of(layers);
    }

    /**
     * This pipeline without its policies of the given kinds: the others (the same instances, in the
     * same order) under the same name, ticker and listeners, so a listener added to either later
     * hears the calls of both (a call through the new pipeline reaches it with the new pipeline as
     * {@link PipelineListener#onCall}'s first argument: same name, fewer policies). For an adapter
     * that runs work some kinds cannot take part in (a stream cannot be hedged, a request that cannot
     * be sent twice cannot be retried). Returns this pipeline when it has no policy of those kinds.
     *
     * @param kinds the kinds to leave out
     * @return a pipeline without them
     * @throws NullPointerException if {@code kinds} or one of them is null
     */
    public Pipeline<T> without(Policy.Kind... kinds) {
        Set<Policy.Kind> out = EnumSet.noneOf(Policy.Kind.class);
        for (Policy.Kind k : Objects.requireNonNull(kinds, "kinds")) {
            out.add(Objects.requireNonNull(k, "kind"));
        }
        List<Policy> kept = new ArrayList<>(layers.length);
        for (int i = 0; i < layers.length; i++) {
            if (!out.contains(this.kinds.get(i))) { // the kinds read once, when this pipeline was built
                kept.add(layers[i]);
            }
        }
        return kept.size() == layers.length ? this : new Pipeline<>(name, kept.toArray(new Policy[0]), listeners, ticker);
    }

    /** The names of the policies, outermost first (a fallback is named {@code "fallback"}). */
    public List<String> policyNames() {
        return names;
    }

    @Override
    public Registration addListener(PipelineListener listener) {
        return listeners.add(listener);
    }

    /** The pipeline's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Pipeline[" + name + ", " + names + "]";
    }

    /**
     * Builds a {@link Pipeline}: policies in the order added, outermost first, unless
     * {@link #inDefaultOrder()} asks for the default order.
     *
     * @param <T> the result type
     */
    public static final class Builder<T> {
        private final String name;
        private final List<Policy> policies = new ArrayList<>();
        private boolean defaultOrder;
        private final List<PipelineListener> listeners = new ArrayList<>();
        private Ticker ticker;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * Adds a policy inside the ones added before it.
         *
         * @param policy any policy
         * @return this builder
         * @throws IllegalArgumentException if this very policy was added already
         */
        public Builder<T> add(Policy policy) {
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(policy.name(), "policy.name()");
            Objects.requireNonNull(policy.kind(), "policy.kind()");
            for (Policy p : policies) {
                if (p == policy) {
                    throw new IllegalArgumentException("policy '" + policy.name() + "' added twice");
                }
            }
            policies.add(policy);
            return this;
        }

        /**
         * Adds a fallback inside the policies added before it (outermost, first, is where a fallback
         * also catches every refusal).
         *
         * @param fallback the fallback, of this pipeline's result type
         * @return this builder
         * @throws IllegalArgumentException if this very fallback was added already
         */
        public Builder<T> add(Fallback<T> fallback) {
            Objects.requireNonNull(fallback, "fallback");
            for (Policy p : policies) {
                if (p instanceof FallbackLayer && ((FallbackLayer<?>) p).fallback == fallback) {
                    throw new IllegalArgumentException("fallback added twice");
                }
            }
            policies.add(new FallbackLayer<>(fallback));
            return this;
        }

        /**
         * Sorts the policies into {@link #DEFAULT_ORDER} by their kind when building (policies of one
         * kind keep the order they were added in).
         *
         * @return this builder
         */
        public Builder<T> inDefaultOrder() {
            defaultOrder = true;
            return this;
        }

        /**
         * Adds a listener of the pipeline's events; may be called any number of times (each listener
         * hears every event, in the order added; one that throws is logged and keeps no other from
         * hearing it). {@code addListener} adds one after building.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder<T> listener(PipelineListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * The clock the listener's durations are read on; default {@link Ticker#system()}.
         *
         * @param ticker the clock
         * @return this builder
         */
        public Builder<T> ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Builds the pipeline; one with no policy just calls the task.
         *
         * @return the pipeline
         * @throws IllegalStateException if {@link #inDefaultOrder()} was asked for and a policy is
         *     {@link Policy.Kind#CUSTOM}
         */
        public Pipeline<T> build() {
            List<Policy> effective = new ArrayList<>(policies);
            if (defaultOrder) {
                for (Policy p : effective) {
                    if (!DEFAULT_ORDER.contains(p.kind())) {
                        throw new IllegalStateException("policy '" + p.name() + "' is " + p.kind()
                                + ": it has no place in the default order; add the policies in an explicit order");
                    }
                }
                effective.sort(Comparator.comparingInt(p -> DEFAULT_ORDER.indexOf(p.kind())));
            }
            return new Pipeline<>(name, effective.toArray(new Policy[0]),
                    GuardedListeners.ofPipeline(listeners), ticker == null ? Ticker.system() : ticker);
        }
    }

    /** A typed {@link Fallback} seen as a policy; the builder's {@code add(Fallback<T>)} keeps it typed. */
    private static final class FallbackLayer<T> implements Policy {
        final Fallback<T> fallback;

        FallbackLayer(Fallback<T> fallback) {
            this.fallback = fallback;
        }

        @Override
        public String name() {
            return "fallback";
        }

        @Override
        public Kind kind() {
            return Kind.FALLBACK;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <R> R execute(Invoker<R> chain, int next, Callable<R> task) throws Exception {
            return (R) fallback.execute((Invoker<T>) (Invoker<?>) chain, next, (Callable<T>) (Callable<?>) task);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <R> CompletionStage<R> callAsync(Supplier<? extends CompletionStage<R>> task) {
            return (CompletionStage<R>) (CompletionStage<?>) fallback.callAsync(
                    (Supplier<? extends CompletionStage<? extends T>>) (Supplier<?>) task);
        }
    }

    /**
     * One layer of the chain: its policy around {@code inner}. The subclasses are identical on
     * purpose: one per position, so that each position's call of {@code policy.execute} is a call
     * site of its own, which the JIT sees calling one type (a pipeline's layers through one shared
     * site would make it megamorphic: no inlining, a dispatch per layer).
     */
    private abstract static class Layer<T> implements Invoker<T> {
        final Policy policy;
        final Invoker<T> inner;

        Layer(Policy policy, Invoker<T> inner) {
            this.policy = policy;
            this.inner = inner;
        }

        static <T> Invoker<T> at(int position, Policy policy, Invoker<T> inner) {
            switch (position) {
                case 0:
                    return new L0<>(policy, inner);
                case 1:
                    return new L1<>(policy, inner);
                case 2:
                    return new L2<>(policy, inner);
                case 3:
                    return new L3<>(policy, inner);
                case 4:
                    return new L4<>(policy, inner);
                case 5:
                    return new L5<>(policy, inner);
                default:
                    return new Ln<>(policy, inner);
            }
        }
    }

    private static final class L0<T> extends Layer<T> {
        L0(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, 1, task);
        }
    }

    private static final class L1<T> extends Layer<T> {
        L1(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, 2, task);
        }
    }

    private static final class L2<T> extends Layer<T> {
        L2(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, 3, task);
        }
    }

    private static final class L3<T> extends Layer<T> {
        L3(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, 4, task);
        }
    }

    private static final class L4<T> extends Layer<T> {
        L4(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, 5, task);
        }
    }

    private static final class L5<T> extends Layer<T> {
        L5(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, 6, task);
        }
    }

    /** Layers past the sixth share one call site. */
    private static final class Ln<T> extends Layer<T> {
        Ln(Policy policy, Invoker<T> inner) {
            super(policy, inner);
        }

        @Override
        public T invoke(int index, Callable<T> task) throws Exception {
            return policy.execute(inner, index + 1, task);
        }
    }
}
