package dev.resilience.core;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * What every guard is to a {@link Pipeline}: something that runs a call, or refuses it, or runs it
 * again. Every policy of this library implements it ({@link RateLimiter}, {@link CircuitBreaker},
 * {@link AdaptiveThrottle}, {@link Retry}, {@link Timeout}, {@link Hedge}, {@link Bulkhead}, {@link AdaptiveLimiter},
 * {@link FaultInjection}, the Redis limiters); a policy you write composes with them the same way.
 *
 * <p>The synchronous form allocates nothing: a policy receives the pipeline as an {@link Invoker}
 * and the index of the layer inside it, and calls {@code chain.invoke(next, task)} where it would
 * call the task. Called directly (not in a pipeline), {@link #call} passes {@link Invoker#direct()}.
 *
 * <pre>{@code
 * final class CountingPolicy implements Policy {
 *     final LongAdder calls = new LongAdder();
 *     public String name() { return "counting"; }
 *     public <T> T execute(Invoker<T> chain, int next, Callable<T> task) throws Exception {
 *         calls.increment();
 *         return chain.invoke(next, task);
 *     }
 *     public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
 *         calls.increment();
 *         return Policy.start(task);
 *     }
 * }
 * }</pre>
 *
 * <p>The contract every policy keeps, and a user-written one must keep too:
 * <ul>
 * <li>The task's exceptions come out unchanged; what the policy itself produces has its own type:
 *     a refusal before running is a {@link RefusedException}.</li>
 * <li>{@code execute} calls {@code chain.invoke(next, task)} at most once per attempt (a retry calls
 *     it again for each attempt; a hedge may call it from other threads), and never after it
 *     returned.</li>
 * <li>{@code callAsync} never throws: a refusal or a failure is a failed stage; the stage it returns
 *     always completes; it calls {@code task.get()} at most once per attempt. The toolkit's policies
 *     pass an end from outside inwards: a returned stage that is cancelled (or failed by a timeout
 *     outside) ends the stage inside the same way, down to the task's {@code CompletableFuture}, so
 *     that permits inside come back even if the work never ends by itself. A future shared between
 *     callers should therefore be handed out as {@code copy()}, and code that completes a future
 *     with something to close (a response) should close it when {@code complete} returns false.</li>
 * <li>Permits, slots and listeners follow the rules of {@link Permit}: whatever the task does, what
 *     the policy took is given back exactly once.</li>
 * </ul>
 *
 * <p>One convention for running: {@link #call(Callable)} and {@link #run(Runnable)} declare
 * {@code throws Exception} on every policy (the task's exceptions, a refusal, an interrupt while
 * waiting, the context's {@code ContextDoneException}); {@link #callAsync} reports everything
 * through its stage.
 */
public interface Policy {

    /** The kind of a policy: where the {@linkplain Pipeline#DEFAULT_ORDER default order} puts it. */
    enum Kind {
        /** Replaces a failure with a value ({@link Fallback}). */
        FALLBACK,
        /** Runs failed attempts again ({@link Retry}). */
        RETRY,
        /** Stops or thins calls to a failing dependency ({@link CircuitBreaker}, {@link AdaptiveThrottle}). */
        CIRCUIT_BREAKER,
        /** Limits the rate of calls ({@link RateLimiter}, distributed limiters). */
        RATE_LIMITER,
        /** Bounds a call in time ({@link Timeout}). */
        TIMEOUT,
        /** Starts extra attempts for slow calls ({@link Hedge}). */
        HEDGE,
        /** Bounds concurrent calls ({@link Bulkhead}, {@link AdaptiveLimiter}). */
        CONCURRENCY_LIMIT,
        /** Stands in for the dependency ({@link FaultInjection}). */
        FAULT_INJECTION,
        /** A policy with no place in the default order: a pipeline must place it explicitly. */
        CUSTOM
    }

    /** The policy's name, as in its errors and metrics. */
    String name();

    /** The policy's kind; {@link Kind#CUSTOM} unless overridden. */
    default Kind kind() {
        return Kind.CUSTOM;
    }

    /**
     * Runs the call through this policy: where the policy would call the task, it calls
     * {@code chain.invoke(next, task)}.
     *
     * @param chain what is inside this policy: the rest of a pipeline, or {@link Invoker#direct()}
     * @param next the index to pass back to {@code chain}
     * @param task the call
     * @param <T> the result type
     * @return the result
     * @throws Exception the task's exception unchanged, or the policy's own (a
     *     {@link RefusedException}, an {@link InterruptedException} while waiting, the context's)
     */
    <T> T execute(Invoker<T> chain, int next, Callable<T> task) throws Exception;

    /**
     * Starts {@code task} through this policy. Never throws: a refusal fails the returned stage.
     *
     * @param task starts the call (or, in a pipeline, the next layer); called at most once per attempt
     * @param <T> the result type
     * @return a stage that always completes
     */
    <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task);

    /**
     * Calls {@code task} through this policy alone.
     *
     * @param task the call
     * @param <T> the result type
     * @return the result
     * @throws Exception the task's exception unchanged, or the policy's own (a refusal, an
     *     interrupt while waiting, the context's)
     */
    default <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /**
     * Runs {@code task} through this policy alone.
     *
     * @param task the work
     * @throws Exception the task's runtime exception unchanged, or the policy's own (a refusal, an
     *     interrupt while waiting, the context's)
     */
    default void run(Runnable task) throws Exception {
        Objects.requireNonNull(task, "task");
        execute(Invoker.direct(), 0, () -> {
            task.run();
            return null;
        });
    }

    /**
     * Starts {@code task}, turning what it throws or a null stage into a failed stage: what a
     * {@link #callAsync} implementation calls where it starts the work.
     *
     * @param task starts the work
     * @param <T> the result type
     * @return the task's stage, or a failed one
     */
    static <T> CompletionStage<T> start(Supplier<? extends CompletionStage<T>> task) {
        return Stages.start(task);
    }
}
