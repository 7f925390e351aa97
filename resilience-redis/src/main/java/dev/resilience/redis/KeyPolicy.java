package dev.resilience.redis;

import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.core.Invoker;
import dev.resilience.core.Policy;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/** A distributed limit for the key of each call, as a {@link Policy}: see {@link DistributedLimiter#forKey}. */
final class KeyPolicy implements Policy {

    private final KeyedLimiter<?, ?> limiter;
    private final Supplier<String> key;

    KeyPolicy(KeyedLimiter<?, ?> limiter, Supplier<String> key) {
        this.limiter = limiter;
        this.key = key;
    }

    @Override
    public String name() {
        return limiter.name();
    }

    @Override
    public Kind kind() {
        return Kind.RATE_LIMITER;
    }

    @Override
    public <T> T execute(Invoker<T> chain, int next, Callable<T> task) throws Exception {
        limiter.enter(Args.key(key.get()));
        return chain.invoke(next, task);
    }

    /**
     * Decides without blocking, then starts {@code task} under the caller's context on the common
     * pool (never on Redis's I/O thread); a done context, a key that cannot be had, or a refusal
     * fails the returned stage without running the task.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Context ctx = Context.current();
        CompletableFuture<Decision> decision;
        try {
            ctx.throwIfDone();
            decision = limiter.decideAsync(Args.key(key.get()), 1);
        } catch (Throwable e) {
            return CompletableFuture.failedFuture(e);
        }
        return decision.thenComposeAsync(d -> {
            if (!d.granted()) {
                return CompletableFuture.failedFuture(limiter.refusal(d));
            }
            if (ctx.isDone()) {
                limiter.giveBack(d);
                return CompletableFuture.failedFuture(ctx.err());
            }
            try (Scope s = ctx.attach()) {
                return Policy.start(task);
            }
        }, ForkJoinPool.commonPool());
    }

    @Override
    public String toString() {
        return "Policy[" + limiter.name() + " per key]";
    }
}
