package dev.resilience.core;

import dev.resilience.context.internal.Listeners;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The guarded fan-out listener of every listener interface of this package: it tells each member in
 * turn, and what a member throws is logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}) and goes no further: a listener never changes an outcome,
 * leaks a permit or a slot, leaves a stage pending, or keeps the next listener from hearing the
 * event. {@link Listeners} holds them; builders and {@code addListener} feed it.
 */
final class GuardedListeners {

    /** Made on first use: looking up the logging backend is not free, and most runs never log here. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger("dev.resilience.core.listener");
    }
    private static final AtomicLong FAILURES = new AtomicLong();

    private GuardedListeners() {
    }

    /** Logs the 1st, 2nd, 4th, 8th, ... failure: a listener failing on every call does not flood the log. */
    static void failed(Object listener, String method, Throwable e) {
        long n = FAILURES.incrementAndGet();
        if (Long.bitCount(n) != 1) {
            return;
        }
        try {
            Log.LOG.log(System.Logger.Level.ERROR, listener.getClass().getName() + "." + method
                    + " threw; the event was dropped, nothing else changed (listener failure #" + n + ")", e);
        } catch (Throwable ignored) {
            // logging itself failed: nothing left to tell
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<RateLimiterListener> ofRateLimiter(List<RateLimiterListener> initial) {
        return new Listeners<>(RateLimiterListener.NOOP, RateLimiterFanout::new, initial);
    }

    private static final class RateLimiterFanout implements RateLimiterListener {
        private final Object[] members;

        RateLimiterFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onPermitted(RateLimiter limiter, int permits, long waitedNanos) {
            for (Object m : members) {
                try {
                    ((RateLimiterListener) m).onPermitted(limiter, permits, waitedNanos);
                } catch (Throwable e) {
                    failed(m, "onPermitted", e);
                }
            }
        }

        @Override
        public void onRejected(RateLimiter limiter, int permits, RequestNotPermittedException.Reason reason) {
            for (Object m : members) {
                try {
                    ((RateLimiterListener) m).onRejected(limiter, permits, reason);
                } catch (Throwable e) {
                    failed(m, "onRejected", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<CircuitBreakerListener> ofCircuitBreaker(List<CircuitBreakerListener> initial) {
        return new Listeners<>(CircuitBreakerListener.NOOP, CircuitBreakerFanout::new, initial);
    }

    private static final class CircuitBreakerFanout implements CircuitBreakerListener {
        private final Object[] members;

        CircuitBreakerFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to) {
            for (Object m : members) {
                try {
                    ((CircuitBreakerListener) m).onStateChange(breaker, from, to);
                } catch (Throwable e) {
                    failed(m, "onStateChange", e);
                }
            }
        }

        @Override
        public void onNotPermitted(CircuitBreaker breaker, CircuitBreaker.State state) {
            for (Object m : members) {
                try {
                    ((CircuitBreakerListener) m).onNotPermitted(breaker, state);
                } catch (Throwable e) {
                    failed(m, "onNotPermitted", e);
                }
            }
        }

        @Override
        public void onSuccess(CircuitBreaker breaker) {
            for (Object m : members) {
                try {
                    ((CircuitBreakerListener) m).onSuccess(breaker);
                } catch (Throwable e) {
                    failed(m, "onSuccess", e);
                }
            }
        }

        @Override
        public void onFailure(CircuitBreaker breaker, Throwable failure) {
            for (Object m : members) {
                try {
                    ((CircuitBreakerListener) m).onFailure(breaker, failure);
                } catch (Throwable e) {
                    failed(m, "onFailure", e);
                }
            }
        }

        @Override
        public void onSlowCall(CircuitBreaker breaker, long durationNanos) {
            for (Object m : members) {
                try {
                    ((CircuitBreakerListener) m).onSlowCall(breaker, durationNanos);
                } catch (Throwable e) {
                    failed(m, "onSlowCall", e);
                }
            }
        }

        @Override
        public void onExcluded(CircuitBreaker breaker, Throwable failure) {
            for (Object m : members) {
                try {
                    ((CircuitBreakerListener) m).onExcluded(breaker, failure);
                } catch (Throwable e) {
                    failed(m, "onExcluded", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<RetryListener> ofRetry(List<RetryListener> initial) {
        return new Listeners<>(RetryListener.NOOP, RetryFanout::new, initial);
    }

    private static final class RetryFanout implements RetryListener {
        private final Object[] members;

        RetryFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
            for (Object m : members) {
                try {
                    ((RetryListener) m).onRetry(retry, attempt, delayNanos, failure);
                } catch (Throwable e) {
                    failed(m, "onRetry", e);
                }
            }
        }

        @Override
        public void onGiveUp(Retry retry, int attempts, RetryListener.GiveUp reason) {
            for (Object m : members) {
                try {
                    ((RetryListener) m).onGiveUp(retry, attempts, reason);
                } catch (Throwable e) {
                    failed(m, "onGiveUp", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<BulkheadListener> ofBulkhead(List<BulkheadListener> initial) {
        return new Listeners<>(BulkheadListener.NOOP, BulkheadFanout::new, initial);
    }

    private static final class BulkheadFanout implements BulkheadListener {
        private final Object[] members;

        BulkheadFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onPermitted(Bulkhead bulkhead, long waitedNanos) {
            for (Object m : members) {
                try {
                    ((BulkheadListener) m).onPermitted(bulkhead, waitedNanos);
                } catch (Throwable e) {
                    failed(m, "onPermitted", e);
                }
            }
        }

        @Override
        public void onRejected(Bulkhead bulkhead) {
            for (Object m : members) {
                try {
                    ((BulkheadListener) m).onRejected(bulkhead);
                } catch (Throwable e) {
                    failed(m, "onRejected", e);
                }
            }
        }

        @Override
        public void onReleased(Bulkhead bulkhead) {
            for (Object m : members) {
                try {
                    ((BulkheadListener) m).onReleased(bulkhead);
                } catch (Throwable e) {
                    failed(m, "onReleased", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<AdaptiveLimiterListener> ofAdaptiveLimiter(List<AdaptiveLimiterListener> initial) {
        return new Listeners<>(AdaptiveLimiterListener.NOOP, AdaptiveLimiterFanout::new, initial);
    }

    private static final class AdaptiveLimiterFanout implements AdaptiveLimiterListener {
        private final Object[] members;

        AdaptiveLimiterFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onLimitChanged(AdaptiveLimiter limiter, int oldLimit, int newLimit) {
            for (Object m : members) {
                try {
                    ((AdaptiveLimiterListener) m).onLimitChanged(limiter, oldLimit, newLimit);
                } catch (Throwable e) {
                    failed(m, "onLimitChanged", e);
                }
            }
        }

        @Override
        public void onRejected(AdaptiveLimiter limiter) {
            for (Object m : members) {
                try {
                    ((AdaptiveLimiterListener) m).onRejected(limiter);
                } catch (Throwable e) {
                    failed(m, "onRejected", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<TimeoutListener> ofTimeout(List<TimeoutListener> initial) {
        return new Listeners<>(TimeoutListener.NOOP, TimeoutFanout::new, initial);
    }

    private static final class TimeoutFanout implements TimeoutListener {
        private final Object[] members;

        TimeoutFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onTimeout(Timeout timeout) {
            for (Object m : members) {
                try {
                    ((TimeoutListener) m).onTimeout(timeout);
                } catch (Throwable e) {
                    failed(m, "onTimeout", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<HedgeListener> ofHedge(List<HedgeListener> initial) {
        return new Listeners<>(HedgeListener.NOOP, HedgeFanout::new, initial);
    }

    private static final class HedgeFanout implements HedgeListener {
        private final Object[] members;

        HedgeFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onHedge(Hedge hedge, int attempt) {
            for (Object m : members) {
                try {
                    ((HedgeListener) m).onHedge(hedge, attempt);
                } catch (Throwable e) {
                    failed(m, "onHedge", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<PipelineListener> ofPipeline(List<PipelineListener> initial) {
        return new Listeners<>(PipelineListener.NOOP, PipelineFanout::new, initial);
    }

    private static final class PipelineFanout implements PipelineListener {
        private final Object[] members;

        PipelineFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
            for (Object m : members) {
                try {
                    ((PipelineListener) m).onCall(pipeline, durationNanos, failure);
                } catch (Throwable e) {
                    failed(m, "onCall", e);
                }
            }
        }
    }

    /** The listeners of one primitive, starting with {@code initial}. */
    static Listeners<AdaptiveThrottleListener> ofAdaptiveThrottle(List<AdaptiveThrottleListener> initial) {
        return new Listeners<>(AdaptiveThrottleListener.NOOP, AdaptiveThrottleFanout::new, initial);
    }

    private static final class AdaptiveThrottleFanout implements AdaptiveThrottleListener {
        private final Object[] members;

        AdaptiveThrottleFanout(Object[] members) {
            this.members = members;
        }

        @Override
        public void onRejected(AdaptiveThrottle throttle, double dropRatio) {
            for (Object m : members) {
                try {
                    ((AdaptiveThrottleListener) m).onRejected(throttle, dropRatio);
                } catch (Throwable e) {
                    failed(m, "onRejected", e);
                }
            }
        }

        @Override
        public void onAccepted(AdaptiveThrottle throttle) {
            for (Object m : members) {
                try {
                    ((AdaptiveThrottleListener) m).onAccepted(throttle);
                } catch (Throwable e) {
                    failed(m, "onAccepted", e);
                }
            }
        }

        @Override
        public void onFailure(AdaptiveThrottle throttle, Throwable failure) {
            for (Object m : members) {
                try {
                    ((AdaptiveThrottleListener) m).onFailure(throttle, failure);
                } catch (Throwable e) {
                    failed(m, "onFailure", e);
                }
            }
        }
    }
}
