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
 * returns is again a {@code ContextFuture}, and so are the futures of this class's static factories
 * ({@link #allOf}, {@link #anyOf}, {@link #failedFuture} included). Use {@link #wrap(CompletionStage)}
 * to adopt a future made elsewhere. The JDK's minimal stages ({@code minimalCompletionStage()},
 * {@code completedStage}, {@code failedStage}) are the JDK's own and propagate nothing.
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

    /** A future already failed with {@code failure}. */
    public static <U> ContextFuture<U> failedFuture(Throwable failure) {
        Objects.requireNonNull(failure, "failure");
        ContextFuture<U> f = new ContextFuture<>();
        f.completeExceptionally(failure);
        return f;
    }

    /** As {@link CompletableFuture#allOf}, as a {@code ContextFuture}: its stages propagate context. */
    public static ContextFuture<Void> allOf(CompletableFuture<?>... futures) {
        return wrap(CompletableFuture.allOf(futures));
    }

    /** As {@link CompletableFuture#anyOf}, as a {@code ContextFuture}: its stages propagate context. */
    public static ContextFuture<Object> anyOf(CompletableFuture<?>... futures) {
        return wrap(CompletableFuture.anyOf(futures));
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

    private static <A, R> Function<A, R> captureFunction(Function<A, R> fn) {
        Objects.requireNonNull(fn, "fn");
        Context c = Context.current();
        return a -> {
            try (Scope ignored = c.attach()) {
                return fn.apply(a);
            }
        };
    }

    private static <A, B, R> BiFunction<A, B, R> captureBiFunction(BiFunction<A, B, R> fn) {
        Objects.requireNonNull(fn, "fn");
        Context c = Context.current();
        return (a, b) -> {
            try (Scope ignored = c.attach()) {
                return fn.apply(a, b);
            }
        };
    }

    private static <A> Consumer<A> captureConsumer(Consumer<A> action) {
        Objects.requireNonNull(action, "action");
        Context c = Context.current();
        return a -> {
            try (Scope ignored = c.attach()) {
                action.accept(a);
            }
        };
    }

    private static <A, B> BiConsumer<A, B> captureBiConsumer(BiConsumer<A, B> action) {
        Objects.requireNonNull(action, "action");
        Context c = Context.current();
        return (a, b) -> {
            try (Scope ignored = c.attach()) {
                action.accept(a, b);
            }
        };
    }

    private static Runnable captureRunnable(Runnable action) {
        return Context.current().wrap(action);
    }

    private static <R> Supplier<R> captureSupplier(Supplier<R> supplier) {
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
        return super.completeAsync(captureSupplier(supplier), executor);
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
        return super.completeAsync(captureSupplier(supplier));
    }

    @Override
    public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
        return super.thenApply(captureFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn) {
        return super.thenApplyAsync(captureFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn, Executor executor) {
        return super.thenApplyAsync(captureFunction(fn), executor);
    }

    @Override
    public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
        return super.thenAccept(captureConsumer(action));
    }

    @Override
    public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action) {
        return super.thenAcceptAsync(captureConsumer(action));
    }

    @Override
    public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action, Executor executor) {
        return super.thenAcceptAsync(captureConsumer(action), executor);
    }

    @Override
    public CompletableFuture<Void> thenRun(Runnable action) {
        return super.thenRun(captureRunnable(action));
    }

    @Override
    public CompletableFuture<Void> thenRunAsync(Runnable action) {
        return super.thenRunAsync(captureRunnable(action));
    }

    @Override
    public CompletableFuture<Void> thenRunAsync(Runnable action, Executor executor) {
        return super.thenRunAsync(captureRunnable(action), executor);
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
            BiFunction<? super T, ? super U, ? extends V> fn) {
        return super.thenCombine(other, captureBiFunction(fn));
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other,
            BiFunction<? super T, ? super U, ? extends V> fn) {
        return super.thenCombineAsync(other, captureBiFunction(fn));
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other,
            BiFunction<? super T, ? super U, ? extends V> fn, Executor executor) {
        return super.thenCombineAsync(other, captureBiFunction(fn), executor);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
            BiConsumer<? super T, ? super U> action) {
        return super.thenAcceptBoth(other, captureBiConsumer(action));
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other,
            BiConsumer<? super T, ? super U> action) {
        return super.thenAcceptBothAsync(other, captureBiConsumer(action));
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other,
            BiConsumer<? super T, ? super U> action, Executor executor) {
        return super.thenAcceptBothAsync(other, captureBiConsumer(action), executor);
    }

    @Override
    public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
        return super.runAfterBoth(other, captureRunnable(action));
    }

    @Override
    public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action) {
        return super.runAfterBothAsync(other, captureRunnable(action));
    }

    @Override
    public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action, Executor executor) {
        return super.runAfterBothAsync(other, captureRunnable(action), executor);
    }

    @Override
    public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        return super.applyToEither(other, captureFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        return super.applyToEitherAsync(other, captureFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn,
            Executor executor) {
        return super.applyToEitherAsync(other, captureFunction(fn), executor);
    }

    @Override
    public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
        return super.acceptEither(other, captureConsumer(action));
    }

    @Override
    public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action) {
        return super.acceptEitherAsync(other, captureConsumer(action));
    }

    @Override
    public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action,
            Executor executor) {
        return super.acceptEitherAsync(other, captureConsumer(action), executor);
    }

    @Override
    public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
        return super.runAfterEither(other, captureRunnable(action));
    }

    @Override
    public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action) {
        return super.runAfterEitherAsync(other, captureRunnable(action));
    }

    @Override
    public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action, Executor executor) {
        return super.runAfterEitherAsync(other, captureRunnable(action), executor);
    }

    @Override
    public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
        return super.thenCompose(captureFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn) {
        return super.thenComposeAsync(captureFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn,
            Executor executor) {
        return super.thenComposeAsync(captureFunction(fn), executor);
    }

    @Override
    public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
        return super.handle(captureBiFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn) {
        return super.handleAsync(captureBiFunction(fn));
    }

    @Override
    public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn, Executor executor) {
        return super.handleAsync(captureBiFunction(fn), executor);
    }

    @Override
    public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
        return super.whenComplete(captureBiConsumer(action));
    }

    @Override
    public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action) {
        return super.whenCompleteAsync(captureBiConsumer(action));
    }

    @Override
    public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action, Executor executor) {
        return super.whenCompleteAsync(captureBiConsumer(action), executor);
    }

    @Override
    public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
        return super.exceptionally(captureFunction(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn) {
        return super.exceptionallyAsync(captureFunction(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn, Executor executor) {
        return super.exceptionallyAsync(captureFunction(fn), executor);
    }

    @Override
    public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
        return super.exceptionallyCompose(captureFunction(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn) {
        return super.exceptionallyComposeAsync(captureFunction(fn));
    }

    @Override
    public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn,
            Executor executor) {
        return super.exceptionallyComposeAsync(captureFunction(fn), executor);
    }
}
