package dev.resilience.spring.internal;

import dev.resilience.context.internal.Suppression;
import dev.resilience.core.Pipeline;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;

/**
 * What one annotated method runs through: its pipeline, how its result is returned, and its
 * fallback candidates (most specific exception first). Immutable; shared by every bean of the class.
 */
final class Guard {

    /** How the method returns its result, which decides the pipeline's path. */
    enum Returns {
        /** A value (or void): the blocking path. */
        VALUE,
        /**
         * A {@code CompletionStage} or {@code CompletableFuture}: the asynchronous path, which
         * returns a {@code CompletableFuture}, fit for both.
         */
        STAGE,
        /** A Reactor {@code Mono}: the asynchronous path per subscription. */
        MONO,
        /** A Reactor {@code Flux}: the asynchronous path per subscription, retried only before its first element. */
        FLUX
    }

    final String description;
    final Pipeline<Object> pipeline;
    final Returns returns;
    /** Fallback methods, the most specific exception parameter first; empty without a fallback. */
    final List<Method> fallbacks;
    Guard(String description, Pipeline<Object> pipeline, Returns returns, List<Method> fallbacks) {
        this.description = description;
        this.pipeline = pipeline;
        this.returns = returns;
        this.fallbacks = fallbacks;
    }

    /** The fallback for {@code failure}: the candidate with the closest exception type, or null. */
    Method fallbackFor(Throwable failure) {
        for (Method m : fallbacks) {
            Class<?>[] params = m.getParameterTypes();
            if (params[params.length - 1].isInstance(failure)) {
                return m;
            }
        }
        return null;
    }

    /**
     * Calls {@code fallback} on {@code target} with {@code args} and {@code failure}. What it throws
     * is thrown, with {@code failure} attached as suppressed (see {@link Suppression#attach}).
     */
    static Object callFallback(Method fallback, Object target, Object[] args, Throwable failure) throws Throwable {
        Object[] withFailure = new Object[args.length + 1];
        System.arraycopy(args, 0, withFailure, 0, args.length);
        withFailure[args.length] = failure;
        try {
            return fallback.invoke(target, withFailure);
        } catch (InvocationTargetException e) {
            Throwable thrown = e.getCause() == null ? e : e.getCause();
            throw Suppression.attach(thrown, failure); // a shared exception is not grown per call
        }
    }

    /**
     * A reactive method's fallback for {@code thrown}: what the fallback chosen for it returned (a
     * {@code Mono} or {@code Flux}, as checked at startup). Throws the failure itself when no
     * fallback takes it (never one for an {@code InterruptedException}), what the fallback throws (the failure attached), or a
     * {@code NullPointerException} naming {@code type} when it returns null (the failure attached).
     */
    static Object reactiveFallback(Guard guard, Object target, Object[] args, Throwable thrown, String type) throws Throwable {
        Throwable failure = GuardInterceptor.unwrap(thrown);
        Method fallback = failure instanceof InterruptedException ? null : guard.fallbackFor(failure); // interrupted: stop, as on the blocking path
        if (fallback == null) {
            throw failure;
        }
        Object result = callFallback(fallback, target, args, failure);
        if (result == null) {
            NullPointerException none = new NullPointerException("fallback " + fallback.getName() + " returned null instead of a " + type);
            none.addSuppressed(failure); // the original outcome, for the record
            throw none;
        }
        return result;
    }

    @Override
    public String toString() {
        return description + " -> " + pipeline + (fallbacks.isEmpty() ? "" : " with fallback " + fallbacks.get(0).getName());
    }
}
