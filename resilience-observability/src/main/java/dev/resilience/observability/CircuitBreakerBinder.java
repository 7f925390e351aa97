package dev.resilience.observability;

import static dev.resilience.observability.ResilienceTelemetry.lower;

import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.CircuitBreakerListener;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A circuit breaker's meters: calls by outcome, transitions, the state gauge; logs and span events. */
final class CircuitBreakerBinder {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.circuitbreaker");

    private CircuitBreakerBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, CircuitBreaker breaker) {
        return t.bindWith(breaker, breaker.name(), b -> b.listening(breaker.addListener(new Events(t, b, breaker))));
    }

    private static final class Events implements CircuitBreakerListener {
        private final ResilienceTelemetry telemetry;
        private final ResilienceTelemetry.Binding binding;
        private final Backends.CounterSeries success;
        private final Backends.CounterSeries failure;
        private final Backends.CounterSeries slow;
        private final Backends.CounterSeries excluded;
        private final Backends.CounterSeries notPermitted;
        private final Map<String, Backends.CounterSeries> transitions = new ConcurrentHashMap<>();

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b, CircuitBreaker breaker) {
            this.telemetry = telemetry;
            this.binding = b;
            String m = "resilience.circuitbreaker.calls";
            String d = "calls by outcome";
            success = b.set.counter(m, d, "outcome", "success");
            failure = b.set.counter(m, d, "outcome", "failure");
            slow = b.set.counter(m, d, "outcome", "slow");
            excluded = b.set.counter(m, d, "outcome", "excluded");
            notPermitted = b.set.counter(m, d, "outcome", "not_permitted");
            for (CircuitBreaker.State s : CircuitBreaker.State.values()) {
                b.set.gauge("resilience.circuitbreaker.state", "1 for the current state",
                        breaker, cb -> cb.state() == s ? 1 : 0, "state", lower(s));
            }
        }

        @Override
        public void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to) {
            transitions.computeIfAbsent(from.name() + ">" + to.name(), k -> binding.set.counter(
                    "resilience.circuitbreaker.transitions", "state changes", "from", lower(from), "to", lower(to))).add(1);
            Span span = telemetry.recordingSpan();
            if (span != null) {
                span.addEvent("resilience.circuitbreaker.state_changed", Attributes.of(SpanKeys.R_NAME, breaker.name(),
                        SpanKeys.R_FROM, lower(from), SpanKeys.R_TO, lower(to)));
            }
            LOG.atInfo().setMessage("circuit breaker state changed").addKeyValue("name", breaker.name())
                    .addKeyValue("from", lower(from)).addKeyValue("to", lower(to)).log();
        }

        @Override
        public void onNotPermitted(CircuitBreaker breaker, CircuitBreaker.State state) {
            notPermitted.add(1);
            telemetry.rejection("circuitbreaker", breaker.name(), state, LOG);
        }

        @Override
        public void onSuccess(CircuitBreaker breaker) {
            success.add(1);
        }

        @Override
        public void onFailure(CircuitBreaker breaker, Throwable error) {
            failure.add(1);
        }

        @Override
        public void onSlowCall(CircuitBreaker breaker, long durationNanos) {
            slow.add(1);
        }

        @Override
        public void onExcluded(CircuitBreaker breaker, Throwable error) {
            excluded.add(1);
        }
    }
}
