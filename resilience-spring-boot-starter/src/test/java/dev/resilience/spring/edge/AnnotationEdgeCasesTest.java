package dev.resilience.spring.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.Retry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.aopalliance.intercept.MethodInterceptor;
import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.test.util.AopTestUtils;
import reactor.core.publisher.Mono;

/** Edge cases a hostile review found: bridges, final/static/private methods, class-level fallbacks, target-less proxies, cancellation and interruption. */
class AnnotationEdgeCasesTest {

    static final String[] PROPS = {
        "resilience.retry.three.max-attempts=3", "resilience.retry.three.backoff=fixed", "resilience.retry.three.backoff-delay=1ms",
        "resilience.retry.slow.max-attempts=5", "resilience.retry.slow.backoff=fixed", "resilience.retry.slow.backoff-delay=300ms",
        "resilience.bulkhead.single.max-concurrent=1", "resilience.bulkhead.single.max-wait=10s",
    };

    static ConfigurableApplicationContext start(Class<?> app) {
        return new SpringApplicationBuilder(app).web(WebApplicationType.NONE).properties(PROPS).run();
    }

    // ---------- final method ----------
    @SpringBootConfiguration @EnableAutoConfiguration
    static class FinalApp { @Bean FinalMethod finalMethod() { return new FinalMethod(); } }

    static class FinalMethod {
        final AtomicInteger attempts = new AtomicInteger();
        @Retry(name = "three")
        public final String call() {
            if (attempts.incrementAndGet() < 3) {
                throw new IllegalStateException("flaky");
            }
            return "ok";
        }
    }

