package dev.resilience.spring.cloud;

import dev.resilience.context.internal.Suppression;
import java.util.function.Function;

/** Calling a user's fallback: what it throws comes out with the original failure attached. */
final class Fallbacks {

    private Fallbacks() {
    }

    /**
     * {@code fallback.apply(failure)}. What the fallback throws is thrown as it is (a checked
     * exception too), with {@code failure} added as suppressed as {@link Suppression#attach} decides
     * (not if it is that exception itself or its cause, as in Spring Cloud's own
     * {@code NoFallbackAvailableException}; at most a few on an exception shared between calls).
     */
    static <T> T apply(Function<Throwable, T> fallback, Throwable failure) {
        try {
            return fallback.apply(failure);
        } catch (Throwable thrown) {
            throw Suppression.rethrow(Suppression.attach(thrown, failure));
        }
    }

    /**
     * A reactive fallback's publisher for {@code failure} (a {@code CompletionException}'s cause);
     * what it throws, or a null publisher, becomes {@code error}'s publisher of that exception (a
     * {@code NullPointerException} for null) with {@code failure} attached.
     */
    static <P> P reactive(Function<Throwable, P> fallback, Throwable failure, Function<Throwable, P> error) {
        Throwable cause = PipelineReactiveCircuitBreaker.unwrap(failure);
        P publisher;
        try {
            publisher = fallback.apply(cause);
        } catch (Throwable thrown) {
            return error.apply(Suppression.attach(thrown, cause));
        }
        if (publisher == null) {
            return error.apply(Suppression.attach(new NullPointerException("the fallback returned null instead of a publisher"), cause));
        }
        return publisher;
    }
}
