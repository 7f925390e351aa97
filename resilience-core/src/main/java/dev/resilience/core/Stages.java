package dev.resilience.core;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Starting a user's asynchronous task so that the policies always get a stage to complete. */
final class Stages {

    private Stages() {
    }

    /** The failure inside a stage's {@link CompletionException} wrapper, or {@code error} itself (may be null). */
    static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
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

    /**
     * Starts {@code task} under the granted permit {@code p} and ends the permit when the stage
     * completes: {@code onSuccess}, {@code release} for a cancelled stage (nothing to count),
     * {@code onFailure} otherwise. A supplier that throws is a failure; one that returns null
     * releases the permit (nothing was called: a programming error, not the dependency's) and fails
     * the stage with a {@link NullPointerException}.
     */
    static <T> CompletionStage<T> underPermit(Permit p, Supplier<? extends CompletionStage<T>> task) {
        CompletionStage<T> stage;
        try {
            stage = task.get();
        } catch (Throwable e) {
            p.onFailure(e);
            return CompletableFuture.failedFuture(e);
        }
        if (stage == null) {
            p.release();
            return CompletableFuture.failedFuture(new NullPointerException("the task returned no stage"));
        }
        return stage.whenComplete((v, e) -> {
            if (e == null) {
                p.onSuccess();
            } else {
                Throwable cause = unwrap(e);
                if (cause instanceof CancellationException) {
                    p.release();
                } else {
                    p.onFailure(cause);
                }
            }
        });
    }
}
