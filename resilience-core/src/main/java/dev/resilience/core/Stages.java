package dev.resilience.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Starting a user's asynchronous task so that the policies always get a stage to complete. */
final class Stages {

    private Stages() {
    }

    /**
     * {@code task.get()}, or a failed stage if the supplier throws or returns null (a
     * {@link NullPointerException} saying so): a policy's returned stage must complete either way.
     */
    static <T> CompletionStage<T> start(Supplier<? extends CompletionStage<T>> task) {
        CompletionStage<T> stage;
        try {
            stage = task.get();
        } catch (Throwable e) {
            return CompletableFuture.failedFuture(e);
        }
        return stage != null ? stage : CompletableFuture.failedFuture(new NullPointerException("the task returned no stage"));
    }

    /** {@link #start} for a task whose stage may hold a subtype. */
    static <T> CompletionStage<? extends T> startCovariant(Supplier<? extends CompletionStage<? extends T>> task) {
        CompletionStage<? extends T> stage;
        try {
            stage = task.get();
        } catch (Throwable e) {
            return CompletableFuture.failedFuture(e);
        }
        return stage != null ? stage : CompletableFuture.failedFuture(new NullPointerException("the task returned no stage"));
    }
}
