package dev.resilience.spring.internal;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import java.lang.reflect.Method;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.ProxyMethodInvocation;

/** Runs an annotated method's invocations through its {@link Guard}. */
final class GuardInterceptor implements MethodInterceptor {

    private final Guards guards;
    /** The annotated interfaces of the one proxy this interceptor serves, or null for any bean. */
    private final List<Class<?>> interfaces;

    GuardInterceptor(Guards guards) {
        this(guards, null);
    }

    /** An interceptor for one proxy of annotated {@code interfaces} (null: any bean). */
    GuardInterceptor(Guards guards, List<Class<?>> interfaces) {
        this.guards = Objects.requireNonNull(guards, "guards");
        this.interfaces = interfaces == null ? null : List.copyOf(interfaces);
    }

    /** The annotated interfaces this interceptor serves, or null for any bean. */
    List<Class<?>> interfaces() {
        return interfaces;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Guard guard = interfaces == null ? guards.guardFor(invocation.getMethod(), invocation.getThis())
                : guards.guardFor(invocation.getMethod(), invocation.getThis(), interfaces);
        if (guard == null) {
            return invocation.proceed();
        }
        return switch (guard.returns) {
            case VALUE -> callBlocking(guard, invocation);
            case STAGE -> callAsync(guard, invocation);
            case MONO -> ReactorGuards.mono(guard, invocation);
            case FLUX -> GuardedStream.flux(guard, invocation);
        };
    }

    private static Object callBlocking(Guard guard, MethodInvocation invocation) throws Throwable {
        try {
            return guard.pipeline.call(() -> attempt(invocation));
        } catch (InterruptedException interrupted) {
            // Interruption means stop: no fallback, and the thread stays interrupted.
            Thread.currentThread().interrupt();
            throw interrupted;
        } catch (Exception failure) {
            Method fallback = guard.fallbackFor(failure);
            if (fallback == null) {
                throw failure;
            }
            return Guard.callFallback(fallback, invocation.getThis(), invocation.getArguments(), failure);
        }
    }

    /**
     * The asynchronous path, under a child of the caller's context that ends with the returned
     * future: cancelling the future stops the retries and waits still to come. The result's failures
     * go to the fallback, whose result it becomes.
     */
    static CompletableFuture<Object> callAsync(Guard guard, MethodInvocation invocation) {
        CancelHandle call = Context.current().withCancel();
        CompletableFuture<Object> result;
        try (Scope s = call.attach()) {
            result = withFallback(guard, invocation, guard.pipeline.callAsync(() -> attemptAsync(invocation)));
        } catch (Throwable e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((value, thrown) -> call.cancel());
        return result;
    }

    /**
     * The pipeline's stage, or with a fallback a future of its own that the fallback completes. A
     * caller that gives up on that future (a {@code cancel()}, an {@code orTimeout}) ends the
     * pipeline's stage too (its attempt is cancelled and its permits come back), and no fallback runs
     * for nobody.
     */
    private static CompletableFuture<Object> withFallback(Guard guard, MethodInvocation invocation,
            CompletionStage<Object> stage) {
        CompletableFuture<Object> pipeline = stage.toCompletableFuture();
        if (guard.fallbacks.isEmpty()) {
            return pipeline;
        }
        CompletableFuture<Object> out = new CompletableFuture<>();
        pipeline.whenComplete((value, thrown) -> {
            if (out.isDone()) {
                return; // the caller gave up first: nobody waits for a fallback
            }
            if (thrown == null) {
                out.complete(value);
                return;
            }
            Throwable failure = unwrap(thrown);
            Method fallback = guard.fallbackFor(failure);
            if (fallback == null || !(failure instanceof Exception)) {
                out.completeExceptionally(failure);
                return;
            }
            try {
                Object fromFallback = Guard.callFallback(fallback, invocation.getThis(), invocation.getArguments(), failure);
                if (fromFallback == null) {
                    NullPointerException none = new NullPointerException(
                            "fallback " + fallback.getName() + " returned null instead of a CompletionStage");
                    none.addSuppressed(failure); // the original outcome, for the record (as for Mono and Flux)
                    out.completeExceptionally(none);
                    return;
                }
                @SuppressWarnings("unchecked") // checked at startup: the fallback returns the method's type
                CompletionStage<Object> fallbackStage = (CompletionStage<Object>) fromFallback;
                fallbackStage.whenComplete((v, e) -> {
                    if (e != null) {
                        out.completeExceptionally(unwrap(e));
                    } else {
                        out.complete(v);
                    }
                });
            } catch (Throwable fallbackFailure) {
                out.completeExceptionally(fallbackFailure);
            }
        });
        if (!out.isDone()) {
            // The caller ended the future first: end the call inside as it would end the pipeline's
            // own future without a fallback (a cancel or a value: nothing counted; a failure, e.g.
            // orTimeout's: counted as that failure).
            out.whenComplete((v, e) -> { // a no-op once the pipeline's future is done
                Throwable cause = e == null ? null : unwrap(e);
                if (cause == null) {
                    pipeline.complete(v);
                } else if (cause instanceof java.util.concurrent.CancellationException) {
                    pipeline.cancel(false);
                } else {
                    pipeline.completeExceptionally(cause);
                }
            });
        }
        return out;
    }

    /** One attempt: the rest of the interceptor chain, run anew (a retry calls it again). */
    static Object attempt(MethodInvocation invocation) throws Exception {
        try {
            return copy(invocation).proceed();
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new UndeclaredThrowableException(t);
        }
    }

    /**
     * One asynchronous attempt; a throw becomes a failed stage. A method that returns null passes
     * the null on: the pipeline fails the call with a {@code NullPointerException} ("the task
     * returned no stage") that no breaker, throttle or limiter counts and no retry retries.
     */
    @SuppressWarnings("unchecked") // checked at startup: the method returns a CompletionStage
    static CompletionStage<Object> attemptAsync(MethodInvocation invocation) {
        try {
            return (CompletionStage<Object>) copy(invocation).proceed();
        } catch (Throwable t) {
            return CompletableFuture.failedFuture(t);
        }
    }

    private static MethodInvocation copy(MethodInvocation invocation) {
        return invocation instanceof ProxyMethodInvocation p ? p.invocableClone() : invocation;
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
