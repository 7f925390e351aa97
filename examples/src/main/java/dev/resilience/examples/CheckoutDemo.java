package dev.resilience.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.HeaderTimeout;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.FaultInjection;
import dev.resilience.core.RateLimiter;
import dev.resilience.http.ResilientHttpClient;
import dev.resilience.core.RetryBudget;
import dev.resilience.observability.ResilienceTelemetry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The flagship: "checkout calls payments", two HTTP services on loopback. Checkout wraps its
 * outbound {@code HttpClient} in a rate limiter, a circuit breaker, retries under a retry budget and
 * a per-attempt timeout, and falls back to "payment queued" when payments cannot answer; the caller's
 * deadline travels in the {@code grpc-timeout} header and payments stops working when it passes.
 * Payments turns flaky on command (errors, latency spikes, an outage). A load generator calls
 * checkout; one summary line a second shows requests, successes, fallbacks, the breaker's state and
 * p50/p99 latency. Checkout serves Prometheus text on {@code /metrics}; 1 % of the checkout calls
 * are traced (OpenTelemetry SDK): a span for the call, one client span per HTTP attempt, and the
 * toolkit's events (retries, timeouts) on them, printed as {@code [trace ...]} lines.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.args="--duration 20"}
 * (the default script: healthy, errors, latency spikes, an outage, healthy again). While it runs,
 * {@code curl 'http://127.0.0.1:PORT/admin?mode=outage'} overrides the script (any mode, in any
 * phase) until {@code /admin?mode=script} hands control back (ports are printed).
 */
public final class CheckoutDemo {

    /** What payments does: its fault mode. */
    enum Mode { HEALTHY, ERRORS, SPIKES, OUTAGE }

    /** One phase of a script: a mode for a while. */
    record Phase(Mode mode, Duration length) {
    }

    /** The default script, about 20 s. */
    static final List<Phase> DEFAULT_SCRIPT = List.of(new Phase(Mode.HEALTHY, Duration.ofSeconds(4)),
            new Phase(Mode.ERRORS, Duration.ofSeconds(4)), new Phase(Mode.SPIKES, Duration.ofSeconds(4)),
            new Phase(Mode.OUTAGE, Duration.ofSeconds(4)), new Phase(Mode.HEALTHY, Duration.ofSeconds(4)));

    /** What happened. */
    record Outcome(int requests, int successes, int fallbacks, List<CircuitBreaker.State> breakerStates,
            String metrics, List<SpanData> spans) {
    }

    /** The share of checkout calls traced when run from the command line. */
    static final double TRACED = 0.01;

    private CheckoutDemo() {
    }

