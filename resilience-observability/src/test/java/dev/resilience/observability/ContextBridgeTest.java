package dev.resilience.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.pool.WorkerPool;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import dev.resilience.core.Backoff;
import dev.resilience.core.Hedge;
import dev.resilience.core.Retry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.stream.Collectors;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Our context across a thread hop through Micrometer's context-propagation and OpenTelemetry's executors. */
class ContextBridgeTest {

    static {
        OpenTelemetryContextBridge.install(); // before this JVM first touches OpenTelemetry's context
    }

    private static final Context.Key<String> TENANT = Context.Key.named("tenant");
    private final ExecutorService plain = Executors.newSingleThreadExecutor();

    @AfterEach
    void shutdown() {
        plain.shutdownNow();
    }

    /** What a task sees: the tenant, whether a deadline is set, and the current span. */
    private static String seen() {
        Context c = Context.current();
        return c.get(TENANT) + "/" + c.deadline().isPresent() + "/" + Span.current().getSpanContext().getSpanId();
    }

    @Test
    void micrometerContextPropagationCarriesOurContext() throws Exception {
        ContextSnapshotFactory snapshots = ContextSnapshotFactory.builder().build();
        CompletableFuture<String> inside = new CompletableFuture<>();
        try (CancelHandle h = Context.current().withValue(TENANT, "acme").withTimeout(Duration.ofSeconds(5));
                Scope s = h.attach()) {
            ContextSnapshot snapshot = snapshots.captureAll();
            plain.execute(() -> {
                try (ContextSnapshot.Scope restored = snapshot.setThreadLocals()) {
                    inside.complete(Context.current().get(TENANT) + "/" + Context.current().deadline().isPresent());
                }
            });
        }
        assertEquals("acme/true", inside.get(10, TimeUnit.SECONDS));
        CompletableFuture<Context> after = CompletableFuture.supplyAsync(Context::current, plain);
        assertSame(Context.background(), after.get(10, TimeUnit.SECONDS), "restored on the worker after the task");
    }

