package dev.resilience.spring.internal;

import java.util.concurrent.CompletableFuture;
import org.aopalliance.intercept.MethodInvocation;
import reactor.core.publisher.Mono;

/** The {@code Mono} path; loaded only when Reactor is on the class path. */
final class ReactorGuards {

    private ReactorGuards() {
    }

    /**
     * A {@code Mono} that, per subscription, runs the method's {@code Mono} through the pipeline's
     * asynchronous path (one subscription per attempt) and its failure through the fallback.
     *
     * <p>The pipeline runs under the subscription's current context ({@link ReactiveCalls#current}:
     * the Reactor context's, else the subscribing thread's), and each attempt subscribes with the
     * subscriber's Reactor context plus the attempt's context. A subscriber that cancels cancels
     * the call: the attempt in flight is cancelled, no retry follows, and the permits it holds (a
     * bulkhead's, an adaptive limiter's) are released at once rather than when the method's {@code Mono}
     * would have ended, if ever.
     */
    static Object mono(Guard guard, MethodInvocation invocation) {
        Mono<Object> guarded = ReactiveCalls.run(view -> guard.pipeline.callAsync(() -> {
            try {
                Object mono = GuardInterceptor.attempt(invocation);
                if (mono == null) {
                    return null; // the pipeline fails the call as "no stage": not counted, not retried
                }
                @SuppressWarnings("unchecked") // checked at startup: the method returns a Mono
                Mono<Object> m = (Mono<Object>) mono;
                return ReactiveCalls.attempt(m, view, null);
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
        }), Object.class, null);
        if (guard.fallbacks.isEmpty()) {
            return guarded;
        }
        return guarded.onErrorResume(Exception.class::isInstance, thrown -> {
            try {
                @SuppressWarnings("unchecked") // checked at startup: the fallback returns a Mono
                Mono<Object> m = (Mono<Object>) Guard.reactiveFallback(guard, invocation.getThis(), invocation.getArguments(),
                        thrown, "Mono");
                return m;
            } catch (Throwable failure) {
                reactor.core.Exceptions.throwIfJvmFatal(failure); // as Reactor's own onErrorResume does
                return Mono.error(failure);
            }
        });
    }
}
