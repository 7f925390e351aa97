package dev.resilience.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.resilience.context.ManualTicker;
import dev.resilience.core.Permit;
import dev.resilience.core.Policy;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.Backoff;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.Hedge;
import dev.resilience.core.Retry;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.pool.Allocator;
import dev.resilience.pool.Lease;
import dev.resilience.pool.MpmcArrayQueue;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.Recycler;
import dev.resilience.pool.WorkerPool;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/** A scripted scenario on a manual ticker, read back from every backend. */
class ResilienceTelemetryTest {

    private final ManualTicker ticker = new ManualTicker();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void captureLogs() {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.DEBUG);
        logs.start();
        root.addAppender(logs);
    }

    @AfterEach
    void stopCapturing() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }

    private static double count(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).counter().count();
    }

    /** An OpenTelemetry SDK whose metrics {@code reader} collects, and nothing else. */
    private static OpenTelemetrySdk metricsOnly(InMemoryMetricReader reader) {
        return OpenTelemetrySdk.builder().setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build()).build();
    }

    private static double gauge(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).gauge().value();
    }

    /** A running total read when scraped: a function counter (Prometheus: {@code _total}, rate() applies). */
    private static double total(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).functionCounter().count();
    }

    /** Runs the same scripted scenario against whatever telemetry it is given. */
    private static final class Scenario {
        final RateLimiter limiter;
        final CircuitBreaker breaker;
        final Retry retry;
        final Bulkhead bulkhead;
        final Timeout timeout;
        final Hedge hedge;
        final Pipeline<String> pipeline;

        Scenario(ResilienceTelemetry t, ManualTicker ticker) {
            limiter = RateLimiter.builder("search").rate(1).burst(2).ticker(ticker).build();
            breaker = CircuitBreaker.builder("payments").ticker(ticker).openDuration(Duration.ofSeconds(10)).build();
            retry = Retry.builder("inventory").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build();
            bulkhead = Bulkhead.builder("reports").maxConcurrent(1).ticker(ticker).build();
            timeout = Timeout.builder("slow-api").timeout(Duration.ofMillis(200)).ticker(ticker).build();
            hedge = Hedge.builder("quotes").delay(Duration.ofMillis(50)).ticker(ticker).build();
            pipeline = Pipeline.<String>builder("checkout").ticker(ticker)
                    .add(Retry.builder("checkout-retry").maxAttempts(2).backoff(Backoff.fixed(Duration.ZERO)).ticker(ticker).build())
                    .build();
            for (Policy p : List.of(limiter, breaker, retry, bulkhead, timeout, hedge)) {
                assertNotNull(t.bind(p)); // any policy, by its type
            }
            t.bind(pipeline);
        }

        void run(ManualTicker ticker) throws Exception {
            // limiter: burst 2, so the third is rejected
            assertTrue(limiter.tryAcquire());
            assertTrue(limiter.tryAcquire());
            assertFalse(limiter.tryAcquire());
            // breaker: 6 consecutive failures trip it, a call is refused, the timeout passes, a probe closes it
            for (int i = 0; i < 6; i++) {
                Permit p = breaker.tryAcquire();
                p.onFailure(new IOException("down"));
            }
            assertEquals(CircuitBreaker.State.OPEN, breaker.state());
            assertFalse(breaker.tryAcquire().isPermitted());
            ticker.advance(Duration.ofSeconds(10));
            breaker.tryAcquire().onSuccess();
            assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
            // retry: fails twice, then succeeds; then a call that exhausts its attempts
            int[] calls = {0};
            assertEquals("ok", retry.call(() -> {
                if (calls[0]++ < 2) {
                    throw new IOException("flaky");
                }
                return "ok";
            }));
            assertThrows(IOException.class, () -> retry.call(() -> {
                throw new IOException("always");
            }));
            // bulkhead: one slot
            assertTrue(bulkhead.tryAcquire().isPermitted());
            assertFalse(bulkhead.tryAcquire().isPermitted());
            // timeout: a call that outlives 200 ms
            assertThrows(TimeoutExceededException.class, () -> timeout.call(() -> {
                ticker.advance(Duration.ofMillis(200));
                return "late";
            }));
            // hedge: the first attempt is slow, one hedge starts at 50 ms and wins
            List<CompletableFuture<String>> attempts = new ArrayList<>();
            CompletableFuture<String> quote = hedge.callAsync(() -> {
                CompletableFuture<String> f = new CompletableFuture<>();
                attempts.add(f);
                return f;
            }).toCompletableFuture();
            ticker.advance(Duration.ofMillis(50));
            attempts.get(1).complete("hedged");
            assertEquals("hedged", quote.get());
            // pipeline: one call that takes 30 ms and succeeds, one that fails twice
            assertEquals("paid", pipeline.call(() -> {
                ticker.advance(Duration.ofMillis(30));
                return "paid";
            }));
            assertThrows(IOException.class, () -> pipeline.call(() -> {
                throw new IOException("card declined");
            }));
        }
    }

    @Test
    void aThrottlesCallsAndDropRatioAreMetered() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        dev.resilience.core.AdaptiveThrottle throttle = dev.resilience.core.AdaptiveThrottle.builder("quotes").ticker(ticker)
                .protection(0).random(() -> 0.0).forcedPassInterval(Duration.ofDays(1)).recoveryScaling(false).build();
        assertNotNull(t.bind((Policy) throttle));
        assertEquals("ok", throttle.call(() -> "ok"));
        for (int i = 0; i < 3; i++) {
            Permit p = throttle.tryAcquire();
            if (p.isPermitted()) {
                p.onFailure(new IOException("503"));
            }
        }
        assertThrows(dev.resilience.core.ThrottledException.class, () -> throttle.call(() -> "dropped"));
        dev.resilience.core.AdaptiveThrottle.Stats stats = throttle.stats();
        assertEquals(1, count(registry, "resilience.throttle.calls", "name", "quotes", "result", "accepted"));
        assertEquals(stats.failures(), count(registry, "resilience.throttle.calls", "name", "quotes", "result", "failed"));
        assertEquals(stats.requests() - stats.accepts() - stats.failures(),
                count(registry, "resilience.throttle.calls", "name", "quotes", "result", "dropped"));
        assertTrue(count(registry, "resilience.throttle.calls", "name", "quotes", "result", "dropped") >= 1);
        assertEquals(throttle.dropRatio(), gauge(registry, "resilience.throttle.drop.ratio", "name", "quotes"), 1e-12);
        assertTrue(throttle.dropRatio() > 0);
    }

    @Test
    void micrometerCountsEveryEventOfTheScenario() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        Scenario s = new Scenario(t, ticker);
        t.bind(s.limiter);
        t.bind(s.breaker);
        t.bind(s.bulkhead);
        s.run(ticker);

        assertEquals(2, count(registry, "resilience.ratelimiter.permits", "name", "search", "result", "permitted"));
        assertEquals(1, count(registry, "resilience.ratelimiter.permits", "name", "search", "result", "rejected"));
        assertNull(registry.find("resilience.ratelimiter.wait").tags("name", "search").timer(),
                "tryAcquire never waits; only calls that waited are timed, and the timer is registered on its first wait");
        assertEquals(2.0, gauge(registry, "resilience.ratelimiter.available", "name", "search"), 1e-9, "refilled to the burst while the breaker waited 10 s");

        assertEquals(6, count(registry, "resilience.circuitbreaker.calls", "name", "payments", "outcome", "failure"));
        assertEquals(1, count(registry, "resilience.circuitbreaker.calls", "name", "payments", "outcome", "success"));
        assertEquals(1, count(registry, "resilience.circuitbreaker.calls", "name", "payments", "outcome", "not_permitted"));
        assertEquals(1, count(registry, "resilience.circuitbreaker.transitions", "name", "payments", "from", "closed", "to", "open"));
        assertEquals(1, count(registry, "resilience.circuitbreaker.transitions", "name", "payments", "from", "open", "to", "half_open"));
        assertEquals(1, count(registry, "resilience.circuitbreaker.transitions", "name", "payments", "from", "half_open", "to", "closed"));
        assertEquals(1, gauge(registry, "resilience.circuitbreaker.state", "name", "payments", "state", "closed"));
        assertEquals(0, gauge(registry, "resilience.circuitbreaker.state", "name", "payments", "state", "open"));

        assertEquals(4, count(registry, "resilience.retry.retries", "name", "inventory"), "2 + 2 retries");
        assertEquals(1, count(registry, "resilience.retry.gave.up", "name", "inventory", "reason", "exhausted"));
        assertEquals(0, count(registry, "resilience.retry.gave.up", "name", "inventory", "reason", "budget"));

        assertEquals(1, count(registry, "resilience.bulkhead.calls", "name", "reports", "result", "permitted"));
        assertEquals(1, count(registry, "resilience.bulkhead.calls", "name", "reports", "result", "rejected"));
        assertEquals(1, gauge(registry, "resilience.bulkhead.in.use", "name", "reports"));
        assertEquals(1, gauge(registry, "resilience.bulkhead.limit", "name", "reports"));

        assertEquals(1, count(registry, "resilience.timeout.timeouts", "name", "slow-api"));
        assertEquals(1, count(registry, "resilience.hedge.hedges", "name", "quotes"));

        assertEquals(1, count(registry, "resilience.pipeline.calls", "name", "checkout", "outcome", "success"));
        assertEquals(1, count(registry, "resilience.pipeline.calls", "name", "checkout", "outcome", "failure"));
        io.micrometer.core.instrument.Timer calls = registry.get("resilience.pipeline.duration").tags("name", "checkout").timer();
        assertEquals(2, calls.count());
        assertEquals(30.0, calls.max(java.util.concurrent.TimeUnit.MILLISECONDS), 1e-9);
    }

    @Test
    void prometheusScrapeShowsNamesTagsAndValues() throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(prometheus).build();
        Scenario s = new Scenario(t, ticker);
        t.bind(s.breaker);
        s.run(ticker);
        String scrape = prometheus.scrape();
        assertTrue(scrape.contains("resilience_ratelimiter_permits_total{name=\"search\",result=\"rejected\"} 1.0"), scrape);
        assertTrue(scrape.contains("resilience_circuitbreaker_calls_total{name=\"payments\",outcome=\"failure\"} 6.0"), scrape);
        assertTrue(scrape.contains("resilience_circuitbreaker_state{name=\"payments\",state=\"closed\"} 1.0"), scrape);
        assertTrue(scrape.contains("resilience_retry_gave_up_total{name=\"inventory\",reason=\"exhausted\"} 1.0"), scrape);
        assertTrue(scrape.contains("resilience_bulkhead_calls_total{name=\"reports\",result=\"rejected\"} 1.0"), scrape);
        assertFalse(scrape.contains("down"), "no exception message becomes a tag");
    }

    @Test
    void openTelemetryGetsTheSameInstrumentsAndSpanEvents() throws Exception {
        InMemoryMetricReader metrics = InMemoryMetricReader.create();
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .build();
        ResilienceTelemetry t = ResilienceTelemetry.builder().openTelemetry(otel).build();
        Scenario s = new Scenario(t, ticker);
        t.bind(s.breaker);
        Span span = otel.getTracer("test").spanBuilder("checkout").startSpan();
        try (Scope scope = span.makeCurrent()) {
            s.run(ticker);
        } finally {
            span.end();
        }

        Collection<MetricData> data = metrics.collectAllMetrics();
        Map<String, Long> permits = sums(data, "resilience.ratelimiter.permits", "result");
        assertEquals(Map.of("permitted", 2L, "rejected", 1L), permits);
        assertEquals(6L, sums(data, "resilience.circuitbreaker.calls", "outcome").get("failure"));
        assertEquals(4L, sums(data, "resilience.retry.retries", "name").get("inventory"));
        MetricData state = data.stream().filter(m -> m.getName().equals("resilience.circuitbreaker.state")).findFirst().orElseThrow();
        assertTrue(state.getDoubleGaugeData().getPoints().stream().anyMatch(p ->
                "closed".equals(p.getAttributes().get(AttributeKey.stringKey("state"))) && p.getValue() == 1.0));

        SpanData checkout = spans.getFinishedSpanItems().get(0);
        List<String> events = checkout.getEvents().stream().map(EventData::getName).collect(Collectors.toList());
        assertTrue(events.contains("resilience.rejected"), events.toString());
        assertTrue(events.contains("resilience.retry.scheduled"), events.toString());
        assertTrue(events.contains("resilience.timeout"), events.toString());
        assertTrue(events.contains("resilience.hedge.launched"), events.toString());
        assertEquals(3, events.stream().filter("resilience.circuitbreaker.state_changed"::equals).count(), events.toString());
        EventData rejected = checkout.getEvents().stream().filter(e -> e.getName().equals("resilience.rejected")).findFirst().orElseThrow();
        assertEquals("ratelimiter", rejected.getAttributes().get(SpanKeys.R_KIND));
        assertEquals("search", rejected.getAttributes().get(SpanKeys.R_NAME));
        assertEquals("no_permit", rejected.getAttributes().get(SpanKeys.R_REASON));
    }

    private static Map<String, Long> sums(Collection<MetricData> data, String metric, String tag) {
        MetricData m = data.stream().filter(d -> d.getName().equals(metric)).findFirst().orElseThrow(() -> new AssertionError(metric));
        return m.getLongSumData().getPoints().stream().collect(Collectors.toMap(
                p -> p.getAttributes().get(AttributeKey.stringKey(tag)), LongPointData::getValue, Long::sum));
    }

    @Test
    void slf4jLogsStateChangesAtInfoAndRejectionsAndRetriesAtDebug() throws Exception {
        ResilienceTelemetry t = ResilienceTelemetry.builder().build();
        new Scenario(t, ticker).run(ticker);
        List<ILoggingEvent> changes = logs.list.stream()
                .filter(e -> e.getLoggerName().equals("resilience.circuitbreaker") && e.getLevel() == Level.INFO)
                .collect(Collectors.toList());
        assertEquals(3, changes.size());
        Map<String, Object> first = keyValues(changes.get(0));
        assertEquals(Map.of("name", "payments", "from", "closed", "to", "open"), first);
        assertTrue(logs.list.stream().anyMatch(e -> e.getLoggerName().equals("resilience.ratelimiter")
                && e.getLevel() == Level.DEBUG && "no_permit".equals(keyValues(e).get("reason"))));
        assertTrue(logs.list.stream().anyMatch(e -> e.getLoggerName().equals("resilience.retry")
                && e.getLevel() == Level.DEBUG && Integer.valueOf(1).equals(keyValues(e).get("attempt"))));
        assertTrue(logs.list.stream().anyMatch(e -> e.getLoggerName().equals("resilience.bulkhead") && e.getLevel() == Level.DEBUG));
    }

    private static Map<String, Object> keyValues(ILoggingEvent e) {
        List<KeyValuePair> kvs = e.getKeyValuePairs();
        return kvs == null ? Map.of() : kvs.stream().collect(Collectors.toMap(kv -> kv.key, kv -> kv.value));
    }

    @Test
    void bindingIsIdempotentAndClosingRemovesTheMeters() throws Exception {
        SimpleMeterRegistry a = new SimpleMeterRegistry();
        SimpleMeterRegistry b = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(a).meterRegistry(b).build();
        Scenario s = new Scenario(t, ticker);
        ResilienceTelemetry.Binding first = t.bind(s.bulkhead);
        assertSame(first, t.bind(s.bulkhead));
        Permit held = s.bulkhead.tryAcquire();
        for (SimpleMeterRegistry r : List.of(a, b)) {
            assertEquals(1, count(r, "resilience.bulkhead.calls", "name", "reports", "result", "permitted"), "both registries");
        }
        first.close();
        first.close();
        for (SimpleMeterRegistry r : List.of(a, b)) {
            assertNull(r.find("resilience.bulkhead.calls").meter());
            assertNull(r.find("resilience.bulkhead.in.use").meter());
        }
        held.release();
        assertTrue(s.bulkhead.tryAcquire().isPermitted()); // closed: the listener is gone too
        assertNull(a.find("resilience.bulkhead.calls").meter());
        ResilienceTelemetry.Binding again = t.bind(s.bulkhead);
        assertNotSame(first, again, "binding again after closing starts from zero");
        assertEquals(0, count(a, "resilience.bulkhead.calls", "name", "reports", "result", "permitted"));
        s.bulkhead.tryAcquire();
        assertEquals(1, count(a, "resilience.bulkhead.calls", "name", "reports", "result", "rejected"));
    }

    /** Plain objects; the first {@code failures} allocations throw. */
    private static Allocator<Object> objects(int failures) {
        return new Allocator<Object>() {
            int made;

            @Override
            public Object allocate() throws IOException {
                if (made++ < failures) {
                    throw new IOException("allocation " + made + " fails");
                }
                return new Object();
            }

            @Override
            public void deallocate(Object o) {
            }
        };
    }

    @Test
    void adaptiveLimiterLimitInFlightAndRejections() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        AdaptiveLimiter limiter = AdaptiveLimiter.builder("backend").ticker(ticker)
                .algorithm(LimitAlgorithm.aimd(2, 1, 10, 0.5, Duration.ofSeconds(1))).build();
        t.bind(limiter);
        Permit a = limiter.tryAcquire();
        Permit b = limiter.tryAcquire();
        assertFalse(limiter.tryAcquire().isPermitted());
        assertEquals(2, gauge(registry, "resilience.adaptive.in.flight", "name", "backend"));
        assertEquals(1, count(registry, "resilience.adaptive.rejections", "name", "backend"));
        a.onFailure(new java.util.concurrent.TimeoutException());
        assertEquals(1, gauge(registry, "resilience.adaptive.limit", "name", "backend"), "halved by the drop");
        b.onSuccess();
        assertEquals(0, gauge(registry, "resilience.adaptive.in.flight", "name", "backend"));
    }

    /** Yields until {@code condition} holds or 10 s pass; the assertion that follows does the checking. */
    private static void waitUpTo10s(java.util.function.BooleanSupplier condition) {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() - end < 0) {
            Thread.yield();
        }
    }

    @Test
    void poolLeaksIdleInUseAndWorkerRejectionsAndRecyclerDrops() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        ObjectPool<Object> pool = ObjectPool.builder(objects(0)).name("cache").maxSize(2).minIdle(2).ticker(ticker).maintenanceInterval(Duration.ofSeconds(1))
                .leakDetection(Duration.ofSeconds(5)).build();
        t.bind(pool);
        waitUpTo10s(() -> pool.idle() >= 2);
        assertEquals(2, gauge(registry, "resilience.pool.idle", "name", "cache"));
        Lease<Object> kept = pool.borrow();
        assertEquals(1, gauge(registry, "resilience.pool.in.use", "name", "cache"));
        ticker.advance(Duration.ofSeconds(6)); // the sweep reports the lease as a suspected leak
        waitUpTo10s(() -> count(registry, "resilience.pool.leaks", "name", "cache") >= 1);
        assertEquals(1, count(registry, "resilience.pool.leaks", "name", "cache"));
        assertTrue(logs.list.stream().anyMatch(e -> e.getLoggerName().equals("resilience.pool") && e.getLevel() == Level.WARN
                && e.getThrowableProxy() != null), "leak logged at WARN with where it was borrowed");
        Lease<Object> other = pool.borrow();   // now both objects are lent out
        CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
            try (Lease<Object> l = pool.borrow()) {
                return l.get();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // The waiter stops counting itself while it looks at the queue after each wake-up, so a single
        // read can catch it in between (it did once on JDK 25): the gauge must show it, not at every instant.
        double seen = 0;
        long end = System.nanoTime() + 10_000_000_000L;
        while (seen < 1 && System.nanoTime() - end < 0) {
            seen = Math.max(seen, gauge(registry, "resilience.pool.pending", "name", "cache"));
            Thread.yield();
        }
        assertEquals(1, seen, "the waiter shows in the gauge");
        ticker.advance(Duration.ofMillis(40));
        other.close();
        assertNotNull(waiter.get(10, java.util.concurrent.TimeUnit.SECONDS));
        io.micrometer.core.instrument.Timer waits = registry.get("resilience.pool.borrow.wait").tags("name", "cache").timer();
        assertEquals(1, waits.count());
        assertTrue(waits.max(java.util.concurrent.TimeUnit.MILLISECONDS) >= 40, "waited 40 ms on the ticker");
        kept.close();
        pool.close(Duration.ofSeconds(1));

        WorkerPool workers = WorkerPool.builder().name("jobs").threads(1).queueCapacity(2).build();
        t.bind(workers);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        workers.execute(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(started.await(10, java.util.concurrent.TimeUnit.SECONDS));
        workers.execute(() -> { });
        workers.execute(() -> { });
        assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> workers.execute(() -> { }));
        assertEquals(1, gauge(registry, "resilience.workers.active", "name", "jobs"));
        assertEquals(2, gauge(registry, "resilience.workers.queued", "name", "jobs"));
        assertEquals(1, total(registry, "resilience.workers.rejected", "name", "jobs"));
        release.countDown();
        workers.shutdown();
        assertTrue(workers.awaitTermination(Duration.ofSeconds(10)));

        Recycler<StringBuilder> recycler = Recycler.builder(StringBuilder::new).retainIf(sb -> sb.length() < 10).build();
        t.bind("buffers", recycler);
        StringBuilder big = recycler.get().append("more than ten characters");
        recycler.release(big);
        assertEquals(1, total(registry, "resilience.recycler.dropped", "name", "buffers"));
    }

    @Test
    void poolsWorkersRecyclersAndQueuesAreObservable() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        ObjectPool<Object> pool = ObjectPool.builder(objects(1)).name("db").maxSize(1).ticker(ticker).build();
        t.bind(pool);
        assertThrows(dev.resilience.pool.PoolException.class, pool::borrow);
        try (Lease<Object> lease = pool.borrow()) {
            assertNotNull(lease.get());
            assertEquals(1, gauge(registry, "resilience.pool.size", "name", "db"));
            assertThrows(dev.resilience.pool.PoolTimeoutException.class, () -> pool.borrow(Duration.ZERO));
        }
        assertEquals(1, count(registry, "resilience.pool.allocation.failures", "name", "db"));
        assertEquals(1, count(registry, "resilience.pool.borrow.timeouts", "name", "db"));
        assertEquals(1, gauge(registry, "resilience.pool.max", "name", "db"));
        // registered by its first record: the borrow that waited for the background thread's object
        assertNotNull(registry.find("resilience.pool.borrow.wait").tags("name", "db").timer());
        assertTrue(pool.close(Duration.ofSeconds(1)));
        assertNull(registry.find("resilience.pool.size").meter(), "a closed pool's meters are removed");
        assertNull(registry.find("resilience.pool.allocation.failures").meter());

        WorkerPool workers = WorkerPool.builder().name("jobs").threads(1).build();
        t.bind(workers);
        workers.submit(() -> { }).get();
        // The future completes inside the task; the worker counts it just after: wait for that.
        waitUpTo10s(() -> workers.completed() >= 1);
        assertEquals(1, total(registry, "resilience.workers.completed", "name", "jobs"));
        workers.shutdown();
        assertTrue(workers.awaitTermination(Duration.ofSeconds(10)));
        assertNull(registry.find("resilience.workers.completed").meter(), "a terminated worker pool's meters are removed");

        Recycler<StringBuilder> recycler = Recycler.builder(StringBuilder::new).build();
        t.bind("buffers", recycler);
        recycler.release(recycler.get());
        assertEquals(1, total(registry, "resilience.recycler.created", "name", "buffers"));

        MpmcArrayQueue<Integer> queue = new MpmcArrayQueue<>(8);
        t.bind("inbox", queue);
        queue.offer(1);
        queue.offer(2);
        assertEquals(2, gauge(registry, "resilience.queue.depth", "name", "inbox"));
        assertEquals(8, gauge(registry, "resilience.queue.capacity", "name", "inbox"));
    }

    @Test
    void oneCallInstrumentsAPrimitiveBesideTheUsersOwnListeners() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        CircuitBreaker breaker = CircuitBreaker.builder("orders").ticker(ticker)
                .listener(new dev.resilience.core.CircuitBreakerListener() {
                    @Override
                    public void onSuccess(CircuitBreaker b) {
                        heard.add("first");
                    }
                })
                .listener(new dev.resilience.core.CircuitBreakerListener() {
                    @Override
                    public void onSuccess(CircuitBreaker b) {
                        throw new IllegalStateException("a broken listener keeps no one else from hearing");
                    }
                })
                .build();
        ResilienceTelemetry.Binding binding = t.bind(breaker);
        breaker.addListener(new dev.resilience.core.CircuitBreakerListener() {
            @Override
            public void onSuccess(CircuitBreaker b) {
                heard.add("added");
            }
        });
        assertEquals("ok", breaker.call(() -> "ok"));
        assertEquals(List.of("first", "added"), heard);
        assertEquals(1, count(registry, "resilience.circuitbreaker.calls", "name", "orders", "outcome", "success"));
        binding.close();
        assertEquals("ok", breaker.call(() -> "ok"));
        assertEquals(List.of("first", "added", "first", "added"), heard, "closing removes only the telemetry's listener");
        assertNull(registry.find("resilience.circuitbreaker.calls").meter());
    }

    @Test
    void bindingAPoolThatAlreadyEndedLeavesNoMeters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        WorkerPool workers = WorkerPool.builder().name("gone").threads(1).build();
        workers.shutdown();
        assertTrue(workers.awaitTermination(Duration.ofSeconds(10)));
        t.bind(workers);
        assertNull(registry.find("resilience.workers.completed").meter(), "a terminated pool's binding closes at once");
        ObjectPool<Object> pool = ObjectPool.builder(objects(0)).name("closed").maxSize(1).build();
        assertTrue(pool.close(Duration.ofSeconds(5)));
        t.bind(pool);
        assertNull(registry.find("resilience.pool.size").meter());
    }

    @Test
    void aSameNameReplacementTakesOverAndClosingTheOldBindingLeavesItAlone() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        Bulkhead old = Bulkhead.builder("db").maxConcurrent(5).build();
        ResilienceTelemetry.Binding oldBinding = t.bind(old);
        assertEquals(5, gauge(registry, "resilience.bulkhead.limit", "name", "db"));
        Bulkhead replacement = Bulkhead.builder("db").maxConcurrent(50).build();
        ResilienceTelemetry.Binding binding = t.bind(replacement);
        assertEquals(50, gauge(registry, "resilience.bulkhead.limit", "name", "db"), "the live one's limit");
        oldBinding.close();
        assertEquals(50, gauge(registry, "resilience.bulkhead.limit", "name", "db"), "the replacement keeps its meters");
        replacement.tryAcquire();
        old.tryAcquire();
        assertEquals(1, count(registry, "resilience.bulkhead.calls", "name", "db", "result", "permitted"),
                "only the live bulkhead is counted");
        assertSame(binding, t.bind(replacement));
    }

    @Test
    void aBindingDoesNotKeepItsPrimitiveAlive() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        java.lang.ref.WeakReference<Bulkhead> last = null;
        for (int i = 0; i < 20_000; i++) {
            Bulkhead shortLived = Bulkhead.builder("request-" + i).maxConcurrent(1).build();
            t.bind(shortLived);
            shortLived.tryAcquire();
            last = new java.lang.ref.WeakReference<>(shortLived);
        }
        long end = System.nanoTime() + 30_000_000_000L;
        while ((last.get() != null || t.bindingCount() > 100) && System.nanoTime() < end) {
            System.gc();
            Thread.yield(); // System.gc() above is what the wait is made of
        }
        assertNull(last.get(), "neither the binding nor its meters pin the bulkhead");
        assertTrue(t.bindingCount() <= 100, "bindings of collected bulkheads are cleared: " + t.bindingCount());
        assertTrue(registry.getMeters().size() <= 100 * 5, "and so are their meters: " + registry.getMeters().size());
    }

    @Test
    void aBindingWhoseMetersTheRegistryRefusedIsNotKeptForTheNextBind() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        java.util.concurrent.atomic.AtomicBoolean refuse = new java.util.concurrent.atomic.AtomicBoolean(true);
        registry.config().meterFilter(new io.micrometer.core.instrument.config.MeterFilter() {
            @Override
            public io.micrometer.core.instrument.Meter.Id map(io.micrometer.core.instrument.Meter.Id id) {
                if (refuse.get() && id.getName().startsWith("resilience.circuitbreaker")) {
                    throw new IllegalStateException("refused by a filter");
                }
                return id;
            }
        });
        ResilienceTelemetry t = ResilienceTelemetry.builder().meterRegistry(registry).build();
        CircuitBreaker breaker = CircuitBreaker.builder("payments").build();
        assertThrows(IllegalStateException.class, () -> t.bind(breaker));
        refuse.set(false);
        t.bind(breaker); // registers for real now, instead of returning the half-made binding
        assertEquals(1, breaker.call(() -> 1));
        assertTrue(registry.find("resilience.circuitbreaker.calls").tags("name", "payments").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum() >= 1, "the call was counted");
    }
    @Test
    void twoTelemetriesBindingOnePrimitiveToOneRegistryCountEachEventOnce() {
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        // a framework's telemetry (two registries) and the application's own (the shared one, listed twice)
        ResilienceTelemetry framework = ResilienceTelemetry.builder().meterRegistry(own).meterRegistry(shared).build();
        ResilienceTelemetry application = ResilienceTelemetry.builder().meterRegistry(shared).meterRegistry(shared).build();
        Bulkhead bulkhead = Bulkhead.builder("db").maxConcurrent(5).build();
        ResilienceTelemetry.Binding first = framework.bind(bulkhead);
        ResilienceTelemetry.Binding second = application.bind(bulkhead);
        assertNotSame(first, second);

        bulkhead.tryAcquire();
        assertEquals(1, count(shared, "resilience.bulkhead.calls", "name", "db", "result", "permitted"), "counted once");
        assertEquals(1, count(own, "resilience.bulkhead.calls", "name", "db", "result", "permitted"));

        first.close(); // the writer goes: the application's binding writes, the meters stay
        assertNull(own.find("resilience.bulkhead.calls").meter(), "the registry only the closed binding fed is cleared");
        bulkhead.tryAcquire();
        assertEquals(2, count(shared, "resilience.bulkhead.calls", "name", "db", "result", "permitted"),
                "still counted, once, after the first binding closed");
        assertEquals(2, gauge(shared, "resilience.bulkhead.in.use", "name", "db"));

        ResilienceTelemetry.Binding again = framework.bind(bulkhead); // comes back: waits behind the application's
        bulkhead.tryAcquire();
        assertEquals(3, count(shared, "resilience.bulkhead.calls", "name", "db", "result", "permitted"));
        assertEquals(1, count(own, "resilience.bulkhead.calls", "name", "db", "result", "permitted"),
                "the new binding writes where it is alone");
        second.close();
        again.close();
        assertNull(shared.find("resilience.bulkhead.calls").meter(), "the last binding takes the meters");
        assertNull(shared.find("resilience.bulkhead.in.use").meter());
        assertNull(own.find("resilience.bulkhead.calls").meter());
    }

    @Test
    void aMeterOnlyTheClosedWriterRegisteredIsTakenOverAndRemovedWithTheLastBinding() {
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        ResilienceTelemetry a = ResilienceTelemetry.builder().meterRegistry(shared).build();
        ResilienceTelemetry b = ResilienceTelemetry.builder().meterRegistry(shared).build();
        CircuitBreaker breaker = CircuitBreaker.builder("payments").ticker(ticker).build();
        ResilienceTelemetry.Binding first = a.bind(breaker);
        breaker.forceOpen(); // registers closed -> open, lazily, in the first binding only
        ResilienceTelemetry.Binding second = b.bind(breaker);
        first.close();
        assertEquals(1, count(shared, "resilience.circuitbreaker.transitions", "name", "payments", "from", "closed", "to", "forced_open"),
                "the series stays with the binding left");
        breaker.reset();
        breaker.forceOpen();
        assertEquals(2, count(shared, "resilience.circuitbreaker.transitions", "name", "payments", "from", "closed", "to", "forced_open"),
                "and goes on counting, once");
        second.close();
        assertTrue(shared.getMeters().isEmpty(), "nothing stays: " + shared.getMeters());
    }

    @Test
    void twoTelemetriesOnOneOpenTelemetryCountEachEventOnce() {
        InMemoryMetricReader metrics = InMemoryMetricReader.create();
        OpenTelemetrySdk otel = metricsOnly(metrics);
        ResilienceTelemetry a = ResilienceTelemetry.builder().openTelemetry(otel).build();
        ResilienceTelemetry b = ResilienceTelemetry.builder().openTelemetry(otel).build();
        Bulkhead bulkhead = Bulkhead.builder("db").maxConcurrent(5).build();
        ResilienceTelemetry.Binding first = a.bind(bulkhead);
        b.bind(bulkhead);
        bulkhead.tryAcquire();
        Collection<MetricData> data = metrics.collectAllMetrics();
        assertEquals(1L, sums(data, "resilience.bulkhead.calls", "result").get("permitted"));
        MetricData inUse = data.stream().filter(m -> m.getName().equals("resilience.bulkhead.in.use")).findFirst().orElseThrow();
        assertEquals(1, inUse.getDoubleGaugeData().getPoints().size(), "one observation of the gauge");
        first.close();
        bulkhead.tryAcquire();
        data = metrics.collectAllMetrics();
        assertEquals(2L, sums(data, "resilience.bulkhead.calls", "result").get("permitted"), "the second binding writes now");
        inUse = data.stream().filter(m -> m.getName().equals("resilience.bulkhead.in.use")).findFirst().orElseThrow();
        assertEquals(1, inUse.getDoubleGaugeData().getPoints().size(), "its gauge was taken over");
        assertEquals(2.0, inUse.getDoubleGaugeData().getPoints().iterator().next().getValue());
    }
    @Test
    void bindingAndClosingFromTwoTelemetriesWhileEventsFlowLeavesNothingBehind() throws Exception {
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        ResilienceTelemetry a = ResilienceTelemetry.builder().meterRegistry(shared).build();
        ResilienceTelemetry b = ResilienceTelemetry.builder().meterRegistry(shared).build();
        CircuitBreaker breaker = CircuitBreaker.builder("payments").ticker(ticker).build();
        java.util.concurrent.atomic.AtomicInteger binders = new java.util.concurrent.atomic.AtomicInteger(2);
        List<Thread> threads = new ArrayList<>();
        for (ResilienceTelemetry t : List.of(a, b)) {
            threads.add(new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    t.bind(breaker).close();
                }
                binders.decrementAndGet();
            }));
        }
        threads.add(new Thread(() -> {
            while (binders.get() > 0) { // for as long as the binders run
                breaker.forceOpen(); // lazily registered series, racing the closes
                breaker.reset();
            }
        }));
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(30_000);
            assertFalse(t.isAlive(), "no thread is stuck");
        }
        assertTrue(shared.getMeters().isEmpty(), "every binding closed, nothing stays: " + shared.getMeters());
        ResilienceTelemetry.Binding last = a.bind(breaker);
        breaker.forceOpen();
        assertEquals(1, count(shared, "resilience.circuitbreaker.transitions", "name", "payments", "from", "closed",
                "to", "forced_open"), "a fresh binding counts once");
        last.close();
    }

    @Test
    void aRebuiltPrimitiveBoundBesideAnotherTelemetrysOldOneKeepsItsMetersWhenTheOldOneCloses() {
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        ResilienceTelemetry framework = ResilienceTelemetry.builder().meterRegistry(shared).build();
        ResilienceTelemetry application = ResilienceTelemetry.builder().meterRegistry(shared).build();
        Bulkhead old = Bulkhead.builder("db").maxConcurrent(5).build();
        framework.bind(old);
        ResilienceTelemetry.Binding applicationsOld = application.bind(old);
        Bulkhead rebuilt = Bulkhead.builder("db").maxConcurrent(50).build();
        framework.bind(rebuilt); // replaces the framework's binding of the old one
        applicationsOld.close(); // the last binding of the old one: the series stay, the rebuilt one holds them
        rebuilt.tryAcquire();
        assertEquals(1, count(shared, "resilience.bulkhead.calls", "name", "db", "result", "permitted"),
                "the rebuilt bulkhead's call, in the registry");
        assertNotNull(shared.find("resilience.bulkhead.in.use").tags("name", "db").gauge());
        assertEquals(5, gauge(shared, "resilience.bulkhead.limit", "name", "db"),
                "two primitives of one name bound by two telemetry instances share a gauge: it reads the one bound first");
    }

    @Test
    void onePrimitiveBoundUnderTwoNamesFeedsBothSeries() {
        InMemoryMetricReader metrics = InMemoryMetricReader.create();
        OpenTelemetrySdk otel = metricsOnly(metrics);
        ResilienceTelemetry t = ResilienceTelemetry.builder().openTelemetry(otel).build();
        Recycler<StringBuilder> recycler = Recycler.builder(StringBuilder::new).build();
        t.bind("buffers", recycler);
        t.bind("scratch", recycler);
        recycler.get();
        MetricData created = metrics.collectAllMetrics().stream()
                .filter(m -> m.getName().equals("resilience.recycler.created")).findFirst().orElseThrow();
        assertTrue(created.getDoubleSumData().isMonotonic(), "a running total: a monotonic sum, not a gauge");
        assertEquals(java.util.Set.of("buffers", "scratch"), created.getDoubleSumData().getPoints().stream()
                .map(p -> p.getAttributes().get(SpanKeys.NAME)).collect(Collectors.toSet()), "both names observed");
    }
}
