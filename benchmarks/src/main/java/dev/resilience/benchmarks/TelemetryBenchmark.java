package dev.resilience.benchmarks;

import dev.resilience.core.Permit;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.RateLimiter;
import dev.resilience.observability.ResilienceTelemetry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import java.time.Duration;
import java.util.Collection;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What telemetry adds to a guarded call: the same limiter and breaker built with no listener, with
 * {@link ResilienceTelemetry} on a Prometheus registry, and on the OpenTelemetry SDK (with a periodic
 * reader that exports nowhere once an hour: the recording cost only).
 */
public class TelemetryBenchmark extends AverageTimeBenchmark {

    @Param({"none", "micrometer", "otel"})
    public String telemetry;

    private RateLimiter limiter;
    private CircuitBreaker breaker;
    private OpenTelemetrySdk otel;

    @Setup(Level.Trial)
    public void create() {
        RateLimiter.Builder lb = RateLimiter.builder("bench").rate(1e9).burst(1_000_000);
        CircuitBreaker.Builder cb = CircuitBreaker.builder("bench");
        ResilienceTelemetry t = null;
        if (telemetry.equals("micrometer")) {
            t = ResilienceTelemetry.builder().meterRegistry(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).build();
        } else if (telemetry.equals("otel")) {
            // a reader must be registered, or the SDK records nothing; this one exports nowhere, rarely
            MetricExporter nowhere = new MetricExporter() {
                @Override
                public CompletableResultCode export(Collection<MetricData> metrics) {
                    return CompletableResultCode.ofSuccess();
                }

                @Override
                public CompletableResultCode flush() {
                    return CompletableResultCode.ofSuccess();
                }

                @Override
                public CompletableResultCode shutdown() {
                    return CompletableResultCode.ofSuccess();
                }

                @Override
                public AggregationTemporality getAggregationTemporality(InstrumentType type) {
                    return AggregationTemporality.CUMULATIVE;
                }
            };
            otel = OpenTelemetrySdk.builder().setMeterProvider(SdkMeterProvider.builder()
                    .registerMetricReader(PeriodicMetricReader.builder(nowhere).setInterval(Duration.ofHours(1)).build())
                    .build()).build();
            t = ResilienceTelemetry.builder().openTelemetry(otel).build();
        }
        limiter = lb.build();
        breaker = cb.build();
        if (t != null) {
            t.bind(limiter);
            t.bind(breaker);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        if (otel != null) {
            otel.close();
        }
    }

    @Benchmark
    public boolean limiterTryAcquire() {
        return limiter.tryAcquire();
    }

    @Benchmark
    public void breakerPermitSuccess() {
        Permit p = breaker.tryAcquire();
        p.onSuccess();
    }
}
