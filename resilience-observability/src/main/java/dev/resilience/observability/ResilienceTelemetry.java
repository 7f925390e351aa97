package dev.resilience.observability;

import dev.resilience.context.Registration;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Hedge;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.Retry;
import dev.resilience.core.Timeout;
import dev.resilience.pool.MessageQueue;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.Recycler;
import dev.resilience.pool.WorkerPool;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns the toolkit's listener events into Micrometer meters, OpenTelemetry
 * metrics and span events, and SLF4J log lines. The primitives themselves depend on none of these.
 *
 * <pre>{@code
 * ResilienceTelemetry telemetry = ResilienceTelemetry.builder()
 *         .meterRegistry(prometheusRegistry)       // any number of registries
 *         .openTelemetry(openTelemetry)            // optional
 *         .build();
 * CircuitBreaker breaker = CircuitBreaker.builder("payments").build();
 * ResilienceTelemetry.Binding b = telemetry.bind(breaker);   // one call: meters, span events, logs
 * ...
 * b.close();                                                   // removes the meters and the listener
 * }</pre>
 *
 * <p><b>Meters</b> (Micrometer names; OpenTelemetry uses the same names, timers as histograms in
 * seconds). Every series carries {@code name} (the primitive's name) plus the tags listed, whose
 * values come from small fixed sets:
 * <ul>
 *   <li>{@code resilience.ratelimiter.permits{result=permitted|rejected}}, {@code resilience.ratelimiter.wait}
 *       (calls that waited; likewise {@code resilience.bulkhead.wait}),
 *       gauge {@code resilience.ratelimiter.available}</li>
 *   <li>{@code resilience.circuitbreaker.calls{outcome=success|failure|slow|excluded|not_permitted}},
 *       {@code resilience.circuitbreaker.transitions{from, to}}, gauge
 *       {@code resilience.circuitbreaker.state{state}} (1 for the current state, 0 for the others)</li>
 *   <li>{@code resilience.retry.retries}, {@code resilience.retry.gave.up{reason=not_retryable|exhausted|deadline|budget|delay_too_long}}
 *       (budget rejections are {@code reason=budget})</li>
 *   <li>{@code resilience.bulkhead.calls{result=permitted|rejected}}, {@code resilience.bulkhead.wait},
 *       gauges {@code resilience.bulkhead.in.use}, {@code resilience.bulkhead.limit}</li>
 *   <li>{@code resilience.timeout.timeouts}, {@code resilience.hedge.hedges},
 *       {@code resilience.pipeline.calls{outcome=success|failure}}, {@code resilience.pipeline.duration}</li>
 *   <li>{@code resilience.adaptive.rejections}, gauges {@code resilience.adaptive.limit},
 *       {@code resilience.adaptive.in.flight}</li>
 *   <li>object pool: gauges {@code resilience.pool.size}, {@code resilience.pool.idle}, {@code resilience.pool.in.use},
 *       {@code resilience.pool.pending}, {@code resilience.pool.max}; {@code resilience.pool.borrow.wait},
 *       {@code resilience.pool.borrow.timeouts}, {@code resilience.pool.allocation.failures},
 *       {@code resilience.pool.leaks}, {@code resilience.pool.destroyed{reason}}</li>
 *   <li>worker pool: gauges {@code resilience.workers.active}, {@code resilience.workers.queued};
 *       function counters (totals read when scraped) {@code resilience.workers.completed},
 *       {@code resilience.workers.rejected}, {@code resilience.workers.failed},
 *       {@code resilience.workers.skipped}</li>
 *   <li>recycler: function counters {@code resilience.recycler.created}, {@code resilience.recycler.dropped};
 *       queue: gauge {@code resilience.queue.depth}</li>
 * </ul>
 *
 * <p><b>Spans.</b> With OpenTelemetry configured, the current span (if recording) gets an event for a
 * rate-limiter, bulkhead or breaker rejection ({@code resilience.rejected}), a scheduled retry
 * ({@code resilience.retry.scheduled}), a breaker state change
 * ({@code resilience.circuitbreaker.state_changed}), a timeout ({@code resilience.timeout}) and a
 * launched hedge ({@code resilience.hedge.launched}), with {@code resilience.*} attributes.
 *
 * <p><b>Logs</b> (SLF4J 2 fluent API, key-value pairs): breaker state changes at INFO on logger
 * {@code resilience.circuitbreaker}; rejections and retries at DEBUG on {@code resilience.ratelimiter},
 * {@code resilience.bulkhead}, {@code resilience.circuitbreaker}, {@code resilience.retry}; suspected
 * pool leaks at WARN on {@code resilience.pool}.
 *
 * <p><b>Binding.</b> {@code bind} registers the primitive's meters in every configured backend (the
 * timers, {@code ...wait}, {@code ...duration} and {@code ...roundtrip}, on their first recorded value) and
 * adds a listener to the primitive ({@code addListener}), whose events go straight to those meters
 * (no lookup per event). One small binder per kind of primitive does the work, in the shape of
 * Micrometer's {@code MeterBinder}s; this class is the front. Binding twice returns the same
 * {@link Binding}; {@link Binding#close()} removes the listener and the meters (bind again to bring
 * them back). Two telemetry instances may bind one primitive under one name to the same registry (a framework's and
 * the application's own): each event is counted once there, and the meters stay until the last of
 * those bindings closes. A pool's or worker pool's binding closes itself when the pool closes or terminates.
 * Names are unique per kind of primitive: binding another primitive of the same kind and name
 * replaces the binding (a rebuilt instance takes over its meters). Bindings and gauges hold their
 * primitive weakly: a collected primitive's meters are removed at the next {@code bind}.
 * An unbound primitive costs nothing here.
 */
public final class ResilienceTelemetry {


    private final Backends backends;
    private final boolean spanEvents;
    private final Tracer tracer;
    /** One binding per kind of primitive and name; each holds its primitive weakly. */
    private final Map<Key, Binding> bindings = new ConcurrentHashMap<>();
    /** Where the bindings' primitives go once collected: their meters are removed on the next bind. */
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    private final ReentrantLock bindingLock = new ReentrantLock();

    /**
     * A binding's place: the primitive's class and its name (what its meters are tagged with).
     * {@code equals} and {@code hashCode} are written out: a record's own are linked on first call
     * through {@code ObjectMethods}' bootstrap, a cost an application's startup would pay for a map key.
     */
    private record Key(Class<?> type, String name) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.type == type && k.name.equals(name);
        }

        @Override
        public int hashCode() {
            return 31 * type.hashCode() + name.hashCode();
        }
    }

    private ResilienceTelemetry(Builder b) {
        io.opentelemetry.api.metrics.Meter meter = b.openTelemetry == null ? null
                : b.openTelemetry.getMeter("dev.resilience");
        this.backends = new Backends(b.registries, meter);
        this.spanEvents = b.openTelemetry != null;
        this.tracer = b.openTelemetry == null ? null : b.openTelemetry.getTracer("dev.resilience");
    }

    /**
     * Wraps a task so that each invocation, that is each attempt a pipeline, retry or hedge makes,
     * runs in a span of its own named {@code spanName}, a child of the span current where it runs,
     * with attribute {@code resilience.attempt} (1, 2, ...); a failed attempt records its exception
     * and sets the span's status to error. Without OpenTelemetry configured, the task is returned
     * as is. Make one wrapper per call: the attempt count is the wrapper's.
     *
     * <pre>{@code
     * String body = pipeline.call(telemetry.spanPerAttempt("GET /quote", () -> fetchQuote()));
     * }</pre>
     */
    public <T> Callable<T> spanPerAttempt(String spanName, Callable<T> task) {
        Objects.requireNonNull(spanName, "spanName");
        Objects.requireNonNull(task, "task");
        if (tracer == null) {
            return task;
        }
        AtomicInteger attempts = new AtomicInteger();
        return () -> {
            Span span = tracer.spanBuilder(spanName).setAttribute(SpanKeys.R_ATTEMPT, (long) attempts.incrementAndGet()).startSpan();
            try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
                return task.call();
            } catch (Exception | Error e) {
                span.recordException(e);
                span.setStatus(StatusCode.ERROR);
                throw e;
            } finally {
                span.end();
            }
        };
    }

    /** Starts a configuration; with neither a registry nor OpenTelemetry it only logs. */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ binding

    /**
     * The meters and the listener of one bound primitive; {@link #close()} removes them from every
     * backend and from the primitive. It follows the primitive: binding another primitive of the
     * same kind and name replaces this binding (and closes it), and a primitive nobody references
     * any more is not kept alive by its binding, whose meters go at the next {@code bind}.
     */
    public final class Binding implements AutoCloseable {
        private final Key key;
        private final Held primitive;
        final Backends.Set set;
        private final List<Registration> listeners = new CopyOnWriteArrayList<>();
        private final AtomicBoolean disposed = new AtomicBoolean();

        Binding(Object primitive, Key key) {
            this.key = key;
            this.primitive = new Held(primitive, collected, this);
            this.set = backends.new Set(key.name(), primitive);
        }

        /** Keeps a listener registration, to remove on close. */
        void listening(Registration registration) {
            listeners.add(registration);
        }

        /** Removes this primitive's listener and meters; idempotent. */
        @Override
        public void close() {
            bindingLock.lock();
            try {
                bindings.remove(key, this);
                dispose();
            } finally {
                bindingLock.unlock();
            }
        }

        /**
         * Takes everything out, once: the meters first (another binding of the primitive writes to
         * them from then on; this one's listener, still called for a moment, writes nowhere and
         * registers nothing), then the listeners.
         */
        void dispose() {
            if (disposed.compareAndSet(false, true)) {
                try {
                    set.close();
                } finally {
                    for (Registration r : listeners) {
                        r.remove();
                    }
                }
            }
        }
    }

    /** A binding's primitive, held weakly; enqueued with its binding once collected. */
    private static final class Held extends WeakReference<Object> {
        final Binding binding;

        Held(Object primitive, ReferenceQueue<Object> queue, Binding binding) {
            super(primitive, queue);
            this.binding = binding;
        }
    }

    /**
     * Instruments a rate limiter (idempotent).
     *
     * @param limiter the limiter
     * @return its binding
     */
    public Binding bind(RateLimiter limiter) {
        return RateLimiterBinder.bind(this, limiter);
    }

    /**
     * Instruments a circuit breaker (idempotent).
     *
     * @param breaker the breaker
     * @return its binding
     */
    public Binding bind(CircuitBreaker breaker) {
        return CircuitBreakerBinder.bind(this, breaker);
    }

    /**
     * Instruments a client-side throttle (idempotent): calls by result and the drop ratio.
     *
     * @param throttle the throttle
     * @return its binding
     */
    public Binding bind(AdaptiveThrottle throttle) {
        return AdaptiveThrottleBinder.bind(this, throttle);
    }

    /**
     * Instruments a retry (idempotent).
     *
     * @param retry the retry
     * @return its binding
     */
    public Binding bind(Retry retry) {
        return RetryBinder.bind(this, retry);
    }

    /**
     * Instruments a bulkhead (idempotent).
     *
     * @param bulkhead the bulkhead
     * @return its binding
     */
    public Binding bind(Bulkhead bulkhead) {
        return BulkheadBinder.bind(this, bulkhead);
    }

    /**
     * Instruments an adaptive limiter (idempotent).
     *
     * @param limiter the limiter
     * @return its binding
     */
    public Binding bind(AdaptiveLimiter limiter) {
        return AdaptiveLimiterBinder.bind(this, limiter);
    }

    /**
     * Instruments a timeout policy (idempotent).
     *
     * @param timeout the policy
     * @return its binding
     */
    public Binding bind(Timeout timeout) {
        return TimeoutBinder.bind(this, timeout);
    }

    /**
     * Instruments a hedging policy (idempotent).
     *
     * @param hedge the policy
     * @return its binding
     */
    public Binding bind(Hedge hedge) {
        return HedgeBinder.bind(this, hedge);
    }

    /**
     * Instruments a pipeline (idempotent): the pipeline's own calls, not its policies (bind those too).
     *
     * @param pipeline the pipeline
     * @return its binding
     */
    public Binding bind(Pipeline<?> pipeline) {
        return PipelineBinder.bind(this, pipeline);
    }

    /**
     * Instruments any policy of this library by its type (idempotent), e.g. every instance a
     * registry built; {@code DistributedLimiterTelemetry} binds the Redis limiters.
     *
     * @param policy a rate limiter, circuit breaker, adaptive throttle, retry, bulkhead, adaptive limiter,
     *     timeout or hedge
     * @return its binding
     * @throws IllegalArgumentException for any other policy (a pipeline's own calls: {@link #bind(Pipeline)})
     */
    public Binding bind(Policy policy) {
        Objects.requireNonNull(policy, "policy");
        if (policy instanceof RateLimiter) {
            return bind((RateLimiter) policy);
        } else if (policy instanceof CircuitBreaker) {
            return bind((CircuitBreaker) policy);
        } else if (policy instanceof AdaptiveThrottle) {
            return bind((AdaptiveThrottle) policy);
        } else if (policy instanceof Retry) {
            return bind((Retry) policy);
        } else if (policy instanceof Bulkhead) {
            return bind((Bulkhead) policy);
        } else if (policy instanceof AdaptiveLimiter) {
            return bind((AdaptiveLimiter) policy);
        } else if (policy instanceof Timeout) {
            return bind((Timeout) policy);
        } else if (policy instanceof Hedge) {
            return bind((Hedge) policy);
        }
        throw new IllegalArgumentException("no telemetry for policy '" + policy.name() + "' of type "
                + policy.getClass().getName());
    }

    /**
     * Instruments an object pool (idempotent); the binding closes when the pool closes.
     *
     * @param pool the pool
     * @return its binding
     */
    public Binding bind(ObjectPool<?> pool) {
        return PoolBinders.bind(this, pool);
    }

    /**
     * Instruments a worker pool (idempotent): gauges, and failed tasks logged at WARN on
     * {@code resilience.workers}; the binding closes when the pool terminates.
     *
     * @param workers the pool
     * @return its binding
     */
    public Binding bind(WorkerPool workers) {
        return PoolBinders.bind(this, workers);
    }

    /**
     * Registers a recycler's gauges under {@code name} (idempotent).
     *
     * @param name the name tag
     * @param recycler the recycler
     * @return its binding
     */
    public Binding bind(String name, Recycler<?> recycler) {
        return PoolBinders.bind(this, name, recycler);
    }

    /**
     * Registers a queue's depth and capacity gauges under {@code name} (idempotent).
     *
     * @param name the name tag
     * @param queue the queue
     * @return its binding
     */
    public Binding bind(String name, MessageQueue<?> queue) {
        return PoolBinders.bind(this, name, queue);
    }

    /**
     * The binding of {@code primitive}, made by {@code register} if there is none: what every binder
     * calls. A binding of another primitive of the same kind and name is replaced (its meters are
     * removed before the new ones are registered, so they read the new primitive).
     */
    Binding bindWith(Object primitive, String name, Consumer<Binding> register) {
        Objects.requireNonNull(primitive, "primitive");
        Objects.requireNonNull(name, "name");
        expungeCollected();
        Key key = new Key(primitive.getClass(), name);
        Binding existing = bindings.get(key);
        if (existing != null && existing.primitive.get() == primitive) {
            return existing; // the common case, without the lock
        }
        // Binding, replacing, closing and clearing are rare: one lock keeps a binding's meters and
        // listener from being removed while it is being made, and a replacement's from being taken
        // by the old binding's removal.
        bindingLock.lock();
        try {
            existing = bindings.get(key);
            if (existing != null && existing.primitive.get() == primitive) {
                return existing;
            }
            if (existing != null) {
                bindings.remove(key, existing); // even if disposing throws, no later bind returns it
                existing.dispose(); // same-name replacement: the old primitive's meters go first
            }
            Binding fresh = new Binding(primitive, key);
            bindings.put(key, fresh);
            try {
                register.accept(fresh);
            } catch (Throwable e) {
                // a registry that refused a meter: no half-made binding stays for the next bind to return
                bindings.remove(key, fresh);
                try {
                    fresh.dispose();
                } catch (Throwable cleanup) {
                    e.addSuppressed(cleanup); // the registry's refusal is what the caller hears
                }
                throw e;
            }
            return fresh;
        } finally {
            bindingLock.unlock();
        }
    }

    /** Clears the bindings of primitives that were collected. */
    private void expungeCollected() {
        for (Reference<?> r; (r = collected.poll()) != null; ) {
            try {
                ((Held) r).binding.close(); // takes the lock: never while another binding is being made
            } catch (RuntimeException e) { // a registry's listener: not the failure of the bind under way
                LoggerFactory.getLogger("resilience.telemetry").atWarn()
                        .setMessage("could not clear the meters of a collected primitive").setCause(e).log();
            }
        }
    }

    /** How many bindings are open (for tests). */
    int bindingCount() {
        expungeCollected();
        return bindings.size();
    }

    /**
     * The span an event should go to: the current one if span events are on (OpenTelemetry is bound)
     * and it records, else null. Callers build the event's attributes only when they get a span, so
     * an application without OpenTelemetry, or a call outside any sampled span, neither loads its
     * classes nor allocates attributes.
     */
    Span recordingSpan() {
        if (!spanEvents) {
            return null;
        }
        Span span = Span.current();
        return span.isRecording() ? span : null;
    }

    /** A refusal: a span event and a DEBUG line. */
    void rejection(String kind, String name, Enum<?> reason, Logger log) {
        Span span = recordingSpan();
        if (span != null) {
            span.addEvent("resilience.rejected", Attributes.of(SpanKeys.R_KIND, kind, SpanKeys.R_NAME, name,
                    SpanKeys.R_REASON, lower(reason)));
        }
        log.atDebug().setMessage("call rejected").addKeyValue("kind", kind).addKeyValue("name", name)
                .addKeyValue("reason", lower(reason)).log();
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** Configures a {@link ResilienceTelemetry}. */
    public static final class Builder {
        private final List<MeterRegistry> registries = new ArrayList<>();
        private OpenTelemetry openTelemetry;

        private Builder() {
        }

        /**
         * Adds a Micrometer registry; call again to publish to several. A registry added twice is
         * published to once.
         *
         * @throws NullPointerException if {@code registry} is null
         */
        public Builder meterRegistry(MeterRegistry registry) {
            Objects.requireNonNull(registry, "registry");
            for (MeterRegistry r : registries) {
                if (r == registry) {
                    return this;
                }
            }
            registries.add(registry);
            return this;
        }

        /** Publishes metrics through this OpenTelemetry's meter and span events on its current span. */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /**
         * The telemetry.
         *
         * @throws IllegalArgumentException with more than 63 registries (64 without OpenTelemetry)
         */
        public ResilienceTelemetry build() {
            return new ResilienceTelemetry(this);
        }
    }
}
