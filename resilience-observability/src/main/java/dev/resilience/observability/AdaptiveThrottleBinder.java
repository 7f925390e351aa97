package dev.resilience.observability;

import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.AdaptiveThrottleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A client-side throttle's meters: calls by result (accepted, failed, dropped) and the drop ratio. */
final class AdaptiveThrottleBinder {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.throttle");

    /** The reason a dropped call carries in span events and logs. */
    private enum Reason {
        THROTTLED
    }

    private AdaptiveThrottleBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, AdaptiveThrottle throttle) {
        return t.bindWith(throttle, throttle.name(), b -> b.listening(throttle.addListener(new Events(t, b, throttle))));
    }

    private static final class Events implements AdaptiveThrottleListener {
        private final ResilienceTelemetry telemetry;
        private final Backends.CounterSeries accepted;
        private final Backends.CounterSeries failed;
        private final Backends.CounterSeries dropped;

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b, AdaptiveThrottle throttle) {
            this.telemetry = telemetry;
            String m = "resilience.throttle.calls";
            String d = "calls by result: accepted or failed by the dependency, or dropped by the throttle";
            accepted = b.set.counter(m, d, "result", "accepted");
            failed = b.set.counter(m, d, "result", "failed");
            dropped = b.set.counter(m, d, "result", "dropped");
            b.set.gauge("resilience.throttle.drop.ratio", "the probability with which calls are dropped now",
                    throttle, AdaptiveThrottle::dropRatio);
        }

        @Override
        public void onRejected(AdaptiveThrottle throttle, double dropRatio) {
            dropped.add(1);
            telemetry.rejection("throttle", throttle.name(), Reason.THROTTLED, LOG);
        }

        @Override
        public void onAccepted(AdaptiveThrottle throttle) {
            accepted.add(1);
        }

        @Override
        public void onFailure(AdaptiveThrottle throttle, Throwable failure) {
            failed.add(1);
        }
    }
}
