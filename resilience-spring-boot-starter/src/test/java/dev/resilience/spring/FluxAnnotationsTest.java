package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.CircuitBreaker.Counts;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.Retry;
import dev.resilience.spring.annotation.Timeout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.test.util.AopTestUtils;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * The annotations on methods returning {@code Flux}: a retry resubscribes only before the first
 * element reaches the subscriber (never delivering one twice), demand passes from a retried attempt
 * to the next, the whole stream is one call for the timeout, bulkhead and breaker, a subscriber that
 * cancels frees the permits, and the fallback continues the stream; then a stress of racing
 * failures, timeouts and cancels checking that nothing is delivered twice or lost and no permit leaks.
 */
class FluxAnnotationsTest {

    private static ConfigurableApplicationContext context;
    private static Streams streams;
    private static Streams target;
    private static ResilienceRegistry registry;

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        Streams streams() {
            return new Streams();
        }
    }

    /**
     * Attempt {@code k} of a call emits {@code k * 100 + i} for i below {@link #elements}; the first
     * {@link #failBefore} attempts fail before their first element, and with {@link #failAfter} set
     * every attempt fails after that many elements.
     */
    /** The stress's own failures: any other exception, a blocking read's timeout say, is a defect. */
    static final class StressFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StressFailure(String message) {
            super(message, null, false, false);
        }
    }

    static class Streams {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger cancels = new AtomicInteger();
        volatile int failBefore;
        volatile int failAfter = -1;
        volatile int elements = 3;
        /** Per stress subscription: its attempts so far. */
        final Map<Integer, AtomicInteger> attemptsOf = new ConcurrentHashMap<>();
        /** Per stress attempt (subscription * 10 + attempt): mode * 10 + elements. */
        final Map<Integer, Integer> plans = new ConcurrentHashMap<>();

        private Flux<Integer> source() {
            int k = calls.incrementAndGet();
            if (k <= failBefore) {
                return Flux.error(new IllegalStateException("before the first element of attempt " + k));
            }
            Flux<Integer> f = Flux.range(0, elements).map(i -> k * 100 + i);
            if (failAfter >= 0) {
                f = f.take(failAfter).concatWith(Flux.error(new IllegalStateException("after " + failAfter + " elements")));
            }
            return f.doOnCancel(cancels::incrementAndGet);
        }

        @Retry(name = "three")
        public Flux<Integer> retried() {
            return source();
        }

        @Retry(name = "three", fallbackMethod = "rest")
        public Flux<Integer> withFallback() {
            return source();
        }

        Flux<Integer> rest(IllegalStateException e) {
            return Flux.just(-1, -2);
        }

        @Retry(name = "three")
        @CircuitBreaker(name = "breaker")
        @Bulkhead(name = "single")
        public Flux<Integer> guarded() {
            return source();
        }

        /** What {@link #brokenFallback} does: throw, return null, or block until released. */
        volatile String fallbackDoes = "throw";
        volatile CountDownLatch fallbackEntered = new CountDownLatch(1);
        volatile CountDownLatch fallbackRelease = new CountDownLatch(1);

        @Retry(name = "three", fallbackMethod = "broken")
        @Bulkhead(name = "single")
        public Flux<Integer> brokenFallback() {
            return source();
        }

        Flux<Integer> broken(IllegalStateException e) throws InterruptedException {
            switch (fallbackDoes) {
                case "throw" -> throw new UnsupportedOperationException("the fallback broke");
                case "null" -> {
                    return null;
                }
                default -> {
                    fallbackEntered.countDown();
                    fallbackRelease.await(10, TimeUnit.SECONDS);
                    return Flux.just(-9);
                }
            }
        }

        @Retry(name = "three")
        @CircuitBreaker(name = "breaker")
        @Bulkhead(name = "single")
        public Flux<Integer> hanging() {
            calls.incrementAndGet();
            return Flux.<Integer>never().doOnCancel(cancels::incrementAndGet);
        }

        @Timeout(name = "short")
        public Flux<Long> ticking() {
            calls.incrementAndGet();
            return Flux.interval(Duration.ofMillis(5)).doOnCancel(cancels::incrementAndGet);
        }

        @Retry(name = "patient")
        @Bulkhead(name = "single")
        public Flux<Integer> patient() {
            return source();
        }

        /** Attempt 1 hangs until its timeout; the next, started at once, emits. */
        @Retry(name = "immediate")
        @Timeout(name = "short")
        @Bulkhead(name = "single")
        public Flux<Integer> hangsOnce() {
            int k = calls.incrementAndGet();
            return k == 1 ? Flux.<Integer>never().doOnCancel(cancels::incrementAndGet) : Flux.just(k * 100);
        }

        @Retry(name = "three")
        public Flux<Integer> throwing() {
            calls.incrementAndGet();
            throw new IllegalStateException("thrown by the method");
        }

        @Retry(name = "three")
        public Flux<Integer> brokenSource() {
            calls.incrementAndGet();
            return new Flux<>() {
                @Override
                public void subscribe(reactor.core.CoreSubscriber<? super Integer> actual) {
                    throw new IllegalStateException("thrown on subscribe");
                }
            };
        }

        /** Its source's cancel hook throws; its first element is delivered. */
        @Retry(name = "three")
        @CircuitBreaker(name = "breaker")
        @Bulkhead(name = "single")
        public Flux<Integer> cancelThrows() {
            calls.incrementAndGet();
            return Flux.<Integer>concat(Flux.just(1), Flux.never()).doOnCancel(() -> {
                throw new IllegalStateException("the source's cancel hook broke");
            });
        }

        /** Its source's dispose hook throws out of cancel (Flux.create runs it unguarded); its first element is delivered. */
        @Retry(name = "three")
        @CircuitBreaker(name = "breaker")
        @Bulkhead(name = "single")
        public Flux<Integer> disposeThrows() {
            calls.incrementAndGet();
            return Flux.<Integer>create(sink -> {
                sink.onDispose(() -> {
                    throw new IllegalStateException("the source's dispose hook broke");
                });
                sink.next(1);
            });
        }

        /**
         * A raw Publisher that emits from inside request(): the subscriber asks again from inside
         * onNext, which would recurse without the guard's demand loop (it passes the request on once
         * the one in progress returns).
         */
        @Retry(name = "three")
        public Flux<Integer> reentrant() {
            calls.incrementAndGet();
            return Flux.from(subscriber -> subscriber.onSubscribe(new Subscription() {
                int sent;
                boolean done;

                @Override
                public void request(long n) {
                    for (long i = 0; i < n && sent < 5; i++) {
                        subscriber.onNext(sent++); // the subscriber asks again from inside onNext
                    }
                    if (sent == 5 && !done) {
                        done = true;
                        subscriber.onComplete();
                    }
                }

                @Override
                public void cancel() {
                }
            }));
        }

        /** What the method and its source see: the same context, bounded by the timeout. */
        @Timeout(name = "short")
        public Flux<String> contexts() {
            dev.resilience.context.Context seen = dev.resilience.context.Context.current();
            return Flux.deferContextual(view -> Flux.just(
                    "same " + (view.get(dev.resilience.observability.ResilienceContextAccessor.KEY) == seen),
                    "bounded " + (seen.remainingNanos() > 0 && seen.remainingNanos() <= Duration.ofMillis(100).toNanos())));
        }

        @Retry(name = "three")
        public Flux<Integer> nothing() {
            calls.incrementAndGet();
            return null;
        }

        /**
         * For the stress: attempt k of subscription {@code id} fails at once, emits a few elements
         * on another thread and then fails or completes, or hangs until the timeout ends it.
         */
        @Retry(name = "three")
        @Timeout(name = "stress")
        @Bulkhead(name = "many")
        public Flux<Integer> racy(int id) {
            int k = attemptsOf.computeIfAbsent(id, x -> new AtomicInteger()).incrementAndGet();
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int mode = r.nextInt(5);
            int n = r.nextInt(6);
            plans.put(id * 10 + k, mode * 10 + n);
            if (mode == 0) {
                return Flux.error(new StressFailure("at once"));
            }
            Flux<Integer> f = Flux.range(0, n).map(i -> k * 100 + i).publishOn(Schedulers.boundedElastic());
            if (mode == 4) { // the first element races the 20 ms timeout: a late one must not join the next attempt's
                return f.delaySubscription(Duration.ofNanos(r.nextLong(15_000_000L, 25_000_000L)), Schedulers.boundedElastic());
            }
            if (mode == 1) {
                return f.concatWith(Flux.error(new StressFailure("after some")));
            } else if (mode == 2) {
                return f;
            }
            return f.concatWith(Flux.never());
        }
    }

    @BeforeAll
    static void start() {
        context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).properties(
                "resilience.retry.three.max-attempts=3",
                "resilience.retry.three.backoff=fixed",
                "resilience.retry.three.backoff-delay=1ms",
                "resilience.circuitbreaker.breaker.consecutive-failures=100",
                "resilience.circuitbreaker.breaker.open-duration=1h",
                "resilience.bulkhead.single.max-concurrent=1",
                "resilience.bulkhead.many.max-concurrent=1000",
                "resilience.timeout.short.timeout=100ms",
                "resilience.timeout.stress.timeout=20ms",
                "resilience.retry.patient.max-attempts=2",
                "resilience.retry.patient.backoff=fixed",
                "resilience.retry.patient.backoff-delay=300ms",
                "resilience.retry.immediate.max-attempts=2",
                "resilience.retry.immediate.backoff=fixed",
                "resilience.retry.immediate.backoff-delay=0ms").run();
        streams = context.getBean(Streams.class);
        target = AopTestUtils.getUltimateTargetObject(streams);
        registry = context.getBean(ResilienceRegistry.class);
    }

    @AfterAll
    static void stop() {
        context.close();
    }

    @BeforeEach
    void reset() {
        target.calls.set(0);
        target.cancels.set(0);
        target.failBefore = 0;
        target.failAfter = -1;
        target.elements = 3;
        registry.circuitBreaker("breaker").reset();
    }

    private static <T> List<T> collect(Flux<T> flux) {
        return flux.collectList().block(Duration.ofSeconds(10));
    }

    @Test
    void aFailureBeforeTheFirstElementIsRetriedByCallingTheMethodAgain() {
        target.failBefore = 2;
        Flux<Integer> flux = streams.retried();
        assertEquals(0, target.calls.get(), "nothing runs before subscription");
        assertEquals(List.of(300, 301, 302), collect(flux));
        assertEquals(3, target.calls.get());
    }

    @Test
    void aFailureAfterAnElementEndsTheStreamWithItAndIsNotRetried() {
        target.failAfter = 1;
        List<Integer> got = new CopyOnWriteArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> streams.retried().doOnNext(got::add).blockLast(Duration.ofSeconds(10)));
        assertEquals("after 1 elements", e.getMessage());
        assertEquals(List.of(100), got, "delivered once, never again by a retry");
        assertEquals(1, target.calls.get());
    }

    @Test
    void theFallbackContinuesTheStreamAfterDeliveredElementsOrReplacesAnEmptyOne() {
        target.failAfter = 2;
        assertEquals(List.of(100, 101, -1, -2), collect(streams.withFallback()));
        target.calls.set(0);
        target.failAfter = -1;
        target.failBefore = 5;
        assertEquals(List.of(-1, -2), collect(streams.withFallback()));
        assertEquals(3, target.calls.get(), "retried before falling back");
    }

    @Test
    void eachAttemptIsOneCallForTheBreakerAndTheBulkheadFromSubscriptionToItsEnd() {
        dev.resilience.core.Bulkhead single = registry.bulkhead("single");
        target.failBefore = 1;
        assertEquals(List.of(200, 201, 202), collect(streams.guarded()));
        Counts counts = registry.circuitBreaker("breaker").counts();
        assertEquals(1, counts.totalFailures(), "the failed attempt");
        assertEquals(1, counts.totalSuccesses(), "the stream that completed");
        assertEquals(0, single.inUse());

        // take(1) cancels after an element: the stream worked, a success; the source is cancelled
        target.calls.set(0);
        target.failBefore = 0;
        assertEquals(List.of(100), collect(streams.guarded().take(1)));
        assertEquals(2, registry.circuitBreaker("breaker").counts().totalSuccesses());
        assertEquals(1, target.cancels.get());
        assertEquals(0, single.inUse());
    }

    @Test
    void aFallbackThatThrowsReturnsNullOrBlocksEndsTheStreamKeepsTheFailureAndHoldsNoPermit() throws Exception {
        target.failBefore = 10;
        target.fallbackDoes = "throw";
        UnsupportedOperationException thrown = assertThrows(UnsupportedOperationException.class,
                () -> streams.brokenFallback().blockLast(Duration.ofSeconds(10)));
        assertEquals("before the first element of attempt 3", thrown.getSuppressed()[0].getMessage(), "the original failure survives");

        target.calls.set(0);
        target.fallbackDoes = "null";
        NullPointerException none = assertThrows(NullPointerException.class, () -> streams.brokenFallback().blockLast(Duration.ofSeconds(10)));
        assertTrue(none.getMessage().contains("fallback broken returned null instead of a Flux"), none.getMessage());
        assertEquals("before the first element of attempt 3", none.getSuppressed()[0].getMessage());

        target.calls.set(0);
        target.fallbackDoes = "block";
        target.fallbackEntered = new CountDownLatch(1);
        target.fallbackRelease = new CountDownLatch(1);
        java.util.concurrent.CompletableFuture<List<Integer>> blocked = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> collect(streams.brokenFallback()));
        assertTrue(target.fallbackEntered.await(10, TimeUnit.SECONDS));
        assertEquals(0, registry.bulkhead("single").inUse(), "the fallback runs after the pipeline let go of its permits");
        target.fallbackRelease.countDown();
        assertEquals(List.of(-9), blocked.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aStreamWhoseRequestContextIsCancelledFailsWithTheContextsErrorAndItsCause() throws Exception {
        dev.resilience.context.CancelHandle request = dev.resilience.context.Context.background().withCancel();
        java.util.concurrent.CompletableFuture<Throwable> failed = new java.util.concurrent.CompletableFuture<>();
        streams.hanging()
                .contextWrite(c -> c.put(dev.resilience.observability.ResilienceContextAccessor.KEY, request.context()))
                .subscribe(v -> failed.complete(null), failed::complete);
        Await.until(Duration.ofSeconds(10), "the attempt never started", () -> registry.bulkhead("single").inUse() == 1);
        IllegalStateException why = new IllegalStateException("the client went away");
        request.cancel(why);
        Throwable e = failed.get(10, TimeUnit.SECONDS);
        assertTrue(e instanceof dev.resilience.context.ContextCancelledException, "the context's error: " + e);
        assertSame(why, e.getCause(), "with the cause the context was cancelled for");
        assertEquals(1, target.calls.get(), "not retried");
        assertEquals(0, registry.bulkhead("single").inUse());
        assertEquals(1, target.cancels.get(), "the source is cancelled");
    }

    @Test
    void aSubscriberThatLeavesBeforeAnElementFreesThePermitWithoutAnOutcomeOrARetry() {
        dev.resilience.core.Bulkhead single = registry.bulkhead("single");
        reactor.core.Disposable d = streams.hanging().subscribe();
        Await.until(Duration.ofSeconds(10), "the attempt never started", () -> single.inUse() == 1);
        d.dispose();
        assertEquals(0, single.inUse(), "the slot comes back at once");
        assertEquals(1, target.cancels.get(), "the source is cancelled");
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // past the 1 ms backoff
        assertEquals(1, target.calls.get(), "no retry after the subscriber left");
        Counts counts = registry.circuitBreaker("breaker").counts();
        assertEquals(0, counts.totalFailures() + counts.totalSuccesses(), counts.toString());
        // and the next subscription gets the slot
        reactor.core.Disposable next = streams.hanging().subscribe();
        Await.until(Duration.ofSeconds(10), "the slot was not given back", () -> single.inUse() == 1);
        next.dispose();
    }

    @Test
    void demandPassesFromARetriedAttemptToTheNextAndIsNeverExceeded() {
        target.failBefore = 1;
        target.elements = 10;
        List<Integer> got = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        BaseSubscriber<Integer> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(2);
            }

            @Override
            protected void hookOnNext(Integer value) {
                got.add(value);
            }

            @Override
            protected void hookOnError(Throwable throwable) {
                failed.set(throwable);
            }

            @Override
            protected void hookFinally(reactor.core.publisher.SignalType type) {
                done.countDown();
            }
        };
        streams.retried().subscribe(subscriber);
        Await.until(Duration.ofSeconds(10), "the retried attempt got no demand", () -> got.size() == 2);
        assertEquals(List.of(200, 201), got);
        assertEquals(2, target.calls.get());
        subscriber.request(3);
        Await.until(Duration.ofSeconds(10), "the second request was not passed on", () -> got.size() == 5);
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // a stream that overran would have by now
        assertEquals(5, got.size(), "no more than asked for");
        subscriber.request(Long.MAX_VALUE);
        Await.until(Duration.ofSeconds(10), "the stream did not end", () -> done.getCount() == 0);
        assertEquals(List.of(200, 201, 202, 203, 204, 205, 206, 207, 208, 209), got);
        assertNull(failed.get());
    }

    @Test
    void aTimeoutBoundsTheWholeStreamAndCancelsItsSource() {
        List<Long> got = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        assertThrows(TimeoutExceededException.class,
                () -> streams.ticking().doOnNext(got::add).blockLast(Duration.ofSeconds(10)));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(got.size() >= 1, "elements flow until the timeout: " + got);
        assertTrue(tookMillis >= 100 && tookMillis < 5_000, tookMillis + " ms");
        Await.until(Duration.ofSeconds(10), "the ticking source was never cancelled", () -> target.cancels.get() == 1);
        assertEquals(1, target.calls.get());
    }

    @Test
    void demandThatArrivesDuringABackoffGoesToTheNextAttempt() {
        target.failBefore = 1;
        target.elements = 10;
        List<Integer> got = new CopyOnWriteArrayList<>();
        BaseSubscriber<Integer> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                // no demand yet: attempt 1 fails without it, and the 300 ms backoff starts
            }

            @Override
            protected void hookOnNext(Integer value) {
                got.add(value);
            }
        };
        streams.patient().subscribe(subscriber);
        Await.until(Duration.ofSeconds(10), "attempt 1 never ran", () -> target.calls.get() == 1);
        subscriber.request(3); // during the backoff
        Await.until(Duration.ofSeconds(10), "attempt 2 never got the demand", () -> got.size() == 3);
        assertEquals(List.of(200, 201, 202), got);
        subscriber.cancel();
        assertEquals(0, registry.bulkhead("single").inUse());
    }

    @Test
    void aSubscriberThatLeavesDuringABackoffEndsTheCallWithoutAnotherAttempt() {
        target.failBefore = 1;
        reactor.core.Disposable d = streams.patient().subscribe();
        Await.until(Duration.ofSeconds(10), "attempt 1 never ran", () -> target.calls.get() == 1);
        d.dispose();
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(400).toNanos()); // past the 300 ms backoff
        assertEquals(1, target.calls.get(), "the backoff was abandoned");
        assertEquals(0, registry.bulkhead("single").inUse());
    }

    @Test
    void anAttemptEndedByItsTimeoutGivesItsBulkheadSlotBackBeforeAnImmediateRetryAsksForIt() {
        assertEquals(List.of(200), collect(streams.hangsOnce()), "not BulkheadFullException: the timed-out attempt let go first");
        assertEquals(1, target.cancels.get(), "its source was cancelled");
        assertEquals(0, registry.bulkhead("single").inUse());
    }

    @Test
    void aSourceWhoseCancelThrowsStillEndsTheCallAsASuccessAndFreesTheSlot() {
        long successes = registry.circuitBreaker("breaker").counts().totalSuccesses();
        assertEquals(List.of(1), collect(streams.cancelThrows().take(1)));
        assertEquals(successes + 1, registry.circuitBreaker("breaker").counts().totalSuccesses(),
                "a cancel after the first element is the stream's success, whatever the hook threw");
        assertEquals(0, registry.circuitBreaker("breaker").counts().totalFailures());
        assertEquals(0, registry.bulkhead("single").inUse());
    }

    @Test
    void aSourceWhoseCancelThrowsOutStillEndsTheCallAsASuccessAndFreesTheSlot() {
        long successes = registry.circuitBreaker("breaker").counts().totalSuccesses();
        try {
            streams.disposeThrows().take(1).collectList().block(Duration.ofSeconds(10));
        } catch (RuntimeException thrownOutOfCancel) {
            // where Reactor lets the hook's exception go is Reactor's business; the call must end all the same
        }
        assertEquals(successes + 1, registry.circuitBreaker("breaker").counts().totalSuccesses());
        assertEquals(0, registry.bulkhead("single").inUse(), "the slot comes back though the source's cancel threw");
    }

    @Test
    void aSourceThatEmitsFromInsideTheSubscribersRequestLosesNothing() {
        List<Integer> got = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        streams.reentrant().subscribe(new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(1);
            }

            @Override
            protected void hookOnNext(Integer value) {
                got.add(value);
                request(1); // one at a time, from inside onNext
            }

            @Override
            protected void hookOnComplete() {
                done.countDown();
            }
        });
        Await.until(Duration.ofSeconds(10), "the stream did not end: got " + got, () -> done.getCount() == 0);
        assertEquals(List.of(0, 1, 2, 3, 4), got);
    }

    @Test
    void takeZeroCallsNothingAndHoldsNothing() {
        assertEquals(List.of(), collect(streams.guarded().take(0)));
        assertEquals(0, target.calls.get(), "cancelled in onSubscribe: no call");
        assertEquals(0, registry.bulkhead("single").inUse());
    }

    @Test
    void aMethodThatThrowsOrAFluxThatThrowsOnSubscribeIsAFailedAttemptRetriedAndEnded() {
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> streams.throwing().blockLast(Duration.ofSeconds(10)));
        assertEquals("thrown by the method", thrown.getMessage());
        assertEquals(3, target.calls.get(), "retried as any failure before the first element");
        target.calls.set(0);
        IllegalStateException onSubscribe = assertThrows(IllegalStateException.class,
                () -> streams.brokenSource().blockLast(Duration.ofSeconds(10)));
        assertEquals("thrown on subscribe", onSubscribe.getMessage());
        assertEquals(3, target.calls.get());
    }

    @Test
    void theMethodAndItsSourceSeeTheAttemptsContextBoundedByTheTimeout() {
        assertEquals(List.of("same true", "bounded true"), collect(streams.contexts()));
    }

    @Test
    void aMethodReturningNullFailsTheStreamAtOnceWithoutARetry() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> streams.nothing().blockLast(Duration.ofSeconds(10)));
        assertTrue(e.getMessage() != null && e.getMessage().contains("no stage"), e.getMessage());
        assertEquals(1, target.calls.get());
    }

    /**
     * 2,000 subscriptions, 32 at a time: attempts fail at once, after some elements emitted on
     * another thread, complete, hang until a 20 ms timeout, or start emitting about when it ends; a third of the subscribers cancel
     * after a random number of elements. Each subscriber must see the elements of one attempt only,
     * in order, each once, and an end; every bulkhead slot must come back.
     */
    @Test
    void underRacingFailuresTimeoutsAndCancelsNothingIsDeliveredTwiceOrMixedAndNoPermitLeaks() throws Exception {
        dev.resilience.core.Bulkhead many = registry.bulkhead("many");
        int subscriptions = 2_000;
        ExecutorService pool = Executors.newFixedThreadPool(32);
        List<String> broken = new CopyOnWriteArrayList<>();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int n = 0; n < subscriptions; n++) {
                int id = n;
                futures.add(pool.submit(() -> {
                    int cancelAfter = ThreadLocalRandom.current().nextInt(3) == 0 ? 1 + ThreadLocalRandom.current().nextInt(3) : -1;
                    Flux<Integer> flux = streams.racy(id);
                    if (cancelAfter > 0) {
                        flux = flux.take(cancelAfter);
                    }
                    List<Integer> got = new CopyOnWriteArrayList<>();
                    List<String> ends = new CopyOnWriteArrayList<>();
                    CountDownLatch ended = new CountDownLatch(1);
                    flux.subscribe(got::add, e -> {
                        ends.add(e instanceof StressFailure ? "failure" : e instanceof TimeoutExceededException ? "timeout" : "unexpected " + e);
                        ended.countDown();
                    }, () -> {
                        ends.add("complete");
                        ended.countDown();
                    });
                    try {
                        if (!ended.await(10, TimeUnit.SECONDS)) {
                            broken.add(id + ": no end within 10 s, got " + got);
                            return;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    if (ends.size() != 1 || ends.get(0).startsWith("unexpected")) {
                        broken.add(id + ": ends " + ends);
                    }
                    for (int i = 0; i < got.size(); i++) {
                        if (got.get(i) % 100 != i || got.get(i) / 100 != got.get(0) / 100) {
                            broken.add(id + ": " + got);
                            break;
                        }
                    }
                    // Without a cancel or a timeout (20 ms may end a slow attempt mid-stream), an attempt that
                    // delivered gives all its elements, then its own end.
                    if (cancelAfter < 0 && !got.isEmpty() && !ends.equals(List.of("timeout"))) {
                        int plan = target.plans.get(id * 10 + got.get(0) / 100);
                        int mode = plan / 10;
                        if ((mode == 1 || mode == 2) && got.size() != plan % 10) {
                            broken.add(id + ": attempt " + got.get(0) / 100 + " (mode " + mode + ") planned " + plan % 10 + ", got " + got);
                        }
                        if (mode == 2 && !ends.equals(List.of("complete")) || mode == 1 && !ends.equals(List.of("failure"))) {
                            broken.add(id + ": attempt " + got.get(0) / 100 + " (mode " + mode + ") ended with " + ends);
                        }
                    }
                    int attempts = target.attemptsOf.get(id).get();
                    if (attempts > 3 || !got.isEmpty() && got.get(0) / 100 > attempts) {
                        broken.add(id + ": " + attempts + " attempts, got " + got);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(List.of(), broken);
        Await.until(Duration.ofSeconds(10), "bulkhead slots still held: " + many.inUse(), () -> many.inUse() == 0);
        assertEquals(subscriptions, target.attemptsOf.size());
    }

    @Test
    void theOriginalFailureReachesTheSubscriberUnchanged() {
        AtomicInteger calls = new AtomicInteger();
        Flux<Integer> f = streams.retried().onErrorResume(e -> {
            calls.incrementAndGet();
            return Flux.error(e);
        });
        target.failBefore = 3;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.blockLast(Duration.ofSeconds(10)));
        assertEquals("before the first element of attempt 3", e.getMessage(), "the last attempt's own exception");
        assertEquals(1, calls.get());
        assertSame(IllegalStateException.class, e.getClass(), "not wrapped");
    }
}
