package dev.resilience.observability;

import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutListener;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A timeout policy's meter: calls that ran out of time; span events and DEBUG logs. */
final class TimeoutBinder {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.timeout");

    private TimeoutBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, Timeout timeout) {
        return t.bindWith(timeout, timeout.name(), b -> b.listening(timeout.addListener(new Events(t, b))));
    }

    private static final class Events implements TimeoutListener {
        private final ResilienceTelemetry telemetry;
        private final Backends.CounterSeries timeouts;

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b) {
            this.telemetry = telemetry;
            timeouts = b.set.counter("resilience.timeout.timeouts", "calls that ran out of time");
        }

        @Override
        public void onTimeout(Timeout timeout) {
            timeouts.add(1);
            Span span = telemetry.recordingSpan();
            if (span != null) {
                span.addEvent("resilience.timeout", Attributes.of(SpanKeys.R_NAME, timeout.name(),
                        SpanKeys.R_DELAY, timeout.timeout().toNanos() / 1e9));
            }
            LOG.atDebug().setMessage("call timed out").addKeyValue("name", timeout.name())
                    .addKeyValue("timeout", timeout.timeout()).log();
        }
    }
}