    public static void main(String[] args) throws Exception {
        List<Phase> script = DEFAULT_SCRIPT;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--duration")) {
                // stretch or shrink the default script to the given number of seconds
                double scale = Double.parseDouble(args[i + 1]) / 20.0;
                List<Phase> scaled = new ArrayList<>();
                for (Phase p : DEFAULT_SCRIPT) {
                    scaled.add(new Phase(p.mode(), Duration.ofMillis((long) (p.length().toMillis() * scale))));
                }
                script = scaled;
            }
        }
        run(System.out, script, Duration.ofSeconds(1), TRACED);
    }

    /**
     * Runs the script; {@code traced} is the share of checkout calls traced. Payments runs the
     * script's mode unless {@code /admin?mode=...} overrides it ({@code mode=script} ends that).
     */
    static Outcome run(PrintStream out, List<Phase> script, Duration breakerOpenFor, double traced) throws Exception {
        AtomicReference<Mode> scripted = new AtomicReference<>(Mode.HEALTHY);
        AtomicReference<Mode> override = new AtomicReference<>();
        FaultInjection errors = FaultInjection.builder("errors").exception(0.3, () -> new IOException("payments error")).build();
        FaultInjection spikes = FaultInjection.builder("spikes").latency(0.2, Duration.ofMillis(400)).build();
        FaultInjection outage = FaultInjection.builder("outage").exception(1.0, () -> new IOException("payments down")).build();
        errors.enable();
        spikes.enable();
        outage.enable();

        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PrintingSpanExporter traces = new PrintingSpanExporter(out);
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(traced)))
                .addSpanProcessor(SimpleSpanProcessor.create(traces)).build()).build();
        Tracer tracer = otel.getTracer("checkout-demo");
        ResilienceTelemetry telemetry = ResilienceTelemetry.builder().meterRegistry(prometheus).openTelemetry(otel).build();

        List<CircuitBreaker.State> states = new java.util.concurrent.CopyOnWriteArrayList<>();
        CircuitBreaker breaker = CircuitBreaker.builder("payments")
                .countWindow(20).failureRateThreshold(50, 10)
                .openDuration(breakerOpenFor).maxRequests(3)
                .listener(new dev.resilience.core.CircuitBreakerListener() {  // the demo's own printing ...
                    @Override
                    public void onStateChange(CircuitBreaker b, CircuitBreaker.State from, CircuitBreaker.State to) {
                        states.add(to);
                        out.printf("[breaker] %s -> %s%n", from, to);
                    }
                }).build();
        telemetry.bind(breaker);                                            // ... beside metrics, spans, logs
        RateLimiter limiter = RateLimiter.builder("payments").rate(500).burst(50).maxWait(Duration.ofMillis(20)).build();
        telemetry.bind(limiter);
        ResilientHttpClient payments = ResilientHttpClient.builder(new TracingHttpClient(HttpClient.newHttpClient(), tracer))
                .name("payments")
                .retry(3, Backoff.exponential(Duration.ofMillis(10), 2, Duration.ofMillis(100), Backoff.Jitter.FULL))
                .retryBudget(RetryBudget.of(0.2, 5, 20))
                .circuitBreaker(breaker).rateLimiter(limiter).timeout(Duration.ofMillis(250))
                .build();
        payments.retry().ifPresent(telemetry::bind);
        payments.timeout().ifPresent(telemetry::bind);

        HttpServer paymentsServer = server();
        paymentsServer.createContext("/pay", ex -> {
            Mode o = override.get();
            pay(ex, o != null ? o : scripted.get(), errors, spikes, outage);
        });
        paymentsServer.createContext("/admin", ex -> {
            String q = ex.getRequestURI().getQuery();
            String wanted = q != null && q.startsWith("mode=") ? q.substring(5).toUpperCase(java.util.Locale.ROOT) : "";
            if (wanted.equals("SCRIPT")) {
                override.set(null);
            } else {
                try {
                    override.set(Mode.valueOf(wanted));
                } catch (IllegalArgumentException unknown) {
                    respond(ex, 400, "mode must be one of " + Arrays.toString(Mode.values()) + " or script\n");
                    return;
                }
            }
            Mode o = override.get();
            out.printf("[admin] payments: %s%n", o == null ? "following the script" : o + " until mode=script");
            respond(ex, 200, "mode " + (o == null ? "script (" + scripted.get() + ")" : o) + "\n");
        });
        URI pay = uri(paymentsServer, "/pay");

        AtomicInteger requests = new AtomicInteger();
        AtomicInteger successes = new AtomicInteger();
        AtomicInteger fallbacks = new AtomicInteger();
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        HttpServer checkout = server();
        checkout.createContext("/checkout", ex -> {
            long start = System.nanoTime();
            requests.incrementAndGet();
            String body;
            int status;
            Span span = tracer.spanBuilder("checkout").setSpanKind(SpanKind.SERVER).startSpan();
            try (io.opentelemetry.context.Scope inSpan = span.makeCurrent();
                 CancelHandle call = Context.background().withTimeout(Duration.ofMillis(600)); Scope s = call.attach()) {
                HttpResponse<String> r = payments.send(HttpRequest.newBuilder(pay).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    successes.incrementAndGet();
                    status = 200;
                    body = "paid";
                } else {
                    fallbacks.incrementAndGet();
                    status = 202;
                    body = "payment queued (payments answered " + r.statusCode() + ")";
                }
            } catch (Exception e) {       // breaker open, limiter, timeout, budget spent, I/O: the fallback
                fallbacks.incrementAndGet();
                status = 202;
                body = "payment queued (" + e.getClass().getSimpleName() + ")";
            } finally {
                span.end();
            }
            latencies.add(System.nanoTime() - start);
            respond(ex, status, body);
        });
        checkout.createContext("/metrics", ex -> respond(ex, 200, prometheus.scrape()));
        paymentsServer.start();
        checkout.start();
        out.printf("[demo] checkout http://127.0.0.1:%d/checkout (metrics on /metrics), payments admin http://127.0.0.1:%d/admin?mode=outage%n",
                checkout.getAddress().getPort(), paymentsServer.getAddress().getPort());

        HttpClient client = HttpClient.newHttpClient();
        URI checkoutUri = uri(checkout, "/checkout");
        Set<Thread> load = ConcurrentHashMap.newKeySet();
        AtomicInteger running = new AtomicInteger(1);
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                while (running.get() == 1) {
                    try {
                        client.send(HttpRequest.newBuilder(checkoutUri).build(), HttpResponse.BodyHandlers.discarding());
                    } catch (IOException e) {
                        // counted by checkout, or checkout is going away
                    } catch (InterruptedException e) {
                        return;
                    }
                    pause(Duration.ofMillis(20));
                }
            }, "load-" + i);
            t.setDaemon(true);
            load.add(t);
            t.start();
        }
        String metrics;
        try {
            int second = 0;
            for (Phase phase : script) {
                scripted.set(phase.mode());
                out.printf("[demo] payments: %s for %d ms%s%n", phase.mode(), phase.length().toMillis(),
                        override.get() == null ? "" : " (overridden by admin: " + override.get() + ")");
                long end = System.nanoTime() + phase.length().toNanos();
                while (System.nanoTime() < end) {
                    pause(Duration.ofNanos(Math.min(Duration.ofSeconds(1).toNanos(), end - System.nanoTime())));
                    Mode now = override.get() != null ? override.get() : phase.mode();
                    out.printf("[%3ds] %-8s requests %5d  ok %5d  fallback %5d  breaker %-9s  %s%n", ++second,
                            now, requests.get(), successes.get(), fallbacks.get(), breaker.state(),
                            percentiles(latencies));
                }
            }
            metrics = prometheus.scrape();
        } finally {
            running.set(0);
            for (Thread t : load) {
                t.join(2000);
            }
            checkout.stop(0);
            paymentsServer.stop(0);
            otel.close();
        }
        out.printf("[summary] requests %d, paid %d, fell back %d, breaker went through %s%n",
                requests.get(), successes.get(), fallbacks.get(), states);
        return new Outcome(requests.get(), successes.get(), fallbacks.get(), List.copyOf(states), metrics,
                traces.exported());
    }

    /** Payments: faults by mode, then a little work under the caller's deadline. */
    private static void pay(HttpExchange ex, Mode mode, FaultInjection errors, FaultInjection spikes, FaultInjection outage)
            throws IOException {
        HeaderTimeout timeout = DeadlineHeaders.read(ex.getRequestHeaders()::getFirst);
        int status;
        String body;
        try (CancelHandle request = timeout.applyTo(Context.background()); Scope s = request.attach()) {
            java.util.concurrent.Callable<String> work = () -> {
                WaitResult r = Context.current().waitUntil(Ticker.system(), System.nanoTime() + 5_000_000L);
                if (r != WaitResult.ELAPSED) {
                    throw new IOException("deadline passed: stopped");
                }
                return "paid";
            };
            body = switch (mode) {
                case HEALTHY -> work.call();
                case ERRORS -> errors.call(work);
                case SPIKES -> spikes.call(work);
                case OUTAGE -> outage.call(work);
            };
            status = 200;
        } catch (Exception e) {
            status = mode == Mode.OUTAGE ? 503 : 500;
            body = e.getMessage();
        }
        respond(ex, status, body);
    }

    private static String percentiles(ConcurrentLinkedQueue<Long> latencies) {
        List<Long> taken = new ArrayList<>();
        Long l;
        while ((l = latencies.poll()) != null) {
            taken.add(l);
        }
        if (taken.isEmpty()) {
            return "p50 -  p99 -";
        }
        long[] sorted = taken.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return String.format("p50 %4d ms  p99 %4d ms", sorted[sorted.length / 2] / 1_000_000,
                sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * 0.99) - 1)] / 1_000_000);
    }

    private static void pause(Duration d) {
        Context.background().waitUntil(Ticker.system(), System.nanoTime() + d.toNanos());
    }

    private static HttpServer server() throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }));
        return s;
    }

    private static URI uri(HttpServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.getAddress().getPort() + path);
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }
}
