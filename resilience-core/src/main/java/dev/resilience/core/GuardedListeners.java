package dev.resilience.core;

/**
 * Wraps user listeners so that what they throw is logged through {@link System.Logger} and goes no
 * further: a listener never changes an outcome, leaks a permit or a slot, or leaves a stage
 * pending. The no-op listeners are returned as they are, so the default costs nothing.
 */
final class GuardedListeners {

    private static final System.Logger LOG = System.getLogger("dev.resilience.core.listener");

    private GuardedListeners() {
    }

    private static final java.util.concurrent.atomic.AtomicLong FAILURES = new java.util.concurrent.atomic.AtomicLong();

    /** Logs the 1st, 2nd, 4th, 8th, ... failure: a listener failing on every call does not flood the log. */
    static void failed(Object listener, String method, Throwable e) {
        long n = FAILURES.incrementAndGet();
        if (Long.bitCount(n) != 1) {
            return;
        }
        try {
            LOG.log(System.Logger.Level.ERROR, listener.getClass().getName() + "." + method
                    + " threw; the event was dropped, nothing else changed (listener failure #" + n + ")", e);
        } catch (Throwable ignored) {
            // logging itself failed: nothing left to tell
        }
    }

    static RateLimiterListener of(RateLimiterListener l) {
        if (l == RateLimiterListener.NOOP) {
            return l;
        }
        return new RateLimiterListener() {
            @Override
            public void onPermitted(RateLimiter limiter, int permits, long waitedNanos) {
                try {
                    l.onPermitted(limiter, permits, waitedNanos);
                } catch (Throwable e) {
                    failed(l, "onPermitted", e);
                }
            }

            @Override
            public void onRejected(RateLimiter limiter, int permits, RequestNotPermittedException.Reason reason) {
                try {
                    l.onRejected(limiter, permits, reason);
                } catch (Throwable e) {
                    failed(l, "onRejected", e);
                }
            }
        };
    }

    static CircuitBreakerListener of(CircuitBreakerListener l) {
        if (l == CircuitBreakerListener.NOOP) {
            return l;
        }
        return new CircuitBreakerListener() {
            @Override
            public void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to) {
                try {
                    l.onStateChange(breaker, from, to);
                } catch (Throwable e) {
                    failed(l, "onStateChange", e);
                }
            }

            @Override
            public void onNotPermitted(CircuitBreaker breaker, CircuitBreaker.State state) {
                try {
                    l.onNotPermitted(breaker, state);
                } catch (Throwable e) {
                    failed(l, "onNotPermitted", e);
                }
            }

            @Override
            public void onSuccess(CircuitBreaker breaker) {
                try {
                    l.onSuccess(breaker);
                } catch (Throwable e) {
                    failed(l, "onSuccess", e);
                }
            }

            @Override
            public void onFailure(CircuitBreaker breaker, Throwable failure) {
                try {
                    l.onFailure(breaker, failure);
                } catch (Throwable e) {
                    failed(l, "onFailure", e);
                }
            }

            @Override
            public void onSlowCall(CircuitBreaker breaker, long durationNanos) {
                try {
                    l.onSlowCall(breaker, durationNanos);
                } catch (Throwable e) {
                    failed(l, "onSlowCall", e);
                }
            }

            @Override
            public void onExcluded(CircuitBreaker breaker, Throwable failure) {
                try {
                    l.onExcluded(breaker, failure);
                } catch (Throwable e) {
                    failed(l, "onExcluded", e);
                }
            }
        };
    }

    static RetryListener of(RetryListener l) {
        if (l == RetryListener.NOOP) {
            return l;
        }
        return new RetryListener() {
            @Override
            public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                try {
                    l.onRetry(retry, attempt, delayNanos, failure);
                } catch (Throwable e) {
                    failed(l, "onRetry", e);
                }
            }

            @Override
            public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
                try {
                    l.onGiveUp(retry, attempts, reason);
                } catch (Throwable e) {
                    failed(l, "onGiveUp", e);
                }
            }
        };
    }

    static BulkheadListener of(BulkheadListener l) {
        if (l == BulkheadListener.NOOP) {
            return l;
        }
        return new BulkheadListener() {
            @Override
            public void onPermitted(Bulkhead bulkhead, long waitedNanos) {
                try {
                    l.onPermitted(bulkhead, waitedNanos);
                } catch (Throwable e) {
                    failed(l, "onPermitted", e);
                }
            }

            @Override
            public void onRejected(Bulkhead bulkhead) {
                try {
                    l.onRejected(bulkhead);
                } catch (Throwable e) {
                    failed(l, "onRejected", e);
                }
            }

            @Override
            public void onReleased(Bulkhead bulkhead) {
                try {
                    l.onReleased(bulkhead);
                } catch (Throwable e) {
                    failed(l, "onReleased", e);
                }
            }
        };
    }

    static AdaptiveLimiterListener of(AdaptiveLimiterListener l) {
        if (l == AdaptiveLimiterListener.NOOP) {
            return l;
        }
        return new AdaptiveLimiterListener() {
            @Override
            public void onLimitChanged(AdaptiveLimiter limiter, int oldLimit, int newLimit) {
                try {
                    l.onLimitChanged(limiter, oldLimit, newLimit);
                } catch (Throwable e) {
                    failed(l, "onLimitChanged", e);
                }
            }

            @Override
            public void onRejected(AdaptiveLimiter limiter) {
                try {
                    l.onRejected(limiter);
                } catch (Throwable e) {
                    failed(l, "onRejected", e);
                }
            }
        };
    }

    static TimeoutListener of(TimeoutListener l) {
        if (l == TimeoutListener.NOOP) {
            return l;
        }
        return new TimeoutListener() {
            @Override
            public void onTimeout(Timeout timeout) {
                try {
                    l.onTimeout(timeout);
                } catch (Throwable e) {
                    failed(l, "onTimeout", e);
                }
            }
        };
    }

    static HedgeListener of(HedgeListener l) {
        if (l == HedgeListener.NOOP) {
            return l;
        }
        return new HedgeListener() {
            @Override
            public void onHedge(Hedge hedge, int attempt) {
                try {
                    l.onHedge(hedge, attempt);
                } catch (Throwable e) {
                    failed(l, "onHedge", e);
                }
            }
        };
    }

    static PipelineListener of(PipelineListener l) {
        if (l == PipelineListener.NOOP) {
            return l;
        }
        return new PipelineListener() {
            @Override
            public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
                try {
                    l.onCall(pipeline, durationNanos, failure);
                } catch (Throwable e) {
                    failed(l, "onCall", e);
                }
            }
        };
    }
}
