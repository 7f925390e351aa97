package dev.resilience.context;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A {@link CompletableFuture} whose dependent stages run under the {@link Context} of the code that
 * created them, not of whichever thread happens to complete the previous stage.
 *
 * <pre>{@code
 * try (Scope s = requestContext.attach()) {
 *     ContextFuture.supplyAsync(() -> fetch(), pool)     // runs under requestContext
 *         .thenApply(r -> parse(r));                    // so does this, on any thread
 * }
 * }</pre>
 *
 * <p>Every stage method captures {@link Context#current()} when it is called; every stage it
 * returns is again a {@code ContextFuture}. Use {@link #wrap(CompletionStage)} to adopt a future
 * made elsewhere.
 *
 * @param <T> the result type
 */
public class ContextFuture<T> extends CompletableFuture<T> {

    /** An incomplete future. */
    public ContextFuture() {
    }

    /** A future completed by {@code supplier}, run on {@code executor} under the current context. */
    public static <U> ContextFuture<U> supplyAsync(Supplier<U> supplier, Executor executor) {
        ContextFuture<U> f = new ContextFuture<>();
        f.completeAsync(supplier, executor);
        return f;
    }

    /** A future completed by {@code supplier}, run on the default executor under the current context. */
    public static <U> ContextFuture<U> supplyAsync(Supplier<U> supplier) {
        ContextFuture<U> f = new ContextFuture<>();
        f.completeAsync(supplier);
        return f;
    }

    /** A future completed after {@code task} ran on {@code executor} under the current context. */
    public static ContextFuture<Void> runAsync(Runnable task, Executor executor) {
        Objects.requireNonNull(task, "task");
        return supplyAsync(() -> {
            task.run();
            return null;
        }, executor);
    }

    /** A future completed after {@code task} ran on the default executor under the current context. */
    public static ContextFuture<Void> runAsync(Runnable task) {
        Objects.requireNonNull(task, "task");
        return supplyAsync(() -> {
            task.run();
            return null;
        });
    }

    /** A future already completed with {@code value}. */
    public static <U> ContextFuture<U> completedFuture(U value) {
        ContextFuture<U> f = new ContextFuture<>();
        f.complete(value);
        return f;
    }

    /** A future that completes as {@code stage} does; its dependent stages propagate context. */
    public static <U> ContextFuture<U> wrap(CompletionStage<U> stage) {
        Objects.requireNonNull(stage, "stage");
        if (stage instanceof ContextFuture) {
            return (ContextFuture<U>) stage;
        }
        ContextFuture<U> f = new ContextFuture<>();
        stage.whenComplete((v, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        });
        return f;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new ContextFuture<>();
    }

    // ---------------------------------------------------------------- capture helpers

    private static <A, R> Function<A, R> capture(Function<A, R> fn) {
        Objects.requireNonNull(fn, "fn");
        Context c = Context.current();
        return a -> {
            try (Scope ignored = c.attach()) {
                return fn.apply(a);
            }
        };
    }

    private static <A, B, R> BiFunction<A, B, R> capture(BiFunction<A, B, R> fn) {
        Objects.requireNonNull(fn, "fn");
        Context c = Context.current();
        return (a, b) -> {
            try (Scope ignored = c.attach()) {
                return fn.apply(a, b);
            }
        };
    }

    private static <A> Consumer<A> capture(Consumer<A> action) {
        Objects.requireNonNull(action, "action");
        Context c = Context.current();
        return a -> {
            try (Scope ignored = c.attach()) {
                action.accept(a);
            }
        };
    }

    private static <A, B> BiConsumer<A, B> capture(BiConsumer<A, B> action) {
        Objects.requireNonNull(action, "action");
        Context c = Context.current();
        return (a, b) -> {
            try (Scope ignored = c.attach()) {
                action.accept(a, b);
            }
        };
    }

    private static Runnable capture(Runnable action) {
        return Context.current().wrap(action);
    }

    private static <R> Supplier<R> capture(Supplier<R> supplier) {
        Objects.requireNonNull(supplier, "supplier");
        Context c = Context.current();
        return () -> {
            try (Scope ignored = c.attach()) {
                return supplier.get();
            }
        };
    }

    // ---------------------------------------------------------------- stages

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
        return super.completeAsync(capture(supplier), executor);
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
        return super.completeAsync(capture(supplier));
    }

    @Override
    public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
        return super.thenApply(capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn) {
        return super.thenApplyAsync(capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn, Executor executor) {
        return super.thenApplyAsync(capture(fn), executor);
    }

    @Override
    public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
        return super.thenAccept(capture(action));
    }

    @Override
    public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action) {
        return super.thenAcceptAsync(capture(action));
    }

    @Override
    public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action, Executor executor) {
        return super.thenAcceptAsync(capture(action), executor);
    }

    @Override
    public CompletableFuture<Void> thenRun(Runnable action) {
        return super.thenRun(capture(action));
    }

    @Override
    public CompletableFuture<Void> thenRunAsync(Runnable action) {
        return super.thenRunAsync(capture(action));
    }

    @Override
    public CompletableFuture<Void> thenRunAsync(Runnable action, Executor executor) {
        return super.thenRunAsync(capture(action), executor);
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
            BiFunction<? super T, ? super U, ? extends V> fn) {
        return super.thenCombine(other, capture(fn));
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other,
            BiFunction<? super T, ? super U, ? extends V> fn) {
        return super.thenCombineAsync(other, capture(fn));
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other,
            BiFunction<? super T, ? super U, ? extends V> fn, Executor executor) {
        return super.thenCombineAsync(other, capture(fn), executor);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
            BiConsumer<? super T, ? super U> action) {
        return super.thenAcceptBoth(other, capture(action));
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other,
            BiConsumer<? super T, ? super U> action) {
        return super.thenAcceptBothAsync(other, capture(action));
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other,
            BiConsumer<? super T, ? super U> action, Executor executor) {
        return super.thenAcceptBothAsync(other, capture(action), executor);
    }

    @Override
    public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
        return super.runAfterBoth(other, capture(action));
    }

    @Override
    public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action) {
        return super.runAfterBothAsync(other, capture(action));
    }

    @Override
    public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action, Executor executor) {
        return super.runAfterBothAsync(other, capture(action), executor);
    }

    @Override
    public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        return super.applyToEither(other, capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        return super.applyToEitherAsync(other, capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn,
            Executor executor) {
        return super.applyToEitherAsync(other, capture(fn), executor);
    }

    @Override
    public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
        return super.acceptEither(other, capture(action));
    }

    @Override
    public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action) {
        return super.acceptEitherAsync(other, capture(action));
    }

    @Override
    public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action,
            Executor executor) {
        return super.acceptEitherAsync(other, capture(action), executor);
    }

    @Override
    public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
        return super.runAfterEither(other, capture(action));
    }

    @Override
    public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action) {
        return super.runAfterEitherAsync(other, capture(action));
    }

    @Override
    public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action, Executor executor) {
        return super.runAfterEitherAsync(other, capture(action), executor);
    }

    @Override
    public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
        return super.thenCompose(capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn) {
        return super.thenComposeAsync(capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn,
            Executor executor) {
        return super.thenComposeAsync(capture(fn), executor);
    }

    @Override
    public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
        return super.handle(capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn) {
        return super.handleAsync(capture(fn));
    }

    @Override
    public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn, Executor executor) {
        return super.handleAsync(capture(fn), executor);
    }

    @Override
    public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
        return super.whenComplete(capture(action));
    }

    @Override
    public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action) {
        return super.whenCompleteAsync(capture(action));
    }

    @Override
    public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action, Executor executor) {
        return super.whenCompleteAsync(capture(action), executor);
    }

    @Override
    public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
        return super.exceptionally(capture(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn) {
        return super.exceptionallyAsync(capture(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn, Executor executor) {
        return super.exceptionallyAsync(capture(fn), executor);
    }

    @Override
    public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
        return super.exceptionallyCompose(capture(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn) {
        return super.exceptionallyComposeAsync(capture(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn,
            Executor executor) {
        return super.exceptionallyComposeAsync(capture(fn), executor);
    }
}
