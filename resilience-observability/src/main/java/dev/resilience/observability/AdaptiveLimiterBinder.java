package dev.resilience.observability;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.AdaptiveLimiterListener;

/** An adaptive limiter's meters: rejections, the current limit, calls in flight. */
final class AdaptiveLimiterBinder {

    private AdaptiveLimiterBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, AdaptiveLimiter limiter) {
        return t.bindWith(limiter, limiter.name(), b -> b.listening(limiter.addListener(new Events(b, limiter))));
    }

    private static final class Events implements AdaptiveLimiterListener {
        private final Backends.CounterSeries rejected;

        Events(ResilienceTelemetry.Binding b, AdaptiveLimiter limiter) {
            rejected = b.set.counter("resilience.adaptive.rejections", "calls rejected at the limit");
            b.set.gauge("resilience.adaptive.limit", "the current limit", limiter, AdaptiveLimiter::limit);
            b.set.gauge("resilience.adaptive.in.flight", "calls in flight", limiter, AdaptiveLimiter::inFlight);
        }

        @Override
        public void onRejected(AdaptiveLimiter limiter) {
            rejected.add(1);
        }
    }
}
