package dev.resilience.spring.cloud;

import java.util.function.Function;

/** Calling a user's fallback: what it throws comes out with the original failure attached. */
final class Fallbacks {

    private Fallbacks() {
    }

    /**
     * {@code fallback.apply(failure)}. What the fallback throws is thrown as it is (a checked
     * exception too), with {@code failure} added as suppressed unless it is that exception itself or
     * its cause (Spring Cloud's own {@code NoFallbackAvailableException} carries it as the cause).
     */
    static <T> T apply(Function<Throwable, T> fallback, Throwable failure) {
        try {
            return fallback.apply(failure);
        } catch (Throwable thrown) {
            throw Fallbacks.<RuntimeException>sneaky(attach(thrown, failure));
        }
    }

    /** Adds {@code failure} to {@code thrown} as suppressed where that adds information; returns {@code thrown}. */
    static Throwable attach(Throwable thrown, Throwable failure) {
        if (thrown != failure && thrown.getCause() != failure) {
            try {
                thrown.addSuppressed(failure);
            } catch (RuntimeException ignored) {
                // a throwable whose suppression is disabled, or one that refuses: thrown is what matters
            }
        }
        return thrown;
    }

    /** Throws {@code t} unchecked: a fallback's checked exception reaches the caller as it was thrown. */
    @SuppressWarnings("unchecked")
    static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
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
            return error.apply(attach(thrown, cause));
        }
        if (publisher == null) {
            return error.apply(attach(new NullPointerException("the fallback returned null instead of a publisher"), cause));
        }
        return publisher;
    }
}
