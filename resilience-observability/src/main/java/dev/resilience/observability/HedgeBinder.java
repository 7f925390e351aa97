package dev.resilience.observability;

import dev.resilience.core.Hedge;
import dev.resilience.core.HedgeListener;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;

/** A hedging policy's meter: hedged attempts launched; span events. */
final class HedgeBinder {

    private HedgeBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, Hedge hedge) {
        return t.bindWith(hedge, hedge.name(), b -> b.listening(hedge.addListener(new Events(t, b))));
    }

    private static final class Events implements HedgeListener {
        private final ResilienceTelemetry telemetry;
        private final Backends.CounterSeries hedges;

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b) {
            this.telemetry = telemetry;
            hedges = b.set.counter("resilience.hedge.hedges", "hedged attempts launched");
        }

        @Override
        public void onHedge(Hedge hedge, int attempt) {
            hedges.add(1);
            Span span = telemetry.recordingSpan();
            if (span != null) {
                span.addEvent("resilience.hedge.launched", Attributes.of(SpanKeys.R_NAME, hedge.name(),
                        SpanKeys.R_ATTEMPT, (long) attempt));
            }
        }
    }
}