    /** The message of the ConfigurationException that stopped {@code app}'s startup. */
    static String refusal(Class<?> app) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> start(app).close(), "started anyway");
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof dev.resilience.core.ConfigurationException c) {
                return c.getMessage();
            }
        }
        throw new AssertionError("no ConfigurationException", e);
    }

    @Test
    void aFinalAnnotatedMethodIsRefusedAtStartup() {
        String message = refusal(FinalApp.class);
        assertTrue(message.contains("FinalMethod.call()") && message.contains("a final method is not called through the proxy"), message);
    }

    // ---------- static / private ----------
    @SpringBootConfiguration @EnableAutoConfiguration
    static class StaticApp { @Bean StaticMethod staticMethod() { return new StaticMethod(); } }

    static class StaticMethod {
        @Retry(name = "three")
        public static String call() {
            return "unguarded";
        }
    }

    @Test
    void aStaticAnnotatedMethodFailsStartup() {
        String message = refusal(StaticApp.class);
        assertTrue(message.contains("StaticMethod.call()") && message.contains("a static method is not called through the proxy"), message);
    }

    @SpringBootConfiguration @EnableAutoConfiguration
    static class PrivateApp { @Bean PrivateMethod privateMethod() { return new PrivateMethod(); } }

    static class PrivateMethod {
        public String outer() {
            return inner();
        }
        @Retry(name = "three")
        private String inner() {
            return "unguarded";
        }
    }

    @Test
    void aPrivateAnnotatedMethodFailsStartup() {
        String message = refusal(PrivateApp.class);
        assertTrue(message.contains("PrivateMethod.inner()") && message.contains("a private method is not called through the proxy"), message);
    }

    // ---------- class-level annotation with a public fallback, and toString ----------
    @SpringBootConfiguration @EnableAutoConfiguration
    static class ClassLevelApp { @Bean ClassLevelFallback classLevelFallback() { return new ClassLevelFallback(); } }

    @Retry(name = "three", fallbackMethod = "recover")
    static class ClassLevelFallback {
        public String work(String x) {
            throw new IllegalStateException("down");
        }
        public String recover(String x, Exception e) {
            return "recovered " + x;
        }
    }

    @Test
    void aClassLevelAnnotationWithAPublicFallbackStarts() {
        try (ConfigurableApplicationContext ctx = start(ClassLevelApp.class)) {
            assertEquals("recovered a", ctx.getBean(ClassLevelFallback.class).work("a"));
        }
    }

    // ---------- class-level annotation over a base class without it ----------
    @SpringBootConfiguration @EnableAutoConfiguration
    static class InheritingApp { @Bean Inheriting inheriting() { return new Inheriting(); } }

    /** A base class of a library: not annotated, with a final public method a proxy cannot override. */
    static class LibraryBase {
        final AtomicInteger inheritedCalls = new AtomicInteger();

        public final String describe() {
            return "library";
        }

        public String inherited() {
            inheritedCalls.incrementAndGet();
            throw new IllegalStateException("not ours to retry");
        }

        public int inheritedCalls() {
            return inheritedCalls.get();
        }
    }

    @Retry(name = "three")
    static class Inheriting extends LibraryBase {
        final AtomicInteger attempts = new AtomicInteger();

        public String own() {
            if (attempts.incrementAndGet() < 3) {
                throw new IllegalStateException("flaky");
            }
            return "ok";
        }
    }

    @Test
    void aClassLevelAnnotationCoversTheClasssOwnMethodsNotThoseItInherits() {
        try (ConfigurableApplicationContext ctx = start(InheritingApp.class)) { // the final inherited method does not stop it
            Inheriting bean = ctx.getBean(Inheriting.class);
            assertEquals("ok", bean.own(), "the class's own method is retried");
            assertThrows(IllegalStateException.class, bean::inherited);
            assertEquals(1, bean.inheritedCalls(), "the base class's method is not guarded");
        }
    }

    // ---------- generic interface (bridge method) ----------
    interface Api<T> {
        T get(T x);
    }

    interface Loader<R> {
        R load();
    }

    static class GenericImpl implements Api<String> {
        final AtomicInteger attempts = new AtomicInteger();
        @Retry(name = "three", fallbackMethod = "recover")
        public String get(String x) {
            attempts.incrementAndGet();
            throw new IllegalStateException("down");
        }
        String recover(String x, Exception e) {
            return "recovered " + x;
        }
    }

    static class MonoLoader implements Loader<Mono<String>> {
        final AtomicInteger attempts = new AtomicInteger();
        @Retry(name = "three")
        public Mono<String> load() {
            return Mono.fromCallable(() -> {
                if (attempts.incrementAndGet() < 3) {
                    throw new IllegalStateException("flaky");
                }
                return "ok";
            });
        }
    }

    /** An HTTP-interface-like client: a ProxyFactory proxy of an interface with no target. */
    interface RemoteApi {
        @Retry(name = "three")
        String fetch();
    }

    static final AtomicInteger REMOTE_ATTEMPTS = new AtomicInteger();

    /** Ordinary services for the async probes. */
    static class AsyncService {
        final AtomicInteger attempts = new AtomicInteger();
        volatile CountDownLatch entered;
        volatile CountDownLatch release;

        @Retry(name = "slow")
        public CompletableFuture<String> failing() {
            attempts.incrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException("down"));
        }

        @Bulkhead(name = "single", fallbackMethod = "full")
        public String hold(String x) throws InterruptedException {
            entered.countDown();
            release.await(10, TimeUnit.SECONDS);
            return "held " + x;
        }

        String full(String x, Exception e) {
            return "fallback " + x + " after " + e.getClass().getSimpleName();
        }
    }

    @SpringBootConfiguration @EnableAutoConfiguration
    static class GenericApp {
        @Bean GenericImpl genericImpl() { return new GenericImpl(); }
    }

    @SpringBootConfiguration @EnableAutoConfiguration
    static class MainApp {
        @Bean MonoLoader monoLoader() { return new MonoLoader(); }
        @Bean AsyncService asyncService() { return new AsyncService(); }
        @Bean RemoteApi remoteApi() {
            return ProxyFactory.getProxy(RemoteApi.class, (MethodInterceptor) inv -> {
                if (REMOTE_ATTEMPTS.incrementAndGet() < 3) {
                    throw new IllegalStateException("flaky");
                }
                return "ok";
            });
        }
    }

    @Test
    void aGenericInterfaceMethodCalledThroughTheInterfaceUsesItsFallback() {
        try (ConfigurableApplicationContext ctx = start(GenericApp.class)) {
            @SuppressWarnings("unchecked")
            Api<String> api = ctx.getBean(GenericImpl.class);
            assertEquals("recovered a", api.get("a"));
            assertEquals(3, AopTestUtils.<GenericImpl>getUltimateTargetObject(api).attempts.get());
        }
    }

    @Test
    void aMonoReturnedThroughAGenericInterfaceIsRetried() {
        try (ConfigurableApplicationContext ctx = start(MainApp.class)) {
            @SuppressWarnings("unchecked")
            Loader<Mono<String>> loader = ctx.getBean(MonoLoader.class);
            assertEquals("ok", loader.load().block(Duration.ofSeconds(10)));
        }
    }

    @Test
    void anAnnotatedInterfaceProxyWithoutTargetIsGuarded() {
        REMOTE_ATTEMPTS.set(0);
        try (ConfigurableApplicationContext ctx = start(MainApp.class)) {
            assertEquals("ok", ctx.getBean(RemoteApi.class).fetch());
            assertEquals(3, REMOTE_ATTEMPTS.get());
        }
    }

    @Test
    void cancellingAnAnnotatedFutureStopsItsRetries() throws Exception {
        try (ConfigurableApplicationContext ctx = start(MainApp.class)) {
            AsyncService service = ctx.getBean(AsyncService.class);
            AsyncService target = AopTestUtils.getUltimateTargetObject(service);
            CompletableFuture<String> f = service.failing();
            f.cancel(true);
            Thread.sleep(1_600); // 5 attempts 300 ms apart would all have run
            assertEquals(1, target.attempts.get(), "attempts after the caller cancelled");
        }
    }

    @Test
    void anInterruptedBulkheadWaitIsNoFallbackCaseAndKeepsTheInterruptFlag() throws Exception {
        try (ConfigurableApplicationContext ctx = start(MainApp.class)) {
            AsyncService service = ctx.getBean(AsyncService.class);
            AsyncService target = AopTestUtils.getUltimateTargetObject(service);
            target.entered = new CountDownLatch(1);
            target.release = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                try {
                    service.hold("first");
                } catch (InterruptedException e) {
                    // ignore
                }
            });
            holder.start();
            assertTrue(target.entered.await(10, TimeUnit.SECONDS));
            CompletableFuture<String> seen = new CompletableFuture<>();
            Thread waiter = new Thread(() -> {
                try {
                    String r = service.hold("second");
                    seen.complete(r + ", interrupted=" + Thread.currentThread().isInterrupted());
                } catch (Throwable t) {
                    seen.complete(t + ", interrupted=" + Thread.currentThread().isInterrupted());
                }
            });
            waiter.start();
            ResilienceRegistry registry = ctx.getBean(ResilienceRegistry.class);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (registry.bulkhead("single").waiting() == 0 && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            waiter.interrupt();
            String r = seen.get(10, TimeUnit.SECONDS);
            target.release.countDown();
            holder.join();
            // Interruption means stop: no fallback, the caller sees it, and the thread stays interrupted.
            assertTrue(r.startsWith("java.lang.InterruptedException"), r);
            assertTrue(r.endsWith("interrupted=true"), r);
        }
    }
}
