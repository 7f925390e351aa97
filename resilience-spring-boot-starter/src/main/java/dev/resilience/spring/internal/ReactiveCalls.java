package dev.resilience.spring.internal;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.observability.ResilienceContextAccessor;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The toolkit's {@link Context} in Reactor chains: which context is current for a subscription,
 * and a pipeline's asynchronous path run per subscription, cancellable by the subscriber. Shared by
 * the annotations' {@code Mono} path, the WebClient filters and the WebFlux deadline filter; loaded
 * only when Reactor is present.
 *
 * <p><b>The current context of a subscription</b> is the one in the subscriber's Reactor context
 * under {@link ResilienceContextAccessor#KEY} (the WebFlux deadline filter writes the request's
 * there; so do these helpers for each attempt, and so does Reactor's {@code contextCapture()} or
 * automatic context propagation from a thread that had one attached), else
 * {@link Context#current()} on the thread that subscribes. The Reactor context comes first because
 * it is what travels with the subscription; the thread's context is the fallback for a chain
 * subscribed (or blocked on) where a context is attached, as in a servlet application.
 */
public final class ReactiveCalls {

    private ReactiveCalls() {
    }

    /**
     * The current context of a subscription whose Reactor context is {@code view} (see the class
     * comment).
     *
     * @throws NullPointerException if {@code view} is null
     */
    public static Context current(ContextView view) {
        Object c = view.getOrDefault(ResilienceContextAccessor.KEY, null);
        return c instanceof Context ? (Context) c : Context.current();
    }

    /** Why {@code context} is done, for a failed signal (its shared marker, or a fresh deadline error). */
    public static ContextDoneException doneError(Context context) {
        ContextDoneException e = context.err();
        return e != null ? e : new DeadlineExceededException();
    }

    /**
     * Per subscription: derives a cancellable child of the {@linkplain #current current context},
     * calls {@code call} with it attached (given the subscriber's Reactor context, for the
     * attempts), and relays the stage's outcome (a null value as an empty {@code Mono}). When the
     * subscriber cancels, the child is cancelled: a retry stops, the attempt in flight (started with
     * {@link #attempt}) is cancelled, and its policies' permits are released as its stage fails; a
     * value that then reaches nobody goes to {@code discard}. The child is cancelled when the stage
     * completes too, so it stays registered with its parent no longer than the call. If the
     * current context is cancelled (not by the subscriber), the {@code Mono} fails with the context's
     * {@link ContextCancelledException}, its cause kept, rather than the attempt's bare cancellation.
     *
     * @param call starts the pipeline; may throw or return null (the {@code Mono} then fails)
     * @param type the values {@code discard} takes
     * @param discard frees a value that reaches nobody, or null if there is nothing to free
     */
    public static <T> Mono<T> run(Function<ContextView, ? extends CompletionStage<T>> call, Class<T> type,
            Consumer<? super T> discard) {
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(type, "type");
        Mono<T> mono = Mono.create(sink -> {
            ContextView view = sink.contextView();
            Context parent = current(view);
            CancelHandle handle = parent.withCancel();
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> {
                cancelled.set(true);
                handle.cancel();
            });
            CompletionStage<T> stage;
            try (Scope s = handle.attach()) {
                stage = call.apply(view);
            } catch (Throwable e) {
                stage = CompletableFuture.failedFuture(e);
            }
            if (stage == null) {
                stage = CompletableFuture.failedFuture(new NullPointerException("the call returned no stage"));
            }
            stage.whenComplete((value, error) -> {
                handle.cancel();
                if (cancelled.get()) {
                    if (value != null && discard != null) {
                        discard.accept(value);
                    }
                } else if (error != null) {
                    sink.error(failure(error, parent));
                } else if (value == null) {
                    sink.success();
                } else {
                    sink.success(value); // discarded by the hook below if the subscriber cancelled just now
                }
            });
        });
        return discard == null ? mono : mono.doOnDiscard(type, discard);
    }

    /**
     * One attempt of a pipeline started by {@link #run}: subscribes to {@code source} with the
     * caller's Reactor context {@code outer} and, under {@link ResilienceContextAccessor#KEY}, the
     * attempt's context ({@link Context#current()} now, which a per-attempt timeout narrows). The
     * future completes with the value (null when empty) or the error; if the attempt's context ends
     * first, with the deadline's error, or cancelled if the context was cancelled (the caller left:
     * no outcome for the policies inside). However the future ends (also when a policy outside ends it:
     * a timeout fails it), the subscription is cancelled. A value that arrives after that goes to
     * {@code discard}.
     *
     * @param discard frees a value that reaches nobody, or null if there is nothing to free
     */
    public static <T> CompletableFuture<T> attempt(Mono<T> source, ContextView outer, Consumer<? super T> discard) {
        Context context = Context.current();
        CompletableFuture<T> result = new CompletableFuture<>();
        if (context.isDone()) {
            result.completeExceptionally(doneError(context));
            return result;
        }
        Disposable.Swap subscription = Disposables.swap();
        Registration onEnd = context.onDone(() -> {
            // The caller left (a cancel): the attempt is cancelled, which the policies inside read as
            // "no outcome" and release; its deadline passed: it fails with the deadline's error.
            ContextDoneException done = doneError(context);
            if (done instanceof ContextCancelledException) {
                result.cancel(false);
            } else {
                result.completeExceptionally(done); // either way the subscription goes, below
            }
        }, Runnable::run);
        // However the future ends (the source, the context, or a policy outside ending it: a timeout
        // fails it, a hedge's loser is cancelled), the subscription goes: the work is not wanted.
        result.whenComplete((v, e) -> {
            onEnd.remove();
            subscription.dispose();
        });
        try {
            subscription.update(source.contextWrite(c -> c.put(ResilienceContextAccessor.KEY, context))
                    .contextWrite(outer)
                    .subscribe(value -> {
                        if (!result.complete(value) && discard != null) {
                            discard.accept(value);
                        }
                    }, result::completeExceptionally, () -> result.complete(null)));
        } catch (Throwable e) { // a broken source that throws on subscribe
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * What a subscriber hears when a call under {@code parent} failed with {@code error}: the
     * failure inside it; but if that is a bare cancellation because {@code parent} was cancelled
     * (not by the subscriber), the context's {@link ContextCancelledException}, its cause kept.
     */
    public static Throwable failure(Throwable error, Context parent) {
        Throwable failure = unwrap(error);
        if (failure instanceof CancellationException && parent.err() instanceof ContextCancelledException why) {
            return why;
        }
        return failure;
    }

    /** The failure inside a stage's wrapping exception. */
    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
