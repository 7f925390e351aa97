package dev.resilience.core;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
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
     * The failure of a task that returned no stage: a programming error, not the dependency's. A
     * policy that holds a permit releases it without counting this (inside a pipeline as alone),
     * and a retry does not retry it.
     */
    static final class NoStageException extends NullPointerException {
        private static final long serialVersionUID = 1L;

        NoStageException() {
            super("the task returned no stage");
        }
    }

    /** A stage failed with a {@link NoStageException}. */
    static <T> CompletionStage<T> noStage() {
        return CompletableFuture.failedFuture(new NoStageException());
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
        return nonNull(stage);
    }

    /** {@code stage}, or a failed one ("no stage") if a policy or task returned null. */
    static <T> CompletionStage<T> nonNull(CompletionStage<T> stage) {
        return stage != null ? stage : noStage();
    }

    /** {@link #start} for a task whose stage may hold a subtype. */
    static <T> CompletionStage<? extends T> startCovariant(Supplier<? extends CompletionStage<? extends T>> task) {
        CompletionStage<? extends T> stage;
        try {
            stage = task.get();
        } catch (Throwable e) {
            return CompletableFuture.failedFuture(e);
        }
        return stage != null ? stage : noStage();
    }

    /**
     * Cancels {@code stage} if it can be: the work inside is no longer wanted (its caller cancelled,
     * or time is up). A stage that is done, or that cannot be turned into a {@link CompletableFuture},
     * is left as it is; a cancelled stage is how a policy inside (a bulkhead, a limiter) learns to give
     * its permit back when the work does not end by itself.
     */
    static void cancel(CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().cancel(false);
        } catch (RuntimeException notCancellable) { // UnsupportedOperationException from a stage that is no future
            // nothing to cancel: the stage ends when its work does
        }
    }

    /**
     * Whether {@code stage} is a plain {@code CompletableFuture} that completed normally already:
     * then a policy counts it at once and hands it on as it is, with nothing to register (no
     * allocation). Only the exact class: a minimal stage ({@code completedStage},
     * {@code minimalCompletionStage}) is a subclass whose {@code isDone} throws.
     */
    static boolean succeeded(CompletionStage<?> stage) {
        return done(stage) && !((CompletableFuture<?>) stage).isCompletedExceptionally();
    }

    /** Whether {@code stage} is a plain {@code CompletableFuture} that is done (in any way). */
    static boolean done(CompletionStage<?> stage) {
        return stage != null && stage.getClass() == CompletableFuture.class && ((CompletableFuture<?>) stage).isDone();
    }

    /** Completes {@code to} with an outcome as {@code whenComplete} reports it: value {@code v}, or failure {@code e}. */
    static <T> void relay(CompletableFuture<T> to, T v, Throwable e) {
        if (e != null) {
            to.completeExceptionally(e);
        } else {
            to.complete(v);
        }
    }

    /**
     * Ends {@code stage} after the stage a policy returned for it ended ({@code error} null: with a
     * value): if that end came from outside (a caller's cancel, a timeout, {@code completeOnTimeout}),
     * the work is not wanted; a stage that is done already is left as it is.
     */
    static void endInside(CompletionStage<?> stage, Throwable error) {
        if (error == null) {
            cancel(stage);
        } else {
            abandon(stage, error);
        }
    }

    /**
     * Ends {@code stage}, whose outcome nobody waits for any more, the way its caller's ended:
     * cancelled if {@code why} is a cancellation, else failed with {@code why} (a timeout, the
     * caller's context ending). A policy inside then counts it as it would have counted the work
     * failing so: an adaptive limiter samples a timeout as a drop, a bulkhead gives its slot back.
     * A stage that is done, or cannot be turned into a {@link CompletableFuture}, is left as it is.
     */
    static void abandon(CompletionStage<?> stage, Throwable why) {
        Throwable cause = unwrap(why);
        if (cause instanceof CancellationException) {
            cancel(stage);
            return;
        }
        try {
            stage.toCompletableFuture().completeExceptionally(cause);
        } catch (RuntimeException notAFuture) { // UnsupportedOperationException
            // nothing to end: the stage ends when its work does
        }
    }

    /**
     * Starts {@code task} under the granted permit {@code p} and ends the permit exactly once: when
     * the task's stage completes, {@code onSuccess}, {@code release} for a cancelled stage (nothing to
     * count), {@code onFailure} otherwise; when the returned stage is ended from outside first, the
     * same way for its outcome (a caller's cancel releases, a timeout outside is a failure), and the
     * task's stage is ended alike ({@link #abandon}). A supplier that throws is a failure; one
     * that returns null releases the permit (nothing was called: a programming error, not the
     * dependency's) and fails the stage with a {@link NullPointerException}.
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
            return noStage();
        }
        if (succeeded(stage)) { // done already (a cached value): counted now, nothing to end from outside
            p.onSuccess();
            return stage;
        }
        AtomicBoolean ended = new AtomicBoolean();
        CompletableFuture<T> result = new CompletableFuture<>();
        stage.whenComplete((v, e) -> {
            try {
                if (ended.compareAndSet(false, true)) {
                    if (e == null) {
                        p.onSuccess();
                    } else {
                        Throwable cause = unwrap(e);
                        if (cause instanceof CancellationException || cause instanceof NoStageException) {
                            p.release(); // a task inside this one returned no stage: nothing was called
                        } else {
                            p.onFailure(cause);
                        }
                    }
                }
            } finally {
                relay(result, v, e); // the outcome stands even if a permit's accounting threw
            }
        });
        if (result.isDone()) {
            return result; // the task's stage completed it here: nothing left to end from outside
        }
        result.whenComplete((v, e) -> {
            if (!ended.compareAndSet(false, true)) {
                return; // the task's stage ended it, and counted it
            }
            // Ended from outside before the task: cancelled by the caller or given a value
            // (completeOnTimeout): nothing to count; failed by a policy outside, a timeout say:
            // counted as that failure, as the work failing so would be. The work is not wanted.
            Throwable cause = unwrap(e);
            if (cause == null || cause instanceof CancellationException) {
                p.release();
            } else {
                p.onFailure(cause);
            }
            endInside(stage, cause);
        });
        return result;
    }
}