    @Test
    void openTelemetryExecutorsCarryOurContextAndOurExecutorsCarryTheSpan() throws Exception {
        assertTrue(OpenTelemetryContextBridge.installed());
        // with a span processor: without one the SDK hands out invalid spans, whose ids are all zeros
        SdkTracerProvider tracing = SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create())).build();
        ExecutorService traced = io.opentelemetry.context.Context.taskWrapping(plain);
        WorkerPool workers = WorkerPool.builder().threads(1).build();
        Span span = tracing.get("test").spanBuilder("checkout").startSpan();
        String spanId = span.getSpanContext().getSpanId();
        assertTrue(span.getSpanContext().isValid(), "a real span, so that the ids compared below mean something");
        try {
            CompletableFuture<String> viaOtel = new CompletableFuture<>();
            CompletableFuture<String> viaOurs = new CompletableFuture<>();
            try (CancelHandle h = Context.current().withValue(TENANT, "acme").withTimeout(Duration.ofSeconds(5));
                    Scope s = h.attach();
                    io.opentelemetry.context.Scope otelScope = span.makeCurrent()) {
                assertEquals("acme/true/" + spanId, seen());
                traced.execute(() -> viaOtel.complete(seen()));
                workers.execute(() -> {
                    try {
                        viaOurs.complete(seen());
                    } catch (RuntimeException | Error e) {
                        viaOurs.completeExceptionally(e);
                    }
                });
                // read inside the block: leaving it cancels the context, and a worker skips tasks of a done context
                assertEquals("acme/true/" + spanId, viaOtel.get(10, TimeUnit.SECONDS), "OTel's executor carried our context");
                assertEquals("acme/true/" + spanId, viaOurs.get(10, TimeUnit.SECONDS), "our executor carried the span");
            }
            assertNull(Context.current().get(TENANT));
            assertTrue(!Span.current().getSpanContext().isValid(), "nothing left current on the caller");
            CompletableFuture<String> later = CompletableFuture.supplyAsync(ContextBridgeTest::seen, plain);
            assertEquals("null/false/" + Span.getInvalid().getSpanContext().getSpanId(), later.get(10, TimeUnit.SECONDS),
                    "nothing left current on the OTel worker either");
        } finally {
            span.end();
            workers.shutdownNow();
            tracing.close();
        }
    }

    @Test
    void theCallersSpanStaysCurrentInsideRetriesAndHedgesAndEachAttemptCanHaveItsOwnSpan() throws Exception {
        InMemorySpanExporter exported = InMemorySpanExporter.create();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exported)).build()).build();
        ResilienceTelemetry telemetry = ResilienceTelemetry.builder().openTelemetry(otel).build();
        Retry retry = Retry.builder("r").maxAttempts(3).backoff(Backoff.fixed(Duration.ZERO)).build();
        Hedge hedge = Hedge.builder("h").delay(Duration.ofSeconds(30)).build();
        Span checkout = otel.getTracer("test").spanBuilder("checkout").startSpan();
        String checkoutId = checkout.getSpanContext().getSpanId();
        int[] calls = {0};
        try (io.opentelemetry.context.Scope s = checkout.makeCurrent()) {
            String r = retry.call(telemetry.spanPerAttempt("attempt", () -> {
                if (calls[0]++ < 2) {
                    throw new java.io.IOException("flaky");
                }
                return "ok";
            }));
            assertEquals("ok", r);
            String insideHedge = hedge.call(() -> Span.current().getSpanContext().getSpanId());
            assertEquals(checkoutId, insideHedge, "the hedged attempt ran on another thread under the caller's span");
        } finally {
            checkout.end();
        }
        List<SpanData> attempts = exported.getFinishedSpanItems().stream()
                .filter(d -> d.getName().equals("attempt")).collect(Collectors.toList());
        assertEquals(3, attempts.size());
        for (int i = 0; i < 3; i++) {
            SpanData a = attempts.get(i);
            assertEquals(checkoutId, a.getParentSpanId(), "each attempt is a child of the caller's span");
            assertEquals(i + 1L, a.getAttributes().get(SpanKeys.R_ATTEMPT));
            assertEquals(i < 2 ? StatusCode.ERROR : StatusCode.UNSET, a.getStatus().getStatusCode());
        }
        otel.close();
    }

    @Test
    void storeAndReadBack() {
        Context ours = Context.background().withValue(TENANT, "x");
        io.opentelemetry.context.Context otel = OpenTelemetryContextBridge.store(io.opentelemetry.context.Context.root(), ours);
        assertSame(ours, OpenTelemetryContextBridge.from(otel).orElseThrow());
        assertTrue(OpenTelemetryContextBridge.from(io.opentelemetry.context.Context.root()).isEmpty());
    }

    @Test
    void anOpenTelemetryScopeClosedOnAnotherThreadDoesNotThrow() throws Exception {
        // attached on one thread, closed on another; both threads are the test's own and end with it
        io.opentelemetry.context.ContextKey<String> key = io.opentelemetry.context.ContextKey.named("k2");
        java.util.concurrent.CompletableFuture<io.opentelemetry.context.Scope> attached = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CountDownLatch closedElsewhere = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CompletableFuture<String> seenAfter = new java.util.concurrent.CompletableFuture<>();
        Thread owner = new Thread(() -> {
            attached.complete(io.opentelemetry.context.Context.current().with(key, "v").makeCurrent());
            try {
                closedElsewhere.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            io.opentelemetry.context.Context carried = Context.current().get(OpenTelemetryContextBridge.OTEL);
            seenAfter.complete(carried == null ? null : carried.get(key));
        });
        owner.start();
        io.opentelemetry.context.Scope otelScope = attached.get(10, java.util.concurrent.TimeUnit.SECONDS);
        java.util.concurrent.CompletableFuture<Throwable> closed = new java.util.concurrent.CompletableFuture<>();
        Thread other = new Thread(() -> {
            try {
                otelScope.close();
                closed.complete(null);
            } catch (Throwable t) {
                closed.complete(t);
            }
        });
        other.start();
        assertNull(closed.get(10, java.util.concurrent.TimeUnit.SECONDS), "OpenTelemetry's Scope.close does not throw");
        other.join();
        closedElsewhere.countDown();
        // ours stays attached on the thread that attached it (a scope is confined to its thread)
        assertEquals("v", seenAfter.get(10, java.util.concurrent.TimeUnit.SECONDS));
        owner.join();
    }

    @Test
    void aScopeClosedOutOfOrderStillRestoresOpenTelemetrysContext() {
        io.opentelemetry.context.ContextKey<String> key = io.opentelemetry.context.ContextKey.named("k");
        io.opentelemetry.context.Context before = io.opentelemetry.context.Context.current();
        io.opentelemetry.context.Scope otelScope = before.with(key, "v").makeCurrent();
        assertEquals("v", io.opentelemetry.context.Context.current().get(key));
        CancelHandle h = Context.current().withValue(TENANT, "acme").withCancel();
        Scope ours = h.attach();
        // closing OpenTelemetry's scope before ours is out of order for our context: ours is unwound,
        // and OpenTelemetry's own scope is closed all the same (or its context, a span, would stay
        // current on this pooled thread for good), without throwing, as OpenTelemetry's never does
        otelScope.close();
        assertNull(io.opentelemetry.context.Context.current().get(key), "OpenTelemetry's context was restored");
        assertNull(Context.current().get(TENANT), "ours unwound to what was current before");
        h.cancel();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, ours::close,
                "unwound by the out-of-order close");
        assertNull(Context.current().get(TENANT));
    }
}
