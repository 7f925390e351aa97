package dev.resilience.observability;

import dev.resilience.redis.Decision;
import dev.resilience.redis.DistributedLimiter;
import dev.resilience.redis.DistributedLimiterListener;
import dev.resilience.redis.DistributedQuota;
import dev.resilience.redis.DistributedRateLimiter;
import dev.resilience.redis.FallbackCause;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meters, span events and logs for the distributed limiters of {@code resilience-redis} (an optional
 * dependency of this module: this class is the only one that needs it).
 *
 * <pre>{@code
 * DistributedRateLimiter limiter = DistributedRateLimiter.builder("partner-api", redis)
 *         .rate(100).burst(20).build();
 * DistributedLimiterTelemetry.bind(telemetry, limiter);   // one call: meters, span events, logs
 * telemetry.bind(redisBreaker);                           // the backend's own breaker, like any other
 * }</pre>
 *
 * <p><b>Meters</b> ({@code name} is the limiter's name and {@code limiter} its kind, {@code rate} or
 * {@code quota}, so that a quota and a rate limiter of one name keep their own series; keys are
 * never tags: their number is unbounded):
 * {@code resilience.distributed.decisions{limiter, result=granted|rejected, source=redis|fail_open|fail_closed|local}},
 * {@code resilience.distributed.fallbacks{limiter, cause=breaker_open|timeout|redis_error|key_error}},
 * {@code resilience.distributed.roundtrip{limiter}} (timer). <b>Spans</b>: {@code resilience.rejected} with
 * kind {@code distributed}, and {@code resilience.distributed.fallback} with the cause. <b>Logs</b>:
 * rejections and fallbacks at DEBUG on {@code resilience.distributed}.
 */
public final class DistributedLimiterTelemetry {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.distributed");

    private DistributedLimiterTelemetry() {
    }

    /**
     * Instruments {@code limiter} (idempotent): its meters in every backend of {@code telemetry}, and
     * a listener whose events go to them.
     *
     * @param telemetry the telemetry
     * @param limiter the limiter
     * @return its binding; closing it removes the listener and the meters
     */
    public static ResilienceTelemetry.Binding bind(ResilienceTelemetry telemetry, DistributedLimiter limiter) {
        Objects.requireNonNull(telemetry, "telemetry");
        return telemetry.bindWith(limiter, limiter.name(),
                b -> b.listening(limiter.addListener(new Events(telemetry, b, kind(limiter)))));
    }

    /**
     * The {@code limiter} tag: a quota and a rate limiter may share a name, and their series must
     * not be one.
     */
    private static String kind(DistributedLimiter limiter) {
        if (limiter instanceof DistributedRateLimiter) {
            return "rate";
        }
        if (limiter instanceof DistributedQuota) {
            return "quota";
        }
        String simple = limiter.getClass().getSimpleName();
        return simple.isEmpty() ? "other" : simple.toLowerCase(Locale.ROOT);
    }

    private static final class Events implements DistributedLimiterListener {
        private final ResilienceTelemetry telemetry;
        /** [granted ? 0 : 1][source]. */
        private final Backends.CounterSeries[][] decisions = new Backends.CounterSeries[2][Decision.Source.values().length];
        private final Backends.CounterSeries[] fallbacks = new Backends.CounterSeries[FallbackCause.values().length];
        private final Backends.TimerSeries roundTrips;

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b, String kind) {
            this.telemetry = telemetry;
            for (Decision.Source source : Decision.Source.values()) {
                decisions[0][source.ordinal()] = b.set.counter("resilience.distributed.decisions",
                        "decisions by result and by who decided", "limiter", kind, "result", "granted", "source",
                        ResilienceTelemetry.lower(source));
                decisions[1][source.ordinal()] = b.set.counter("resilience.distributed.decisions",
                        "decisions by result and by who decided", "limiter", kind, "result", "rejected", "source",
                        ResilienceTelemetry.lower(source));
            }
            for (FallbackCause cause : FallbackCause.values()) {
                fallbacks[cause.ordinal()] = b.set.counter("resilience.distributed.fallbacks",
                        "decisions made without Redis, by cause", "limiter", kind, "cause", ResilienceTelemetry.lower(cause));
            }
            roundTrips = b.set.timer("resilience.distributed.roundtrip", "Redis round trips that answered", "limiter", kind);
        }

        @Override
        public void onDecision(DistributedLimiter limiter, String key, Decision decision) {
            decisions[decision.granted() ? 0 : 1][decision.source().ordinal()].add(1);
            if (!decision.granted()) {
                String reason = ResilienceTelemetry.lower(decision.reason());
                Span span = telemetry.recordingSpan();
                if (span != null) {
                    span.addEvent("resilience.rejected", Attributes.of(SpanKeys.R_KIND, "distributed",
                            SpanKeys.R_NAME, limiter.name(), SpanKeys.R_REASON, reason));
                }
                LOG.atDebug().setMessage("call rejected").addKeyValue("name", limiter.name())
                        .addKeyValue("reason", reason).addKeyValue("source", ResilienceTelemetry.lower(decision.source()))
                        .log();
            }
        }

        @Override
        public void onFallback(DistributedLimiter limiter, FallbackCause cause, Throwable error) {
            fallbacks[cause.ordinal()].add(1);
            Span span = telemetry.recordingSpan();
            if (span != null) {
                span.addEvent("resilience.distributed.fallback", Attributes.of(SpanKeys.R_NAME, limiter.name(),
                        SpanKeys.R_REASON, ResilienceTelemetry.lower(cause)));
            }
            LOG.atDebug().setMessage("Redis could not decide").addKeyValue("name", limiter.name())
                    .addKeyValue("cause", ResilienceTelemetry.lower(cause))
                    .addKeyValue("error", error == null ? "" : error.getClass().getName()).log();
        }

        @Override
        public void onRoundTrip(DistributedLimiter limiter, long nanos) {
            roundTrips.record(nanos);
        }
    }
}
