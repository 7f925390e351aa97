package dev.resilience.observability;

import dev.resilience.core.RateLimiter;
import dev.resilience.core.RateLimiterListener;
import dev.resilience.core.RequestNotPermittedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A rate limiter's meters: permits by result, waits, available permits; rejections as span events. */
final class RateLimiterBinder {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.ratelimiter");

    private RateLimiterBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, RateLimiter limiter) {
        return t.bindWith(limiter, limiter.name(), b -> b.listening(limiter.addListener(new Events(t, b, limiter))));
    }

    private static final class Events implements RateLimiterListener {
        private final ResilienceTelemetry telemetry;
        private final Backends.CounterSeries permitted;
        private final Backends.CounterSeries rejected;
        private final Backends.TimerSeries waits;

        Events(ResilienceTelemetry telemetry, ResilienceTelemetry.Binding b, RateLimiter limiter) {
            this.telemetry = telemetry;
            permitted = b.set.counter("resilience.ratelimiter.permits", "permits asked for", "result", "permitted");
            rejected = b.set.counter("resilience.ratelimiter.permits", "permits asked for", "result", "rejected");
            waits = b.set.timer("resilience.ratelimiter.wait", "time callers that waited for permits waited");
            b.set.gauge("resilience.ratelimiter.available", "permits available now", limiter, RateLimiter::tokens);
        }

        @Override
        public void onPermitted(RateLimiter limiter, int permits, long waitedNanos) {
            permitted.add(permits);
            if (waitedNanos > 0) {
                waits.record(waitedNanos); // only calls that waited: the counter has them all
            }
        }

        @Override
        public void onRejected(RateLimiter limiter, int permits, RequestNotPermittedException.Reason reason) {
            rejected.add(permits);
            telemetry.rejection("ratelimiter", limiter.name(), reason, LOG);
        }
    }
}
