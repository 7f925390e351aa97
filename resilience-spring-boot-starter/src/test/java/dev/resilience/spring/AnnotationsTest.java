package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.BulkheadFullException;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.Resilient;
import dev.resilience.spring.annotation.Retry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.test.util.AopTestUtils;
import reactor.core.publisher.Mono;

/**
 * The annotations on a real Spring context: which fallback is chosen, the order of stacked
 * annotations, the asynchronous and Reactor paths, and fallbacks that throw, return null or block.
 */
class AnnotationsTest {

    private static ConfigurableApplicationContext context;
    /** The proxies, which the tests call. */
    private static Service service;
    private static ClassLevel classLevel;
    /** The beans behind them, whose state the tests set and read (a class proxy's own fields are unused). */
    private static Service target;
    private static ClassLevel classLevelTarget;
    private static ResilienceRegistry registry;

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        Service service() {
            return new Service();
        }

        @Bean
        ClassLevel classLevel() {
            return new ClassLevel();
        }
    }

    /** Fails its first {@code failures} attempts of each call with {@code failure}. */
    static class Service {
        final AtomicInteger attempts = new AtomicInteger();
        volatile int failures;
        volatile RuntimeException failure = new IllegalStateException("down");
        volatile CountDownLatch fallbackEntered;
        volatile CountDownLatch fallbackRelease;

        private String attempt(String x) {
            if (attempts.incrementAndGet() <= failures) {
                throw failure;
            }
            return "ok " + x;
        }

        @Retry(name = "three")
        @CircuitBreaker(name = "breaker", fallbackMethod = "fallback")
        public String value(String x) {
            return attempt(x);
        }

        String fallback(String x, CallNotPermittedException open) {
            return "open " + x;
        }

        String fallback(String x, IllegalStateException down) {
            return "down " + x;
        }

        String fallback(String x, RuntimeException other) {
            return "other " + x;
        }

        /** Calls {@link #value} on itself: through no proxy, so unguarded. */
        public String selfInvoked(String x) {
            return value(x);
        }

        @Retry(name = "three")
        public CompletionStage<String> stage(String x) {
            return CompletableFuture.supplyAsync(() -> attempt(x));
        }

        @Retry(name = "three", fallbackMethod = "futureFallback")
        public CompletableFuture<String> future(String x) {
            return CompletableFuture.supplyAsync(() -> attempt(x));
        }

        CompletableFuture<String> futureFallback(String x, Exception e) {
            return CompletableFuture.completedFuture("fallback " + x + " after " + e.getClass().getSimpleName());
        }

        @Retry(name = "three", fallbackMethod = "nullFallback")
        public CompletableFuture<String> futureWithNullFallback(String x) {
            return CompletableFuture.supplyAsync(() -> attempt(x));
        }

        CompletableFuture<String> nullFallback(String x, Exception e) {
            return null;
        }

        @Retry(name = "three")
        public CompletableFuture<String> returnsNull(String x) {
            attempts.incrementAndGet();
            return null;
        }

        final AtomicInteger monoCancels = new AtomicInteger();
        final AtomicInteger cancelledFallbacks = new AtomicInteger();

        @Bulkhead(name = "single", fallbackMethod = "cancelledFallback")
        public CompletableFuture<String> held(String x) {
            return new CompletableFuture<>(); // never answers
        }

        @CircuitBreaker(name = "timedout", fallbackMethod = "cancelledFallback")
        public CompletableFuture<String> heldBehindABreaker(String x) {
            return new CompletableFuture<>(); // never answers
        }

        CompletableFuture<String> cancelledFallback(String x, Exception e) {
            cancelledFallbacks.incrementAndGet();
            return CompletableFuture.completedFuture("fallback " + x);
        }

        @dev.resilience.spring.annotation.Timeout(name = "short")
        public Mono<String> neverMono(String x) {
            return Mono.<String>never().doOnCancel(monoCancels::incrementAndGet);
        }

        @Retry(name = "three")
        public Mono<String> neverRetriedMono(String x) {
            return Mono.never();
        }

        @Retry(name = "three", fallbackMethod = "monoFallback")
        public Mono<String> mono(String x) {
            return Mono.fromCallable(() -> attempt(x));
        }

        Mono<String> monoFallback(String x, IllegalStateException e) {
            return Mono.just("mono fallback " + x);
        }

        @Retry(name = "one", fallbackMethod = "throwingFallback")
        public String throwingFallback(String x) throws IOException {
            return attempt(x);
        }

        String throwingFallback(String x, Exception e) throws IOException {
            throw new IOException("fallback failed too");
        }

        /**
         * A fallback's exception shared by every call, as a constant is in code that avoids allocating
         * on failure (a field the test sets, so that no other run of the test sees its suppressed list).
         */
        volatile IllegalArgumentException shared = new IllegalArgumentException("no fallback today (shared)");

        @Retry(name = "one", fallbackMethod = "sharedThrowingFallback")
        public String sharedThrowingFallback(String x) {
            return attempt(x);
        }

        String sharedThrowingFallback(String x, Exception e) {
            throw shared;
        }

        @Bulkhead(name = "single", fallbackMethod = "blockingFallback")
        public String bulkheaded(String x) throws InterruptedException {
            fallbackRelease.await(10, TimeUnit.SECONDS);
            return attempt(x);
        }

        String blockingFallback(String x, BulkheadFullException full) throws InterruptedException {
            fallbackEntered.countDown();
            fallbackRelease.await(10, TimeUnit.SECONDS);
            return "full " + x;
        }

        @Resilient(name = "checkout")
        public String pipeline(String x) {
            return attempt(x);
        }
    }

    /** Every public method retried, by the class's annotation. */
    @Retry(name = "three")
    static class ClassLevel {
        final AtomicInteger attempts = new AtomicInteger();

        public String flaky() {
            if (attempts.incrementAndGet() < 3) {
                throw new IllegalStateException("flaky");
            }
            return "third time";
        }

        @Retry(name = "one")
        public String ownAnnotation() {
            attempts.incrementAndGet();
            throw new IllegalStateException("once");
        }
    }

    @BeforeAll
    static void start() {
        context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).properties(
                "resilience.retry.three.max-attempts=3",
                "resilience.retry.three.backoff=fixed",
                "resilience.retry.three.backoff-delay=1ms",
                "resilience.retry.one.max-attempts=1",
                "resilience.circuitbreaker.breaker.consecutive-failures=6",
                "resilience.circuitbreaker.breaker.open-duration=1h",
                "resilience.bulkhead.single.max-concurrent=1",
                "resilience.retry.checkout.max-attempts=2",
                "resilience.retry.checkout.backoff=fixed",
                "resilience.retry.checkout.backoff-delay=1ms",
                "resilience.timeout.checkout.timeout=5s",
                "resilience.timeout.short.timeout=50ms",
                "resilience.pipeline.checkout.policies=retry:checkout, timeout:checkout").run();
        service = context.getBean(Service.class);
        classLevel = context.getBean(ClassLevel.class);
        target = AopTestUtils.getUltimateTargetObject(service);
        classLevelTarget = AopTestUtils.getUltimateTargetObject(classLevel);
        registry = context.getBean(ResilienceRegistry.class);
    }

    @AfterAll
    static void stop() {
        context.close();
    }

    @BeforeEach
    void reset() {
        target.attempts.set(0);
        target.failures = 0;
        target.failure = new IllegalStateException("down");
        registry.circuitBreaker("breaker").reset();
        classLevelTarget.attempts.set(0);
    }

    @Test
    void theRetryRetriesBeforeTheFallbackSeesTheFinalFailure() {
        target.failures = 2;
        assertEquals("ok a", service.value("a"));
        assertEquals(3, target.attempts.get());
        target.attempts.set(0);
        target.failures = 3;
        assertEquals("down b", service.value("b"), "fallback outermost: it sees only the last failure");
        assertEquals(3, target.attempts.get(), "the fallback did not stop the retry");
    }

    @Test
    void theFallbackWithTheClosestExceptionTypeIsChosen() {
        target.failures = 3;
        target.failure = new UncheckedIOException(new IOException("io"));
        assertEquals("other c", service.value("c"));
        target.attempts.set(0);
        target.failure = new IllegalStateException("down");
        assertEquals("down d", service.value("d")); // the 6th failure in a row opens the breaker
        assertEquals("open e", service.value("e"));
        assertSame(dev.resilience.core.CircuitBreaker.State.OPEN, registry.circuitBreaker("breaker").state());
    }

    @Test
    void selfInvocationBypassesTheProxyAsDocumented() {
        target.failures = 1;
        assertThrows(IllegalStateException.class, () -> service.selfInvoked("x"));
        assertEquals(1, target.attempts.get(), "no retry: the call did not go through the proxy");
    }

    @Test
    void completionStagesAreRetriedOnTheAsyncPath() throws Exception {
        target.failures = 2;
        assertEquals("ok s", service.stage("s").toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(3, target.attempts.get());
        target.attempts.set(0);
        target.failures = 5;
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> service.stage("t").toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals(3, target.attempts.get());
    }

    @Test
    void aFutureFallsBackAndAThrowingOrNullFallbackStillCompletes() throws Exception {
        target.failures = 5;
        assertEquals("fallback f after IllegalStateException", service.future("f").get(10, TimeUnit.SECONDS));
        target.attempts.set(0);
        CompletableFuture<String> nullFallback = service.futureWithNullFallback("n");
        ExecutionException e = assertThrows(ExecutionException.class, () -> nullFallback.get(10, TimeUnit.SECONDS));
        assertInstanceOf(NullPointerException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("nullFallback returned null"), e.getCause().getMessage());
        assertEquals(1, e.getCause().getSuppressed().length, "the original failure is kept, as for Mono and Flux");
        assertInstanceOf(IllegalStateException.class, e.getCause().getSuppressed()[0]);
    }

    @Test
    void aMethodReturningANullStageFailsItsStageInsteadOfHanging() {
        CompletableFuture<String> f = service.returnsNull("z");
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(NullPointerException.class, e.getCause());
        assertEquals("the task returned no stage", e.getCause().getMessage());
        assertEquals(1, target.attempts.get(), "a null stage is a programming error: not retried (nor counted by a breaker)");
    }

    @Test
    void aCallerThatCancelsTheFutureGetsNoFallbackAndFreesThePermits() {
        int fallbacks = target.cancelledFallbacks.get();
        CompletableFuture<String> f = service.held("h");
        assertEquals(1, registry.bulkhead("single").inUse());
        assertTrue(f.cancel(true));
        Await.until(Duration.ofSeconds(10), "the cancelled call's bulkhead slot was never freed",
                () -> registry.bulkhead("single").inUse() == 0);
        assertEquals(fallbacks, target.cancelledFallbacks.get(), "nobody waits: no fallback runs");
    }

    @Test
    void aCallerTimeoutOnTheFutureIsTheBreakersFailureWithAFallbackAsWithout() throws Exception {
        int fallbacks = target.cancelledFallbacks.get();
        long failures = registry.circuitBreaker("timedout").counts().totalFailures();
        CompletableFuture<String> f = service.heldBehindABreaker("t").orTimeout(50, TimeUnit.MILLISECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
        Await.until(Duration.ofSeconds(10), "the caller's timeout never reached the breaker as a failure",
                () -> registry.circuitBreaker("timedout").counts().totalFailures() != failures);
        assertEquals(failures + 1, registry.circuitBreaker("timedout").counts().totalFailures());
        assertEquals(fallbacks, target.cancelledFallbacks.get(), "nobody waits: no fallback runs");
    }

    @Test
    void aMonoThatOutlivesItsTimeoutIsCancelled() {
        int before = target.monoCancels.get();
        Mono<String> mono = service.neverMono("t");
        assertThrows(dev.resilience.core.TimeoutExceededException.class, () -> mono.block(Duration.ofSeconds(10)));
        // the subscription is cancelled when the timeout ends the call
        Await.until(Duration.ofSeconds(10), "the timed-out Mono was never cancelled: it keeps running",
                () -> target.monoCancels.get() != before);
        assertEquals(before + 1, target.monoCancels.get());
    }

    @Test
    void aMonoWhoseContextIsCancelledFailsWithTheContextsErrorAndItsCause() throws Exception {
        dev.resilience.context.CancelHandle request = dev.resilience.context.Context.background().withCancel();
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        service.neverRetriedMono("c")
                .contextWrite(c -> c.put(dev.resilience.observability.ResilienceContextAccessor.KEY, request.context()))
                .subscribe(v -> failed.complete(null), failed::complete);
        IllegalStateException why = new IllegalStateException("the client went away");
        request.cancel(why);
        Throwable e = failed.get(10, TimeUnit.SECONDS);
        assertInstanceOf(dev.resilience.context.ContextCancelledException.class, e,
                "the context's error, not a bare CancellationException: " + e);
        assertSame(why, e.getCause(), "with the cause the context was cancelled for");
    }

    @Test
    void monosAreRetriedPerSubscriptionAndFallBack() {
        target.failures = 2;
        Mono<String> mono = service.mono("m");
        assertEquals(0, target.attempts.get(), "nothing runs before subscription");
        assertEquals("ok m", mono.block(Duration.ofSeconds(10)));
        assertEquals(3, target.attempts.get());
        target.attempts.set(0);
        target.failures = 10;
        assertEquals("mono fallback m", mono.block(Duration.ofSeconds(10)));
        assertEquals(3, target.attempts.get());
    }

    @Test
    void aThrowingFallbackThrowsWithTheOriginalFailureSuppressed() {
        target.failures = 1;
        IOException e = assertThrows(IOException.class, () -> service.throwingFallback("x"));
        assertEquals("fallback failed too", e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertEquals("down", e.getSuppressed()[0].getMessage());
    }

    @Test
    void aFallbackThatThrowsASharedExceptionDoesNotGrowItByOneEntryPerCall() {
        RuntimeException usual = target.failure;
        IllegalArgumentException shared = new IllegalArgumentException("no fallback today (shared)");
        target.shared = shared;
        target.failures = Integer.MAX_VALUE;
        try {
            for (int i = 0; i < 200; i++) {
                target.failure = new IllegalStateException("down " + i);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> service.sharedThrowingFallback("x"));
                assertSame(shared, e, "what the fallback threw, as it threw it");
            }
        } finally {
            target.failure = usual;
            target.failures = 0;
        }
        Throwable[] kept = shared.getSuppressed();
        assertEquals(4, kept.length, "the first calls' failures for the record, not one per call (200 calls)");
        assertEquals("down 0", kept[0].getMessage());
    }

    @Test
    void aBlockingFallbackHoldsNoPermit() throws Exception {
        target.fallbackEntered = new CountDownLatch(1);
        target.fallbackRelease = new CountDownLatch(1);
        // Two threads of our own: on 2 cores the common pool may run one task at a time.
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
        CompletableFuture<String> holder = CompletableFuture.supplyAsync(() -> {
            try {
                return service.bulkheaded("first");
            } catch (InterruptedException e) {
                throw new CompletionException(e);
            }
        }, threads);
        Await.until(Duration.ofSeconds(10), "the first call holds the bulkhead", () -> registry.bulkhead("single").inUse() != 0);
        CompletableFuture<String> refused = CompletableFuture.supplyAsync(() -> {
            try {
                return service.bulkheaded("second");
            } catch (InterruptedException e) {
                throw new CompletionException(e);
            }
        }, threads);
        assertTrue(target.fallbackEntered.await(10, TimeUnit.SECONDS), "the second call went to the fallback");
        assertEquals(1, registry.bulkhead("single").inUse(), "only the first call holds the permit");
        target.fallbackRelease.countDown();
        assertEquals("ok first", holder.get(10, TimeUnit.SECONDS));
        assertEquals("full second", refused.get(10, TimeUnit.SECONDS));
        assertEquals(0, registry.bulkhead("single").inUse());
        threads.shutdown();
    }

    @Test
    void resilientRunsTheConfiguredPipeline() {
        target.failures = 1;
        assertEquals("ok p", service.pipeline("p"));
        assertEquals(2, target.attempts.get());
        assertEquals(java.util.List.of("checkout", "checkout"), registry.pipeline("checkout").policyNames());
    }

    @Test
    void classLevelAnnotationsGuardPublicMethodsAndMethodAnnotationsReplaceThem() {
        assertEquals("third time", classLevel.flaky());
        assertEquals(3, classLevelTarget.attempts.get());
        classLevelTarget.attempts.set(0);
        assertThrows(IllegalStateException.class, classLevel::ownAnnotation);
        assertEquals(1, classLevelTarget.attempts.get());
    }
}
