package dev.resilience.observability;

import dev.resilience.core.Bulkhead;
import dev.resilience.core.BulkheadListener;
import dev.resilience.core.RequestNotPermittedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A bulkhead's meters: calls by result, waits, slots in use and the limit. */
final class BulkheadBinder {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.bulkhead");

    private BulkheadBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, Bulkhead bulkhead) {
        return t.bindWith(bulkhead, bulkhead.name(), b -> b.listening(bulkhead.addListener(new Events(t, b, bulkhead))));
    }

    private static final class Events implements BulkheadListener {
        private final ResilienceTelemetry telemetry;
        private final Backends.CounterSeries permitted;
        private final Backends.CounterSeries rejected;
        private final Backends.TimerSeries waits;

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b, Bulkhead bulkhead) {
            this.telemetry = telemetry;
            permitted = b.set.counter("resilience.bulkhead.calls", "calls", "result", "permitted");
            rejected = b.set.counter("resilience.bulkhead.calls", "calls", "result", "rejected");
            waits = b.set.timer("resilience.bulkhead.wait", "time waited for a slot");
            b.set.gauge("resilience.bulkhead.in.use", "slots in use", bulkhead, Bulkhead::inUse);
            b.set.gauge("resilience.bulkhead.limit", "slots", bulkhead, Bulkhead::maxConcurrent);
        }

        @Override
        public void onPermitted(Bulkhead bulkhead, long waitedNanos) {
            permitted.add(1);
            if (waitedNanos > 0) {
                waits.record(waitedNanos);
            }
        }

        @Override
        public void onRejected(Bulkhead bulkhead) {
            rejected.add(1);
            telemetry.rejection("bulkhead", bulkhead.name(), RequestNotPermittedException.Reason.BULKHEAD_FULL, LOG);
        }
    }
}
