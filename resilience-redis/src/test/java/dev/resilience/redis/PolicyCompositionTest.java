package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.Fallback;
import dev.resilience.core.Invoker;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.Permit;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.core.RefusedException;
import dev.resilience.core.RequestNotPermittedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link AdaptiveLimiter}, a Redis limit and a user-written policy in one {@link Pipeline}, against
 * a real redis-server: each refuses in its own words through the one refusal type, and the order
 * added is the order they wrap the call.
 */
@Timeout(60)
class PolicyCompositionTest extends SharedRedisTest {

    /** A user's policy: an audit log around whatever is inside it. */
    static final class Audit implements Policy {
        final List<String> log = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String name() {
            return "audit";
        }

        @Override
        public <T> T execute(Invoker<T> chain, int next, Callable<T> task) throws Exception {
            log.add("enter");
            try {
                T result = chain.invoke(next, task);
                log.add("ok");
                return result;
            } catch (Exception e) {
                log.add(e.getClass().getSimpleName());
                throw e;
            }
        }

        @Override
        public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
            log.add("enter");
            return Policy.start(task).whenComplete((v, e) -> log.add(e == null ? "ok" : "failed"));
        }
    }

    private static final Context.Key<String> TENANT = Context.Key.named("tenant");

    @Test
    void adaptiveLimiterRedisLimitAndAUserPolicyComposeInOnePipeline() throws Exception {
        String name = RedisTests.uniqueName("composed");
        DistributedRateLimiter perTenant = DistributedRateLimiter.builder(name, backend)
                .rate(0.001).burst(2).maxWait(Duration.ZERO).build(); // two calls per tenant, then none for long
        AdaptiveLimiter adaptive = AdaptiveLimiter.builder("backend")
                .algorithm(LimitAlgorithm.aimd(1, 1, 1, 0.9, Duration.ofSeconds(1))).build();
        Audit audit = new Audit();
        Pipeline<String> pipeline = Pipeline.<String>builder("checkout")
                .add(Fallback.<String>on(RefusedException.class)
                        .to(e -> ((RefusedException) e).refusal() + " by " + ((RefusedException) e).policy()))
                .add(perTenant.forKey(() -> TENANT.get()))
                .add(audit)
                .add(adaptive)
                .build();
        assertEquals(List.of(Policy.Kind.FALLBACK, Policy.Kind.RATE_LIMITER, Policy.Kind.CUSTOM,
                Policy.Kind.CONCURRENCY_LIMIT), pipeline.kinds());
        assertEquals(List.of("fallback", name, "audit", "backend"), pipeline.policyNames());

        try (Scope s = Context.background().withValue(TENANT, "acme").attach()) {
            assertEquals("served", pipeline.call(() -> "served"));

            Permit busy = adaptive.tryAcquire(); // the backend's only slot is taken
            assertTrue(busy.isPermitted());
            assertEquals("CONCURRENCY_LIMITED by backend", pipeline.call(() -> "never"));
            busy.release();

            assertEquals("DISTRIBUTED_LIMITED by " + name, pipeline.call(() -> "never"),
                    "acme's two permits are used: Redis refuses before the user policy runs");
        }
        assertEquals(List.of("enter", "ok", "enter", "RequestNotPermittedException"), audit.log,
                "the user policy ran inside the Redis limit and outside the adaptive limiter");
        try (Scope s = Context.background().withValue(TENANT, "globex").attach()) {
            assertEquals("async", pipeline.callAsync(() -> CompletableFuture.completedFuture("async"))
                    .toCompletableFuture().get(5, TimeUnit.SECONDS), "another tenant has its own limit");
        }
        assertEquals(0, adaptive.inFlight(), "every permit came back");
    }

    @Test
    void theRedisPolicyRefusesWithTheDistributedRefusalAndRejectsAMissingKey() throws Exception {
        DistributedQuota quota = DistributedQuota.builder(RedisTests.uniqueName("quota"), backend)
                .limit(1).window(Duration.ofHours(1)).build();
        Policy policy = quota.forKey("k");
        assertEquals(Policy.Kind.RATE_LIMITER, policy.kind());
        assertEquals("x", policy.call(() -> "x"));
        RequestNotPermittedException refused = assertThrows(RequestNotPermittedException.class, () -> policy.call(() -> "y"));
        assertEquals(RefusedException.Refusal.DISTRIBUTED_LIMITED, refused.refusal());
        ExecutionException async = assertThrows(ExecutionException.class,
                () -> policy.callAsync(() -> CompletableFuture.completedFuture("z")).toCompletableFuture()
                        .get(5, TimeUnit.SECONDS));
        assertInstanceOf(RequestNotPermittedException.class, async.getCause());

        Policy noKey = quota.forKey(() -> null);
        assertThrows(NullPointerException.class, () -> noKey.call(() -> "x"));
        assertInstanceOf(NullPointerException.class, assertThrows(ExecutionException.class,
                () -> noKey.callAsync(() -> CompletableFuture.completedFuture("x")).toCompletableFuture().get()).getCause());
        assertThrows(IllegalArgumentException.class, () -> quota.forKey(""));
    }

    @Test
    void theAsyncFormRunsTheTaskUnderTheCallersContextOffRedisThreadsAndNeverThrows() throws Exception {
        DistributedRateLimiter limiter = DistributedRateLimiter.builder(RedisTests.uniqueName("async"), backend)
                .rate(100).burst(10).build();
        Policy policy = limiter.forKey("k");
        Context.Key<String> who = Context.Key.named("who");
        try (dev.resilience.context.CancelHandle h = Context.background().withValue(who, "caller")
                .withTimeout(Duration.ofSeconds(30)); Scope s = h.attach()) {
            String seen = policy.<String>callAsync(() -> CompletableFuture.completedFuture(
                    who.get() + " " + Context.current().deadline().isPresent() + " " + Thread.currentThread().getName()))
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertTrue(seen.startsWith("caller true "), seen);
            assertTrue(!seen.contains("lettuce") && !seen.contains("nioEventLoop"), "not on Redis's I/O thread: " + seen);
        }

        dev.resilience.context.CancelHandle cancelled = Context.background().withCancel();
        cancelled.cancel();
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        try (Scope s = cancelled.attach()) {
            CompletionStage<String> stage = policy.callAsync(() -> {
                ran.set(true);
                return CompletableFuture.completedFuture("x");
            });
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> stage.toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertInstanceOf(dev.resilience.context.ContextCancelledException.class, e.getCause());
        }
        assertTrue(!ran.get(), "a done context runs nothing");

        DistributedRateLimiter broken = DistributedRateLimiter.builder(RedisTests.uniqueName("resolver"), backend)
                .rate(1).burst(1).limits(key -> {
                    throw new IllegalStateException("resolver failed");
                }).build();
        CompletionStage<String> failed = broken.forKey("k").callAsync(() -> CompletableFuture.completedFuture("x"));
        assertInstanceOf(IllegalStateException.class, assertThrows(ExecutionException.class,
                () -> failed.toCompletableFuture().get(5, TimeUnit.SECONDS)).getCause(), "a failed stage, not a throw");
    }
}
