package dev.resilience.observability;

import static dev.resilience.observability.ResilienceTelemetry.lower;

import dev.resilience.core.Retry;
import dev.resilience.core.RetryListener;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A retry's meters: retries scheduled, calls that gave up by reason; span events and DEBUG logs. */
final class RetryBinder {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.retry");

    private RetryBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, Retry retry) {
        return t.bindWith(retry, retry.name(), b -> b.listening(retry.addListener(new Events(t, b))));
    }

    private static final class Events implements RetryListener {
        private final ResilienceTelemetry telemetry;
        private final Backends.CounterSeries retries;
        private final Backends.CounterSeries[] gaveUp = new Backends.CounterSeries[GiveUp.values().length];

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b) {
            this.telemetry = telemetry;
            retries = b.set.counter("resilience.retry.retries", "retries scheduled");
            for (GiveUp g : GiveUp.values()) {
                gaveUp[g.ordinal()] = b.set.counter("resilience.retry.gave.up", "calls that stopped retrying",
                        "reason", lower(g));
            }
        }

        @Override
        public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
            retries.add(1);
            Span span = telemetry.recordingSpan();
            if (span != null) {
                span.addEvent("resilience.retry.scheduled", Attributes.of(SpanKeys.R_NAME, retry.name(),
                        SpanKeys.R_ATTEMPT, (long) attempt, SpanKeys.R_DELAY, delayNanos / 1e9));
            }
            LOG.atDebug().setMessage("retry scheduled").addKeyValue("name", retry.name())
                    .addKeyValue("attempt", attempt).addKeyValue("delay", Duration.ofNanos(delayNanos))
                    .addKeyValue("failure", failure == null ? "result" : failure.getClass().getName()).log();
        }

        @Override
        public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
            gaveUp[reason.ordinal()].add(1);
        }
    }
}
