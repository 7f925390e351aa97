package dev.resilience.spring.internal;

import java.lang.reflect.Method;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.support.AopUtils;

/** Runs an annotated method's invocations through its {@link Guard}. */
final class GuardInterceptor implements MethodInterceptor {

    private final Guards guards;

    GuardInterceptor(Guards guards) {
        this.guards = Objects.requireNonNull(guards, "guards");
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Object target = invocation.getThis();
        Guard guard = target == null ? null : guards.guard(invocation.getMethod(), AopUtils.getTargetClass(target));
        if (guard == null) {
            return invocation.proceed();
        }
        return switch (guard.returns) {
            case VALUE -> callBlocking(guard, invocation);
            case STAGE -> callAsync(guard, invocation);
            case FUTURE -> callAsync(guard, invocation).toCompletableFuture();
            case MONO -> ReactorGuards.mono(guard, invocation);
        };
    }

    private static Object callBlocking(Guard guard, MethodInvocation invocation) throws Throwable {
        try {
            return guard.pipeline.call(() -> attempt(invocation));
        } catch (Exception failure) {
            Method fallback = guard.fallbackFor(failure);
            if (fallback == null) {
                throw failure;
            }
            return Guard.callFallback(fallback, invocation.getThis(), invocation.getArguments(), failure);
        }
    }

    /** The asynchronous path; the result's failures go to the fallback, whose result it becomes. */
    static CompletionStage<Object> callAsync(Guard guard, MethodInvocation invocation) {
        CompletionStage<Object> stage;
        try {
            stage = guard.pipeline.callAsync(() -> attemptAsync(invocation));
        } catch (RuntimeException | Error e) {
            stage = CompletableFuture.failedFuture(e);
        }
        if (guard.fallbacks.isEmpty()) {
            return stage;
        }
        return stage.handle((value, thrown) -> {
            if (thrown == null) {
                return CompletableFuture.completedFuture(value);
            }
            Throwable failure = unwrap(thrown);
            Method fallback = guard.fallbackFor(failure);
            if (fallback == null || !(failure instanceof Exception)) {
                return CompletableFuture.failedFuture(failure);
            }
            try {
                Object result = Guard.callFallback(fallback, invocation.getThis(), invocation.getArguments(), failure);
                if (result == null) {
                    return CompletableFuture.failedFuture(new NullPointerException(
                            "fallback " + fallback.getName() + " returned null instead of a CompletionStage"));
                }
                @SuppressWarnings("unchecked") // checked at startup: the fallback returns the method's type
                CompletionStage<Object> fromFallback = (CompletionStage<Object>) result;
                return fromFallback;
            } catch (Throwable fallbackFailure) {
                return CompletableFuture.failedFuture(fallbackFailure);
            }
        }).thenCompose(s -> s);
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

    /** One asynchronous attempt; a throw or a null stage becomes a failed stage. */
    @SuppressWarnings("unchecked") // checked at startup: the method returns a CompletionStage
    static CompletionStage<Object> attemptAsync(MethodInvocation invocation) {
        try {
            Object stage = copy(invocation).proceed();
            if (stage == null) {
                return CompletableFuture.failedFuture(new NullPointerException(
                        invocation.getMethod().getName() + " returned null instead of a CompletionStage"));
            }
            return (CompletionStage<Object>) stage;
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
