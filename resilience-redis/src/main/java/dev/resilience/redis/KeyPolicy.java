package dev.resilience.redis;

import dev.resilience.core.Invoker;
import dev.resilience.core.Policy;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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

    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        String k;
        try {
            k = Args.key(key.get());
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
        return limiter.decideAsync(k, 1).thenCompose(d -> d.granted()
                ? Policy.start(task)
                : CompletableFuture.failedFuture(limiter.refusal(d)));
    }

    @Override
    public String toString() {
        return "Policy[" + limiter.name() + " per key]";
    }
}
