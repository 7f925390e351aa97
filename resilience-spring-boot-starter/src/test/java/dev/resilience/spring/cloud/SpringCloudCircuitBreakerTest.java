package dev.resilience.spring.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.DeadlineHeaders;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker.State;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.spring.FlakyDependency;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.client.circuitbreaker.CircuitBreakerFactory;
import org.springframework.cloud.client.circuitbreaker.Customizer;
import org.springframework.cloud.client.circuitbreaker.NoFallbackAvailableException;
import org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreakerFactory;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.RestClient;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.registry.ImportHttpServices;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Spring Cloud CircuitBreaker's factories in a real Spring Boot application, calling a real flaky
 * dependency on loopback: the breaker opens after its configured failures and the fallback gets
 * {@code CallNotPermittedException}; an id runs through its own configuration, else its group's,
 * else the defaults; user callbacks that throw or return null; a Mono and a Flux complete on
 * success, failure and cancel, and no permit or slot is left behind (a half-open probe cancelled
 * frees its slot; a bulkhead is back to 0 in use); an HTTP interface client group runs through its
 * breaker.
 */
class SpringCloudCircuitBreakerTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static FlakyDependency dependency;
    private static ConfigurableApplicationContext app;
    private static ResilienceRegistry registry;
    private static CircuitBreakerFactory<?, ?> factory;
    private static ReactiveCircuitBreakerFactory<?, ?> reactive;
    private static RestClient client;

    /**
     * The application: auto-configuration only (spring-cloud-commons decorates HTTP service groups
     * with the factory's breakers by itself), an HTTP service group, and a customizer of the factory.
     */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    @ImportHttpServices(group = "payments-api", types = PaymentsApi.class)
    static class CloudApp {

        @Bean
        RestClient paymentsClient(RestClient.Builder builder, @Value("${payments.url}") String url) {
            return builder.baseUrl(url).build();
        }

        @Bean
        Customizer<ResilienceCircuitBreakerFactory> aliases() {
            return f -> f.configure(b -> b.pipeline("payments"), "PaymentsClient#pay()");
        }
    }

    /** An HTTP interface client of the dependency. */
    interface PaymentsApi {
        @GetExchange("/pay")
        String pay();
    }

    @BeforeAll
    static void start() throws Exception {
        dependency = new FlakyDependency();
        app = new SpringApplicationBuilder(CloudApp.class).web(WebApplicationType.NONE).properties(
                "payments.url=" + dependency.url(),
                "spring.http.serviceclient.payments-api.base-url=" + dependency.url(),
                "resilience.circuitbreaker.default.consecutive-failures=2",
                "resilience.circuitbreaker.default.open-duration=1h",
                "resilience.circuitbreaker.payments.consecutive-failures=3",
                "resilience.circuitbreaker.mixedCase.open-duration=1h",
                "resilience.circuitbreaker.payments.open-duration=1h",
                "resilience.timeout.payments.timeout=5s",
                "resilience.circuitbreaker.inventory.consecutive-failures=3",
                "resilience.circuitbreaker.catalog.consecutive-failures=0",
                "resilience.circuitbreaker.callbacks.consecutive-failures=0",
                "resilience.circuitbreaker.retried.consecutive-failures=0",
                "resilience.retry.retried.max-attempts=3",
                "resilience.retry.retried.backoff=fixed",
                "resilience.retry.retried.backoff-delay=1ms",
                "resilience.circuitbreaker.reactive.consecutive-failures=4",
                "resilience.circuitbreaker.reactive.open-duration=1h",
                "resilience.retry.reactive.max-attempts=2",
                "resilience.retry.reactive.backoff=fixed",
                "resilience.retry.reactive.backoff-delay=1ms",
                "resilience.circuitbreaker.streams.consecutive-failures=0",
                "resilience.bulkhead.streams.max-concurrent=2",
                "resilience.circuitbreaker.slow.consecutive-failures=0",
                "resilience.timeout.slow.timeout=300ms",
                "resilience.bulkhead.slow.max-concurrent=1",
                "resilience.circuitbreaker.probe.consecutive-failures=1",
                "resilience.circuitbreaker.probe.open-duration=50ms",
                "resilience.circuitbreaker.probe.half-open-timeout=1h",
                "resilience.circuitbreaker.probe-flux.consecutive-failures=1",
                "resilience.circuitbreaker.probe-flux.open-duration=50ms",
                "resilience.circuitbreaker.probe-flux.half-open-timeout=1h",
                "resilience.circuitbreaker.payments-api.consecutive-failures=2",
                "resilience.circuitbreaker.payments-api.open-duration=1h")
                .run();
        registry = app.getBean(ResilienceRegistry.class);
        factory = app.getBean(CircuitBreakerFactory.class);
        reactive = app.getBean(ReactiveCircuitBreakerFactory.class);
        client = app.getBean("paymentsClient", RestClient.class);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (app != null) {
            app.close();
        }
        if (dependency != null) {
            dependency.close();
        }
    }

    @BeforeEach
    void reset() {
        dependency.reset();
    }

    // ------------------------------------------------------------------ blocking

    @Test
    void theBreakerOpensAfterItsFailuresAndTheFallbackGetsCallNotPermitted() {
        assertInstanceOf(ResilienceCircuitBreakerFactory.class, factory);
        org.springframework.cloud.client.circuitbreaker.CircuitBreaker payments = factory.create("payments");
        assertSame(payments, factory.create("payments"), "one breaker per id, created once");
        List<Throwable> seen = new CopyOnWriteArrayList<>();

        assertEquals("paid", payments.run(this::pay, t -> fallback(seen, t)));
        long nanos = DeadlineHeaders.parseGrpcTimeout(dependency.grpcTimeouts.get(0));
        assertTrue(nanos > 0 && nanos <= Duration.ofSeconds(5).toNanos(),
                "the timeout named payments bounds the call and travels downstream: " + dependency.grpcTimeouts);

        dependency.failing.set(true);
        for (int i = 0; i < 3; i++) {
            assertEquals("fallback", payments.run(this::pay, t -> fallback(seen, t)));
        }
        assertEquals(3, seen.size());
        seen.forEach(t -> assertInstanceOf(HttpServerErrorException.ServiceUnavailable.class, t));
        assertEquals(State.OPEN, registry.circuitBreaker("payments").state());

        int reached = dependency.requests.get();
        assertEquals("fallback", payments.run(this::pay, t -> fallback(seen, t)));
        CallNotPermittedException refused = assertInstanceOf(CallNotPermittedException.class, seen.get(3));
        assertEquals("payments", refused.breaker());
        assertEquals(reached, dependency.requests.get(), "an open breaker sends nothing");

        NoFallbackAvailableException none = assertThrows(NoFallbackAvailableException.class, () -> payments.run(this::pay));
        assertInstanceOf(CallNotPermittedException.class, none.getCause());
    }

    @Test
    void anIdRunsThroughItsOwnConfigurationElseItsGroupsElseTheDefaults() {
        dependency.failing.set(true);
        // The id is configured: its own breaker, whatever the group.
        long payments = registry.circuitBreaker("payments").counts().totalFailures();
        factory.create("payments", "inventory").run(this::pay, t -> "fallback");
        assertEquals(payments + 1, registry.circuitBreaker("payments").counts().totalFailures());

        // The id is not configured, its group is: the group's breaker, shared by the group's ids.
        org.springframework.cloud.client.circuitbreaker.CircuitBreaker check = factory.create("InventoryClient#check()", "inventory");
        org.springframework.cloud.client.circuitbreaker.CircuitBreaker reserve = factory.create("InventoryClient#reserve()", "inventory");
        for (int i = 0; i < 3; i++) {
            (i % 2 == 0 ? check : reserve).run(this::pay, t -> "fallback");
        }
        assertEquals(State.OPEN, registry.circuitBreaker("inventory").state(), "3 failures across the group's ids");
        assertFalse(registry.instances(dev.resilience.core.CircuitBreaker.class).containsKey("InventoryClient#check()"));

        // Neither is configured: a breaker named like the id, with resilience.circuitbreaker.default.*.
        org.springframework.cloud.client.circuitbreaker.CircuitBreaker unknown = factory.create("Unknown#call()", "unknown");
        AtomicReference<Throwable> last = new AtomicReference<>();
        for (int i = 0; i < 3; i++) {
            unknown.run(this::pay, t -> fallback(last, t));
        }
        assertEquals(State.OPEN, registry.circuitBreaker("Unknown#call()").state(), "the default: opens at 2 in a row");
        assertInstanceOf(CallNotPermittedException.class, last.get());
        assertFalse(registry.instances(dev.resilience.core.CircuitBreaker.class).containsKey("unknown"));

        // Configured in properties under a name with capitals, which the environment keeps in its
        // canonical form (mixedcase): an id spelled as the properties spell it finds it.
        long mixed = registry.circuitBreaker("mixedcase").counts().totalFailures();
        factory.create("mixedCase").run(this::pay, t -> "fallback");
        assertEquals(mixed + 1, registry.circuitBreaker("mixedcase").counts().totalFailures(), "the configured breaker");
        assertFalse(registry.instances(dev.resilience.core.CircuitBreaker.class).containsKey("mixedCase"),
                "no default-shaped breaker beside it");

        // Configured in code by the application's Customizer bean: the pipeline payments.
        long before = registry.circuitBreaker("payments").counts().requests();
        factory.create("PaymentsClient#pay()").run(() -> "ok", t -> "fallback");
        assertEquals(before + 1, registry.circuitBreaker("payments").counts().requests());
    }

    @Test
    void codeConfigurationAndDefaults() {
        ResilienceCircuitBreakerFactory own = new ResilienceCircuitBreakerFactory(registry);
        assertThrows(IllegalStateException.class, () -> own.configure(b -> { }, "empty"));
        assertThrows(IllegalStateException.class, () -> own.configure(b -> b.pipeline("payments").pipeline("catalog"), "twice"));
        assertThrows(NullPointerException.class, () -> own.create(null));
        assertThrows(NullPointerException.class, () -> new ResilienceCircuitBreakerFactory(null));

        own.create("late").run(() -> "ok");
        assertTrue(registry.instances(dev.resilience.core.CircuitBreaker.class).containsKey("late"));
        long before = registry.circuitBreaker("catalog").counts().requests();
        own.configure(b -> b.pipeline("catalog"), "late");
        own.create("late").run(() -> "ok");
        assertEquals(before + 1, registry.circuitBreaker("catalog").counts().requests(), "configure applies to later creates");

        own.configureDefault(id -> PipelineConfig.of(registry.pipeline("catalog")));
        own.create("NeverConfigured#x()").run(() -> "ok");
        assertEquals(before + 2, registry.circuitBreaker("catalog").counts().requests());
        assertFalse(registry.instances(dev.resilience.core.CircuitBreaker.class).containsKey("NeverConfigured#x()"));

        own.configureDefault(id -> null);
        assertThrows(NullPointerException.class, () -> own.create("NullDefault#x()"));
    }

    @Test
    void aFallbackThatThrowsASharedExceptionDoesNotGrowItByOneEntryPerCall() {
        org.springframework.cloud.client.circuitbreaker.CircuitBreaker cb = factory.create("shared-fallback-exception");
        IllegalArgumentException shared = new IllegalArgumentException("no fallback today (a constant)");
        for (int i = 0; i < 200; i++) {
            IllegalStateException boom = new IllegalStateException("boom " + i);
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> cb.run(() -> {
                throw boom;
            }, t -> {
                throw shared;
            }));
            assertSame(shared, thrown);
        }
        assertEquals(4, shared.getSuppressed().length, "the first calls' failures for the record, not one per call (200 calls)");
        assertEquals("boom 0", shared.getSuppressed()[0].getMessage());

        IllegalArgumentException sharedReactive = new IllegalArgumentException("no reactive fallback today (a constant)");
        AtomicInteger calls = new AtomicInteger();
        // a fresh failure per call (Mono.error(Supplier)): a repeated instance would be kept once only
        Mono<String> mono = reactive.create("shared-fallback-exception").run(
                Mono.error(() -> new IllegalStateException("reactive boom " + calls.getAndIncrement())), t -> {
                    throw sharedReactive;
                });
        for (int i = 0; i < 50; i++) {
            // not block(): Reactor's block() adds a suppressed entry of its own to the error it rethrows
            assertEquals("the shared one", mono.map(v -> "a value").onErrorResume(e -> Mono.just(e == sharedReactive ? "the shared one" : e.toString()))
                    .block(Duration.ofSeconds(10)));
        }
        assertEquals(4, sharedReactive.getSuppressed().length, "nor on the reactive path (50 calls)");
        for (Throwable kept : sharedReactive.getSuppressed()) {
            assertTrue(kept.getMessage().startsWith("reactive boom ") || kept instanceof CallNotPermittedException,
                    "the calls' own failures (or the open breaker's refusals): " + kept);
        }
    }

    @Test
    void userCallbacksThatThrowOrReturnNull() {
        org.springframework.cloud.client.circuitbreaker.CircuitBreaker cb = factory.create("callbacks");
        IllegalStateException boom = new IllegalStateException("boom");

        AtomicReference<Throwable> got = new AtomicReference<>();
        assertEquals("recovered", cb.run(() -> {
            throw boom;
        }, t -> fallback(got, t, "recovered")));
        assertSame(boom, got.get(), "the fallback gets the call's exception unchanged");

        IllegalArgumentException fromFallback = assertThrows(IllegalArgumentException.class, () -> cb.run(() -> {
            throw boom;
        }, t -> {
            throw new IllegalArgumentException("fallback failed");
        }));
        assertEquals(List.of(boom), List.of(fromFallback.getSuppressed()), "the original is kept, as suppressed");

        IllegalStateException rethrown = assertThrows(IllegalStateException.class, () -> cb.run(() -> {
            throw boom;
        }, t -> {
            throw (IllegalStateException) t;
        }));
        assertSame(boom, rethrown);
        assertEquals(0, boom.getSuppressed().length, "not suppressed by itself");

        assertNull(cb.run(() -> {
            throw boom;
        }, t -> null), "a fallback may return null");
        assertNull(cb.run(() -> null, t -> "fallback"), "so may the call");

        NoFallbackAvailableException none = assertThrows(NoFallbackAvailableException.class, () -> cb.run(() -> {
            throw boom;
        }));
        assertSame(boom, none.getCause());
        assertEquals(0, none.getSuppressed().length, "already its cause");

        assertThrows(NullPointerException.class, () -> cb.run(null, t -> "x"));
        assertThrows(NullPointerException.class, () -> cb.run(() -> "x", null));
        assertEquals(State.CLOSED, registry.circuitBreaker("callbacks").state());
    }

    @Test
    void anHttpInterfaceClientGroupRunsThroughItsBreaker() {
        PaymentsApi api = app.getBean(PaymentsApi.class);
        assertEquals("paid", api.pay());
        dependency.failing.set(true);
        for (int i = 0; i < 2; i++) {
            RuntimeException e = assertThrows(RuntimeException.class, api::pay);
            assertNotNull(find(e, HttpServerErrorException.class), chain(e));
        }
        assertEquals(State.OPEN, registry.circuitBreaker("payments-api").state());
        int reached = dependency.requests.get();
        RuntimeException refused = assertThrows(RuntimeException.class, api::pay);
        assertNotNull(find(refused, CallNotPermittedException.class), chain(refused));
        assertEquals(reached, dependency.requests.get());
    }

    // ------------------------------------------------------------------ Mono

    @Test
    void aMonoRunsThroughTheAsynchronousPathWithItsRetryAndItsBreaker() {
        assertInstanceOf(ReactiveResilienceCircuitBreakerFactory.class, reactive);
        var cb = reactive.create("reactive");
        assertEquals("paid", cb.run(payAsync(), t -> Mono.just("fallback")).block(WAIT));
        assertEquals(1, dependency.requests.get());

        dependency.failing.set(true);
        List<Throwable> seen = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 2; i++) {
            assertEquals("fallback", cb.run(payAsync(), t -> {
                seen.add(t);
                return Mono.just("fallback");
            }).block(WAIT));
        }
        assertEquals(5, dependency.requests.get(), "2 attempts per call: the retry resubscribes");
        assertEquals(State.OPEN, registry.circuitBreaker("reactive").state(), "4 failed attempts");
        seen.forEach(t -> assertInstanceOf(IllegalStateException.class, t));

        assertEquals("fallback", cb.run(payAsync(), t -> {
            seen.add(t);
            return Mono.just("fallback");
        }).block(WAIT));
        assertInstanceOf(CallNotPermittedException.class, seen.get(2));
        assertEquals(5, dependency.requests.get(), "an open breaker sends nothing");

        NoFallbackAvailableException none = assertThrows(NoFallbackAvailableException.class,
                () -> cb.run(payAsync()).block(WAIT));
        assertInstanceOf(CallNotPermittedException.class, none.getCause());
    }

    @Test
    void aCancelledMonoLeavesNoSlotAndCountsNothing() {
        var cb = reactive.create("streams");
        Bulkhead bulkhead = registry.bulkhead("streams");
        dev.resilience.core.CircuitBreaker breaker = registry.circuitBreaker("streams");
        long requests = breaker.counts().requests();
        dependency.hold();
        Disposable call = cb.run(payAsync(), t -> Mono.just("fallback")).subscribe();
        await("the call is in flight", () -> dependency.requests.get() == 1 && bulkhead.inUse() == 1);
        call.dispose();
        await("the slot comes back", () -> bulkhead.inUse() == 0);
        assertEquals(requests, breaker.counts().requests(), "a cancelled call has no outcome");
        assertEquals(0, breaker.counts().totalFailures());
    }

    @Test
    void aMonoWhoseRequestContextIsCancelledGetsTheContextsErrorWithItsCause() throws Exception {
        var cb = reactive.create("streams");
        dependency.hold();
        dev.resilience.context.CancelHandle request = dev.resilience.context.Context.background().withCancel();
        java.util.concurrent.CompletableFuture<Throwable> seen = new java.util.concurrent.CompletableFuture<>();
        cb.run(payAsync(), t -> {
            seen.complete(t);
            return Mono.just("fallback");
        }).contextWrite(c -> c.put(dev.resilience.observability.ResilienceContextAccessor.KEY, request.context()))
                .subscribe();
        await("the call is in flight", () -> dependency.requests.get() == 1);
        IllegalStateException why = new IllegalStateException("the client went away");
        request.cancel(why);
        Throwable t = seen.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertInstanceOf(dev.resilience.context.ContextCancelledException.class, t, "not a bare cancellation: " + t);
        assertSame(why, t.getCause());
    }

    @Test
    void aCancelledHalfOpenProbeFreesItsSlot() {
        probe("probe", cb -> cb.run(payAsync(), t -> Mono.just("fallback")).subscribe(),
                cb -> cb.run(payAsync(), t -> Mono.just("fallback:" + t.getClass().getSimpleName())).block(WAIT));
        probe("probe-flux", cb -> cb.run(payAsync().flux(), t -> Flux.just("fallback")).subscribe(),
                cb -> cb.run(payAsync().flux(), t -> Flux.just("fallback:" + t.getClass().getSimpleName()))
                        .single().block(WAIT));
    }

    private interface Start {
        Disposable start(org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreaker cb);
    }

    private interface Call {
        String call(org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreaker cb);
    }

    private void probe(String id, Start start, Call call) {
        dependency.reset();
        var cb = reactive.create(id);
        dev.resilience.core.CircuitBreaker breaker = registry.circuitBreaker(id);
        dependency.failing.set(true);
        assertEquals("fallback:IllegalStateException", call.call(cb));
        // OPEN, or already HALF_OPEN if this thread stalled past the 50 ms open duration
        assertNotEquals(State.CLOSED, breaker.state(), "the failure opened it");
        await(id + " turns half-open", () -> breaker.state() == State.HALF_OPEN);
        dependency.failing.set(false);
        dependency.hold();
        int before = dependency.requests.get();
        Disposable probe = start.start(cb);
        await("the probe is in flight", () -> dependency.requests.get() == before + 1);
        assertEquals("fallback:CallNotPermittedException", call.call(cb), "the only probe slot is taken");
        probe.dispose();
        dependency.release();
        assertEquals("paid", call.call(cb), "the cancelled probe gave its slot back");
        assertEquals(State.CLOSED, breaker.state());
    }

    @Test
    void aMonoThatOutlivesItsTimeoutIsCancelledWhenTheCallEnds() {
        var cb = reactive.create("slow");
        Bulkhead bulkhead = registry.bulkhead("slow");
        long failures = registry.circuitBreaker("slow").counts().totalFailures();
        dependency.hold();
        AtomicReference<Throwable> got = new AtomicReference<>();
        AtomicInteger cancelled = new AtomicInteger();
        assertEquals("timed out", cb.run(payAsync().doOnCancel(cancelled::incrementAndGet), t -> {
            got.set(t);
            return Mono.just("timed out");
        }).block(WAIT));
        TimeoutExceededException timeout = assertInstanceOf(TimeoutExceededException.class, got.get());
        assertEquals("slow", timeout.policy());
        await("the attempt is cancelled and its slot comes back", () -> bulkhead.inUse() == 0);
        await("the timed-out Mono's subscription is cancelled, not left running", () -> cancelled.get() == 1);
        assertEquals(failures + 1, registry.circuitBreaker("slow").counts().totalFailures(), "the timeout is the breaker's failure");
    }

    @Test
    void reactiveFallbacksThatThrowOrReturnNull() {
        var cb = reactive.create("callbacks");
        IllegalStateException boom = new IllegalStateException("boom");

        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> cb.run(Mono.<String>error(boom), t -> {
                    throw new IllegalArgumentException("fallback failed");
                }).block(WAIT));
        assertTrue(List.of(thrown.getSuppressed()).contains(boom), "the original is kept, as suppressed");

        NullPointerException nullMono = assertThrows(NullPointerException.class,
                () -> cb.run(Mono.<String>error(boom), t -> null).block(WAIT));
        assertTrue(List.of(nullMono.getSuppressed()).contains(boom));

        NullPointerException nullFlux = assertThrows(NullPointerException.class,
                () -> cb.run(Flux.<String>error(boom), t -> null).blockLast(WAIT));
        assertTrue(List.of(nullFlux.getSuppressed()).contains(boom));

        assertNull(cb.run(Mono.<String>empty(), t -> Mono.just("fallback")).block(WAIT), "an empty Mono stays empty");
        assertEquals("recovered", cb.run(Mono.<String>error(boom), t -> Mono.just("recovered")).block(WAIT));
        assertThrows(NullPointerException.class, () -> cb.run((Mono<String>) null, t -> Mono.just("x")));
        assertThrows(NullPointerException.class, () -> cb.run(Flux.just("x"), null));
    }

    // ------------------------------------------------------------------ Flux

    @Test
    void aFluxIsOneCallWhoseElementsFlowAsTheyCome() {
        var cb = reactive.create("streams");
        dev.resilience.core.CircuitBreaker breaker = registry.circuitBreaker("streams");
        long successes = breaker.counts().totalSuccesses();
        Flux<String> three = Flux.range(1, 3).concatMap(i -> payAsync());
        assertEquals(List.of("paid", "paid", "paid"), cb.run(three, t -> Flux.just("fallback")).collectList().block(WAIT));
        assertEquals(successes + 1, breaker.counts().totalSuccesses(), "the stream is one call");

        // take(1) cancels a healthy stream: a success, and the rest is never asked for.
        dependency.reset();
        assertEquals(List.of("paid"), cb.run(Flux.range(1, 5).concatMap(i -> payAsync()), t -> Flux.just("fallback"))
                .take(1).collectList().block(WAIT));
        assertEquals(successes + 2, breaker.counts().totalSuccesses());
        assertEquals(1, dependency.requests.get());

        // A failure after an element: the element, then the fallback's.
        dependency.reset();
        long failures = breaker.counts().totalFailures();
        Flux<String> failsSecond = Flux.range(1, 2).concatMap(i -> {
            dependency.failing.set(i == 2);
            return payAsync();
        });
        assertEquals(List.of("paid", "fallback"), cb.run(failsSecond, t -> Flux.just("fallback")).collectList().block(WAIT));
        assertEquals(failures + 1, breaker.counts().totalFailures());
        assertEquals(0, registry.bulkhead("streams").inUse());
    }

    @Test
    void aFluxIsRetriedBeforeItsFirstElementOnly() {
        var cb = reactive.create("retried");
        dependency.failing.set(true);
        AtomicReference<Throwable> got = new AtomicReference<>();
        assertEquals(List.of("fallback"), cb.run(payAsync().flux(), t -> {
            got.set(t);
            return Flux.just("fallback");
        }).collectList().block(WAIT));
        assertInstanceOf(IllegalStateException.class, got.get());
        assertEquals(3, dependency.requests.get(), "nothing delivered yet: resubscribed, as a Mono is");

        // After an element, a failure is not retried: the element is not delivered twice.
        dependency.reset();
        IllegalStateException late = new IllegalStateException("after the first element");
        got.set(null);
        assertEquals(List.of("paid", "fallback"), cb.run(payAsync().concatWith(Mono.error(late)), t -> {
            got.set(t);
            return Flux.just("fallback");
        }).collectList().block(WAIT));
        assertSame(late, got.get());
        assertEquals(1, dependency.requests.get(), "subscribed once: delivered elements cannot be taken back");
    }

    @Test
    void aCancelledFluxLeavesNoSlotAndCountsNothing() {
        var cb = reactive.create("streams");
        Bulkhead bulkhead = registry.bulkhead("streams");
        dev.resilience.core.CircuitBreaker breaker = registry.circuitBreaker("streams");
        long requests = breaker.counts().requests();
        dependency.hold();
        List<String> received = new CopyOnWriteArrayList<>();
        Disposable stream = cb.run(payAsync().flux(), t -> Flux.just("fallback")).subscribe(received::add);
        await("the stream is in flight", () -> dependency.requests.get() == 1 && bulkhead.inUse() == 1);
        stream.dispose();
        await("the slot comes back", () -> bulkhead.inUse() == 0);
        assertEquals(requests, breaker.counts().requests(), "cancelled before any element: no outcome");
        assertEquals(List.of(), received);

        // Two streams in flight fill the bulkhead: a third is refused; cancelling both frees both slots.
        Disposable first = cb.run(payAsync().flux(), t -> Flux.just("fallback")).subscribe();
        Disposable second = cb.run(payAsync().flux(), t -> Flux.just("fallback")).subscribe();
        await("both in flight", () -> bulkhead.inUse() == 2);
        List<Throwable> refused = new ArrayList<>();
        assertEquals(List.of("full"), cb.run(payAsync().flux(), t -> {
            refused.add(t);
            return Flux.just("full");
        }).collectList().block(WAIT));
        assertEquals("BulkheadFullException", refused.get(0).getClass().getSimpleName());
        first.dispose();
        second.dispose();
        await("both slots come back", () -> bulkhead.inUse() == 0);
    }

    @Test
    void aFluxTimeoutBoundsTheWholeStreamAndCancelsIt() {
        var cb = reactive.create("slow");
        Bulkhead bulkhead = registry.bulkhead("slow");
        dependency.hold();
        AtomicReference<Throwable> got = new AtomicReference<>();
        assertEquals(List.of("timed out"), cb.run(payAsync().flux(), t -> {
            got.set(t);
            return Flux.just("timed out");
        }).collectList().block(WAIT));
        assertInstanceOf(TimeoutExceededException.class, got.get());
        await("the source is cancelled and its slot comes back", () -> bulkhead.inUse() == 0);
    }

    // ------------------------------------------------------------------ helpers

    private String pay() {
        return client.get().uri("/pay").retrieve().body(String.class);
    }

    /**
     * The dependency through the JDK's asynchronous client, one request per subscription; 503 is an
     * error. Cancelling it leaves the request to finish (suppressCancel): Reactor logs the JDK's
     * cancelled future as a dropped error otherwise, and a held request ends at its release.
     */
    private static Mono<String> payAsync() {
        return Mono.fromFuture(() -> HTTP.sendAsync(HttpRequest.newBuilder(URI.create(dependency.url() + "/pay"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()), true)
                .flatMap(r -> r.statusCode() == 200 ? Mono.just(r.body())
                        : Mono.error(new IllegalStateException("status " + r.statusCode())));
    }

    private static String fallback(List<Throwable> seen, Throwable t) {
        seen.add(t);
        return "fallback";
    }

    private static String fallback(AtomicReference<Throwable> last, Throwable t) {
        return fallback(last, t, "fallback");
    }

    private static String fallback(AtomicReference<Throwable> last, Throwable t, String value) {
        last.set(t);
        return value;
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String chain(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t).append(" <- ");
        }
        return b.toString();
    }

    /** Waits for {@code condition}, at most {@link #WAIT}, polling. */
    static void await(String what, BooleanSupplier condition) {
        dev.resilience.spring.Await.until(WAIT, what, condition);
    }
}
