package dev.resilience.core;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Replaces selected failures with a value, or with a value computed from the failure.
 *
 * <pre>{@code
 * Fallback<Price> cached = Fallback.<Price>when(e -> e instanceof CallNotPermittedException)
 *         .to(e -> priceCache.last(sku));
 * Price p = cached.call(() -> pricing.get(sku));   // the cached price while the breaker is open
 * }</pre>
 *
 * <p>Failures the predicate does not select, and failures thrown by the fallback function itself,
 * come out unchanged (a fallback may translate a failure by throwing: pass the original as the
 * cause). If the predicate itself throws, the original failure comes out, with the predicate's
 * exception attached as suppressed. Every stage {@link #callAsync} returns completes. Only
 * exceptions are replaced, by {@link #call} and {@link #callAsync} alike: an {@link Error} (out of
 * memory, a stack overflow) passes through; an {@link InterruptedException} replaced by a value
 * leaves the thread's interrupt flag set.
 *
 * @param <T> the result type
 */
public final class Fallback<T> {

    private final Predicate<Throwable> when;
    private final Function<Throwable, ? extends T> to;

    private Fallback(Predicate<Throwable> when, Function<Throwable, ? extends T> to) {
        this.when = when;
        this.to = to;
    }

    /** Starts a fallback for failures that {@code when} selects. */
    public static <T> Selector<T> when(Predicate<Throwable> when) {
        return new Selector<>(Objects.requireNonNull(when, "when"));
    }

    /** Starts a fallback for failures of any of the given types (subclasses of {@link Throwable}). */
    public static <T> Selector<T> on(Class<?>... types) {
        Objects.requireNonNull(types, "types");
        if (types.length == 0) {
            throw new IllegalArgumentException("types must not be empty");
        }
        Class<?>[] copy = types.clone();
        for (Class<?> c : copy) {
            Objects.requireNonNull(c, "types");
            if (!Throwable.class.isAssignableFrom(c)) {
                throw new IllegalArgumentException("types must be Throwable types: " + c.getName());
            }
        }
        return new Selector<>(e -> {
            for (Class<?> c : copy) {
                if (c.isInstance(e)) {
                    return true;
                }
            }
            return false;
        });
    }

    /** Starts a fallback for every failure. */
    public static <T> Selector<T> always() {
        return new Selector<>(e -> true);
    }

    /** The second half of the builder: what to fall back to. */
    public static final class Selector<T> {
        private final Predicate<Throwable> when;

        private Selector(Predicate<Throwable> when) {
            this.when = when;
        }

        /** Falls back to a fixed value (may be null). */
        public Fallback<T> toValue(T value) {
            return new Fallback<>(when, e -> value);
        }

        /** Falls back to a value computed from the failure. */
        public Fallback<T> to(Function<Throwable, ? extends T> fn) {
            return new Fallback<>(when, Objects.requireNonNull(fn, "fn"));
        }
    }

    /** Calls {@code task}; a selected failure is replaced by the fallback's value. */
    @SuppressWarnings("unchecked")
    public T call(Callable<? extends T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, (Callable<T>) task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        try {
            return next.invoke(index, task);
        } catch (Exception e) {
            if (Callbacks.test(when, e, false, "a fallback's predicate")) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt(); // a value instead of the interrupt: the flag stays for the caller
                }
                return apply(e);
            }
            throw e;
        }
    }

    /** The fallback's value; what the function throws comes out as it is (a translation). */
    private T apply(Throwable original) {
        return to.apply(original);
    }

    /** Like {@link #call} for asynchronous work. */
    public CompletionStage<T> callAsync(Supplier<? extends CompletionStage<? extends T>> task) {
        Objects.requireNonNull(task, "task");
        CompletionStage<? extends T> stage = Stages.startCovariant(task);
        if (Stages.succeeded(stage)) {
            @SuppressWarnings("unchecked") // done with a T already: nothing can be put into it any more
            CompletionStage<T> done = (CompletionStage<T>) stage;
            return done;
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        stage.whenComplete((value, error) -> {
            if (result.isDone()) {
                return; // ended from outside: nobody waits for a fallback value
            }
            if (error == null) {
                result.complete(value);
                return;
            }
            Throwable cause = Stages.unwrap(error);
            // as call(): only exceptions are replaced, an Error (out of memory, a stack overflow) passes
            if (!(cause instanceof Exception) || !Callbacks.test(when, cause, false, "a fallback's predicate")) {
                result.completeExceptionally(cause);
                return;
            }
            try {
                result.complete(apply(cause));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        if (!result.isDone()) {
            result.whenComplete((value, error) -> Stages.endInside(stage, error)); // the caller cancelling reaches the work
        }
        return result;
    }
}
