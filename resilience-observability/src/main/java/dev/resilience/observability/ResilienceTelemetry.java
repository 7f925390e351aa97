package dev.resilience.observability;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.AdaptiveLimiterListener;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.BulkheadListener;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.CircuitBreakerListener;
import dev.resilience.core.Hedge;
import dev.resilience.core.HedgeListener;
import dev.resilience.core.Pipeline;
import dev.resilience.core.PipelineListener;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RateLimiterListener;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryListener;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutListener;
import dev.resilience.pool.MessageQueue;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.PoolListener;
import dev.resilience.pool.Recycler;
import dev.resilience.pool.WorkerPool;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
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
 * CircuitBreaker breaker = CircuitBreaker.builder("payments")
 *         .listener(telemetry.circuitBreakerListener())
 *         .build();
 * ResilienceTelemetry.Binding b = telemetry.bind(breaker);   // gauges; counters appear with events
 * ...
 * b.close();                                                   // removes the meters
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
 *   <li>worker pool: gauges {@code resilience.workers.active}, {@code resilience.workers.queued},
 *       {@code resilience.workers.completed}, {@code resilience.workers.rejected},
 *       {@code resilience.workers.failed}, {@code resilience.workers.skipped}</li>
 *   <li>recycler: gauges {@code resilience.recycler.created}, {@code resilience.recycler.dropped};
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
 * <p><b>Binding.</b> The listeners find a primitive's instruments by identity; a primitive that sends
 * an event before {@link #bind} is bound then. Binding twice returns the same {@link Binding};
 * {@link Binding#close()} removes its meters (bind again to bring them back). A primitive built
 * without one of these listeners costs nothing here.
 */
public final class ResilienceTelemetry {

    static final AttributeKey<String> R_NAME = AttributeKey.stringKey("resilience.name");
    static final AttributeKey<String> R_KIND = AttributeKey.stringKey("resilience.kind");
    static final AttributeKey<String> R_REASON = AttributeKey.stringKey("resilience.reason");
    static final AttributeKey<String> R_FROM = AttributeKey.stringKey("resilience.from");
    static final AttributeKey<String> R_TO = AttributeKey.stringKey("resilience.to");
    static final AttributeKey<Long> R_ATTEMPT = AttributeKey.longKey("resilience.attempt");
    static final AttributeKey<Double> R_DELAY = AttributeKey.doubleKey("resilience.delay_s");

    private static final Logger BREAKER_LOG = LoggerFactory.getLogger("resilience.circuitbreaker");
    private static final Logger LIMITER_LOG = LoggerFactory.getLogger("resilience.ratelimiter");
    private static final Logger BULKHEAD_LOG = LoggerFactory.getLogger("resilience.bulkhead");
    private static final Logger RETRY_LOG = LoggerFactory.getLogger("resilience.retry");
    private static final Logger POOL_LOG = LoggerFactory.getLogger("resilience.pool");
    private static final Logger TIMEOUT_LOG = LoggerFactory.getLogger("resilience.timeout");
    private static final Logger WORKERS_LOG = LoggerFactory.getLogger("resilience.workers");

    private final Backends backends;
    private final boolean spanEvents;
    private final Tracer tracer;
    private final Map<Object, Binding> bindings = new ConcurrentHashMap<>();

    private final RateLimiterListener rateLimiterListener = new LimiterEvents();
    private final CircuitBreakerListener circuitBreakerListener = new BreakerEvents();
    private final RetryListener retryListener = new RetryEvents();
    private final BulkheadListener bulkheadListener = new BulkheadEvents();
    private final AdaptiveLimiterListener adaptiveLimiterListener = new AdaptiveEvents();
    private final TimeoutListener timeoutListener = new TimeoutEvents();
    private final HedgeListener hedgeListener = new HedgeEvents();
    private final PipelineListener pipelineListener = new PipelineEvents();

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
            Span span = tracer.spanBuilder(spanName).setAttribute(R_ATTEMPT, (long) attempts.incrementAndGet()).startSpan();
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

    // ------------------------------------------------------------------ listeners

    /** The listener to give {@code RateLimiter.Builder.listener}. */
    public RateLimiterListener rateLimiterListener() {
        return rateLimiterListener;
    }

    /** The listener to give {@code CircuitBreaker.Builder.listener}. */
    public CircuitBreakerListener circuitBreakerListener() {
        return circuitBreakerListener;
    }

    /** The listener to give {@code Retry.Builder.listener}. */
    public RetryListener retryListener() {
        return retryListener;
    }

    /** The listener to give {@code Bulkhead.Builder.listener}. */
    public BulkheadListener bulkheadListener() {
        return bulkheadListener;
    }

    /** The listener to give {@code AdaptiveLimiter.Builder.listener}. */
    public AdaptiveLimiterListener adaptiveLimiterListener() {
        return adaptiveLimiterListener;
    }

    /** The listener to give {@code Timeout.Builder.listener}. */
    public TimeoutListener timeoutListener() {
        return timeoutListener;
    }

    /** The listener to give {@code Hedge.Builder.listener}. */
    public HedgeListener hedgeListener() {
        return hedgeListener;
    }

    /** The listener to give {@code Pipeline.Builder.listener}. */
    public PipelineListener pipelineListener() {
        return pipelineListener;
    }

    /**
     * The listener to give {@code ObjectPool.Builder.listener} for the pool named {@code poolName}
     * (pool events do not carry the pool); bind the pool under the same name.
     */
    public PoolListener poolListener(String poolName) {
        Objects.requireNonNull(poolName, "poolName");
        return new PoolEvents(poolName);
    }

    // ------------------------------------------------------------------ binding

    /** The instruments of one bound primitive; {@link #close()} removes them from every backend. */
    public final class Binding implements AutoCloseable {
        private final Object primitive;
        final Backends.Set set;
        volatile boolean open = true;

        Binding(Object primitive, String name) {
            this.primitive = primitive;
            this.set = backends.new Set(name);
        }

        /** Removes this primitive's meters; idempotent. */
        @Override
        public void close() {
            if (bindings.remove(primitive, this)) {
                open = false;
                set.close();
            }
        }
    }

    /** Registers a rate limiter's meters (idempotent). */
    public Binding bind(RateLimiter limiter) {
        return limiterInstruments(limiter).binding;
    }

    /** Registers a circuit breaker's meters (idempotent). */
    public Binding bind(CircuitBreaker breaker) {
        return breakerInstruments(breaker).binding;
    }

    /** Registers a retry's meters (idempotent). */
    public Binding bind(Retry retry) {
        return retryInstruments(retry).binding;
    }

    /** Registers a bulkhead's meters (idempotent). */
    public Binding bind(Bulkhead bulkhead) {
        return bulkheadInstruments(bulkhead).binding;
    }

    /** Registers an adaptive limiter's meters (idempotent). */
    public Binding bind(AdaptiveLimiter limiter) {
        return adaptiveInstruments(limiter).binding;
    }

    /** Registers a timeout policy's meters (idempotent). */
    public Binding bind(Timeout timeout) {
        return timeoutInstruments(timeout).binding;
    }

    /** Registers a pipeline's meters (idempotent). */
    public Binding bind(Pipeline<?> pipeline) {
        return pipelineInstruments(pipeline).binding;
    }

    /** Registers a hedging policy's meters (idempotent). */
    public Binding bind(Hedge hedge) {
        return hedgeInstruments(hedge).binding;
    }

    /** Registers an object pool's gauges (its events come through {@link #poolListener(String)}). */
    public Binding bind(ObjectPool<?> pool) {
        return bindWith(pool, pool.name(), set -> {
            set.gauge("resilience.pool.size", "objects allocated", pool::size);
            set.gauge("resilience.pool.idle", "idle objects", pool::idle);
            set.gauge("resilience.pool.in.use", "objects lent out", () -> Math.max(0, pool.size() - pool.idle()));
            set.gauge("resilience.pool.pending", "borrowers waiting", pool::pendingBorrowers);
            set.gauge("resilience.pool.max", "maximum size", pool::maxSize);
        });
    }

    /**
     * The listener to give {@code WorkerPool.Builder.listener}: logs task failures at WARN on
     * {@code resilience.workers} and removes the pool's meters (bound under {@code name}) when it
     * terminates.
     */
    public WorkerPool.Listener workerPoolListener(String name) {
        Objects.requireNonNull(name, "name");
        return new WorkerPool.Listener() {
            @Override
            public void taskFailed(Runnable task, Throwable error) {
                WORKERS_LOG.atWarn().setMessage("worker pool task failed").addKeyValue("name", name).setCause(error).log();
            }

            @Override
            public void terminated() {
                for (Binding b : bindings.values()) {
                    if (b.primitive instanceof WorkerPool && b.set.name().equals(name)) {
                        b.close();
                    }
                }
            }
        };
    }

    /** Registers a worker pool's gauges. */
    public Binding bind(String name, WorkerPool workers) {
        Objects.requireNonNull(workers, "workers");
        return bindWith(workers, name, set -> {
            set.gauge("resilience.workers.active", "workers running a task", workers::active);
            set.gauge("resilience.workers.queued", "tasks waiting", workers::queued);
            set.gauge("resilience.workers.completed", "tasks finished", workers::completed);
            set.gauge("resilience.workers.rejected", "tasks rejected", workers::rejected);
            set.gauge("resilience.workers.failed", "tasks that threw", workers::failed);
            set.gauge("resilience.workers.skipped", "tasks skipped because their context ended", workers::skipped);
        });
    }

    /** Registers a recycler's gauges. */
    public Binding bind(String name, Recycler<?> recycler) {
        Objects.requireNonNull(recycler, "recycler");
        return bindWith(recycler, name, set -> {
            set.gauge("resilience.recycler.created", "objects made by the factory", recycler::created);
            set.gauge("resilience.recycler.dropped", "released objects dropped", recycler::dropped);
        });
    }

    /** Registers a queue's depth gauge. */
    public Binding bind(String name, MessageQueue<?> queue) {
        Objects.requireNonNull(queue, "queue");
        return bindWith(queue, name, set -> {
            set.gauge("resilience.queue.depth", "elements in the queue (estimate)", queue::size);
            set.gauge("resilience.queue.capacity", "the queue's capacity", queue::capacity);
        });
    }

    private Binding bindWith(Object primitive, String name, Consumer<Backends.Set> register) {
        Objects.requireNonNull(primitive, "primitive");
        Objects.requireNonNull(name, "name");
        return bindings.computeIfAbsent(primitive, p -> {
            Binding b = new Binding(p, name);
            register.accept(b.set);
            return b;
        });
    }

    private final Map<Object, Instruments> instruments = new ConcurrentHashMap<>();

    /**
     * The event-side instruments of a primitive: a map lookup by identity and a volatile read on the
     * hot path; made (and the primitive bound) on first use, or again after its binding was closed.
     */
    @SuppressWarnings("unchecked")
    <I extends Instruments> I instrumentsFor(Object primitive, String name, Function<Binding, I> make) {
        Instruments existing = instruments.get(primitive);
        if (existing != null && existing.binding.open) {
            return (I) existing;
        }
        Binding b = bindWith(primitive, name, set -> { });
        return (I) instruments.compute(primitive, (p, old) -> old != null && old.binding == b ? old : make.apply(b));
    }

    /** What every instrument holder knows: its binding. */
    abstract static class Instruments {
        final Binding binding;

        Instruments(Binding binding) {
            this.binding = binding;
        }
    }

    void spanEvent(String event, Attributes attributes) {
        if (spanEvents) {
            Span span = Span.current();
            if (span.isRecording()) {
                span.addEvent(event, attributes);
            }
        }
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    // ------------------------------------------------------------------ rate limiter

    private static final class LimiterInstruments extends Instruments {
        final Backends.CounterSeries permitted;
        final Backends.CounterSeries rejected;
        final Backends.TimerSeries waits;

        LimiterInstruments(Binding b, RateLimiter limiter) {
            super(b);
            permitted = b.set.counter("resilience.ratelimiter.permits", "permits asked for", "result", "permitted");
            rejected = b.set.counter("resilience.ratelimiter.permits", "permits asked for", "result", "rejected");
            waits = b.set.timer("resilience.ratelimiter.wait", "time callers that waited for permits waited");
            b.set.gauge("resilience.ratelimiter.available", "permits available now", limiter::tokens);
        }
    }

    private LimiterInstruments limiterInstruments(RateLimiter l) {
        return instrumentsFor(l, l.name(), b -> new LimiterInstruments(b, l));
    }

    private final class LimiterEvents implements RateLimiterListener {
        @Override
        public void onPermitted(RateLimiter limiter, int permits, long waitedNanos) {
            LimiterInstruments i = limiterInstruments(limiter);
            i.permitted.add(permits);
            if (waitedNanos > 0) {
                i.waits.record(waitedNanos); // only calls that waited: the counter has them all
            }
        }

        @Override
        public void onRejected(RateLimiter limiter, int permits, RequestNotPermittedException.Reason reason) {
            limiterInstruments(limiter).rejected.add(permits);
            rejection("ratelimiter", limiter.name(), reason, LIMITER_LOG);
        }
    }

    private void rejection(String kind, String name, Enum<?> reason, Logger log) {
        spanEvent("resilience.rejected", Attributes.of(R_KIND, kind, R_NAME, name, R_REASON, lower(reason)));
        log.atDebug().setMessage("call rejected").addKeyValue("kind", kind).addKeyValue("name", name)
                .addKeyValue("reason", lower(reason)).log();
    }

    // ------------------------------------------------------------------ circuit breaker

    private static final class BreakerInstruments extends Instruments {
        final Backends.CounterSeries success;
        final Backends.CounterSeries failure;
        final Backends.CounterSeries slow;
        final Backends.CounterSeries excluded;
        final Backends.CounterSeries notPermitted;
        final Map<String, Backends.CounterSeries> transitions = new ConcurrentHashMap<>();

        BreakerInstruments(Binding b, CircuitBreaker breaker) {
            super(b);
            String m = "resilience.circuitbreaker.calls";
            String d = "calls by outcome";
            success = b.set.counter(m, d, "outcome", "success");
            failure = b.set.counter(m, d, "outcome", "failure");
            slow = b.set.counter(m, d, "outcome", "slow");
            excluded = b.set.counter(m, d, "outcome", "excluded");
            notPermitted = b.set.counter(m, d, "outcome", "not_permitted");
            for (CircuitBreaker.State s : CircuitBreaker.State.values()) {
                b.set.gauge("resilience.circuitbreaker.state", "1 for the current state",
                        () -> breaker.state() == s ? 1 : 0, "state", lower(s));
            }
        }

        Backends.CounterSeries transition(CircuitBreaker.State from, CircuitBreaker.State to) {
            return transitions.computeIfAbsent(from.name() + ">" + to.name(), k -> binding.set.counter(
                    "resilience.circuitbreaker.transitions", "state changes", "from", lower(from), "to", lower(to)));
        }
    }

    private BreakerInstruments breakerInstruments(CircuitBreaker cb) {
        return instrumentsFor(cb, cb.name(), b -> new BreakerInstruments(b, cb));
    }

    private final class BreakerEvents implements CircuitBreakerListener {
        @Override
        public void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to) {
            breakerInstruments(breaker).transition(from, to).add(1);
            spanEvent("resilience.circuitbreaker.state_changed",
                    Attributes.of(R_NAME, breaker.name(), R_FROM, lower(from), R_TO, lower(to)));
            BREAKER_LOG.atInfo().setMessage("circuit breaker state changed").addKeyValue("name", breaker.name())
                    .addKeyValue("from", lower(from)).addKeyValue("to", lower(to)).log();
        }

        @Override
        public void onNotPermitted(CircuitBreaker breaker, CircuitBreaker.State state) {
            breakerInstruments(breaker).notPermitted.add(1);
            rejection("circuitbreaker", breaker.name(), state, BREAKER_LOG);
        }

        @Override
        public void onSuccess(CircuitBreaker breaker) {
            breakerInstruments(breaker).success.add(1);
        }

        @Override
        public void onFailure(CircuitBreaker breaker, Throwable failure) {
            breakerInstruments(breaker).failure.add(1);
        }

        @Override
        public void onSlowCall(CircuitBreaker breaker, long durationNanos) {
            breakerInstruments(breaker).slow.add(1);
        }

        @Override
        public void onExcluded(CircuitBreaker breaker, Throwable failure) {
            breakerInstruments(breaker).excluded.add(1);
        }
    }

    // ------------------------------------------------------------------ retry

    private static final class RetryInstruments extends Instruments {
        final Backends.CounterSeries retries;
        final Backends.CounterSeries[] gaveUp = new Backends.CounterSeries[RetryListener.GiveUp.values().length];

        RetryInstruments(Binding b) {
            super(b);
            retries = b.set.counter("resilience.retry.retries", "retries scheduled");
            for (RetryListener.GiveUp g : RetryListener.GiveUp.values()) {
                gaveUp[g.ordinal()] = b.set.counter("resilience.retry.gave.up", "calls that stopped retrying",
                        "reason", lower(g));
            }
        }
    }

    private RetryInstruments retryInstruments(Retry r) {
        return instrumentsFor(r, r.name(), RetryInstruments::new);
    }

    private final class RetryEvents implements RetryListener {
        @Override
        public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
            retryInstruments(retry).retries.add(1);
            spanEvent("resilience.retry.scheduled",
                    Attributes.of(R_NAME, retry.name(), R_ATTEMPT, (long) attempt, R_DELAY, delayNanos / 1e9));
            RETRY_LOG.atDebug().setMessage("retry scheduled").addKeyValue("name", retry.name())
                    .addKeyValue("attempt", attempt).addKeyValue("delay", Duration.ofNanos(delayNanos))
                    .addKeyValue("failure", failure == null ? "result" : failure.getClass().getName()).log();
        }

        @Override
        public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
            retryInstruments(retry).gaveUp[reason.ordinal()].add(1);
        }
    }

    // ------------------------------------------------------------------ bulkhead

    private static final class BulkheadInstruments extends Instruments {
        final Backends.CounterSeries permitted;
        final Backends.CounterSeries rejected;
        final Backends.TimerSeries waits;

        BulkheadInstruments(Binding b, Bulkhead bulkhead) {
            super(b);
            permitted = b.set.counter("resilience.bulkhead.calls", "calls", "result", "permitted");
            rejected = b.set.counter("resilience.bulkhead.calls", "calls", "result", "rejected");
            waits = b.set.timer("resilience.bulkhead.wait", "time waited for a slot");
            b.set.gauge("resilience.bulkhead.in.use", "slots in use", bulkhead::inUse);
            b.set.gauge("resilience.bulkhead.limit", "slots", bulkhead::maxConcurrent);
        }
    }

    private BulkheadInstruments bulkheadInstruments(Bulkhead bh) {
        return instrumentsFor(bh, bh.name(), b -> new BulkheadInstruments(b, bh));
    }

    private final class BulkheadEvents implements BulkheadListener {
        @Override
        public void onPermitted(Bulkhead bulkhead, long waitedNanos) {
            BulkheadInstruments i = bulkheadInstruments(bulkhead);
            i.permitted.add(1);
            if (waitedNanos > 0) {
                i.waits.record(waitedNanos);
            }
        }

        @Override
        public void onRejected(Bulkhead bulkhead) {
            bulkheadInstruments(bulkhead).rejected.add(1);
            rejection("bulkhead", bulkhead.name(), RequestNotPermittedException.Reason.BULKHEAD_FULL, BULKHEAD_LOG);
        }
    }

    // ------------------------------------------------------------------ adaptive limiter

    private static final class AdaptiveInstruments extends Instruments {
        final Backends.CounterSeries rejected;

        AdaptiveInstruments(Binding b, AdaptiveLimiter limiter) {
            super(b);
            rejected = b.set.counter("resilience.adaptive.rejections", "calls rejected at the limit");
            b.set.gauge("resilience.adaptive.limit", "the current limit", limiter::limit);
            b.set.gauge("resilience.adaptive.in.flight", "calls in flight", limiter::inFlight);
        }
    }

    private AdaptiveInstruments adaptiveInstruments(AdaptiveLimiter l) {
        return instrumentsFor(l, l.name(), b -> new AdaptiveInstruments(b, l));
    }

    private final class AdaptiveEvents implements AdaptiveLimiterListener {
        @Override
        public void onRejected(AdaptiveLimiter limiter) {
            adaptiveInstruments(limiter).rejected.add(1);
        }
    }

    // ------------------------------------------------------------------ timeout and hedge

    private static final class CountInstruments extends Instruments {
        final Backends.CounterSeries count;

        CountInstruments(Binding b, String metric, String description) {
            super(b);
            count = b.set.counter(metric, description);
        }
    }

    private CountInstruments timeoutInstruments(Timeout t) {
        return instrumentsFor(t, t.name(), b -> new CountInstruments(b, "resilience.timeout.timeouts", "calls that ran out of time"));
    }

    private CountInstruments hedgeInstruments(Hedge h) {
        return instrumentsFor(h, h.name(), b -> new CountInstruments(b, "resilience.hedge.hedges", "hedged attempts launched"));
    }

    private final class TimeoutEvents implements TimeoutListener {
        @Override
        public void onTimeout(Timeout timeout) {
            timeoutInstruments(timeout).count.add(1);
            spanEvent("resilience.timeout", Attributes.of(R_NAME, timeout.name(), R_DELAY, timeout.timeout().toNanos() / 1e9));
            TIMEOUT_LOG.atDebug().setMessage("call timed out").addKeyValue("name", timeout.name())
                    .addKeyValue("timeout", timeout.timeout()).log();
        }
    }

    private final class HedgeEvents implements HedgeListener {
        @Override
        public void onHedge(Hedge hedge, int attempt) {
            hedgeInstruments(hedge).count.add(1);
            spanEvent("resilience.hedge.launched", Attributes.of(R_NAME, hedge.name(), R_ATTEMPT, (long) attempt));
        }
    }

    // ------------------------------------------------------------------ pipeline

    private static final class PipelineInstruments extends Instruments {
        final Backends.CounterSeries success;
        final Backends.CounterSeries failure;
        final Backends.TimerSeries duration;

        PipelineInstruments(Binding b) {
            super(b);
            success = b.set.counter("resilience.pipeline.calls", "calls through the pipeline", "outcome", "success");
            failure = b.set.counter("resilience.pipeline.calls", "calls through the pipeline", "outcome", "failure");
            duration = b.set.timer("resilience.pipeline.duration", "whole calls, every policy included");
        }
    }

    private PipelineInstruments pipelineInstruments(Pipeline<?> p) {
        return instrumentsFor(p, p.name(), PipelineInstruments::new);
    }

    private final class PipelineEvents implements PipelineListener {
        @Override
        public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
            PipelineInstruments i = pipelineInstruments(pipeline);
            (failure == null ? i.success : i.failure).add(1);
            i.duration.record(durationNanos);
        }
    }

    // ------------------------------------------------------------------ object pool events

    private static final class PoolInstruments extends Instruments {
        final Backends.TimerSeries borrowWait;
        final Backends.CounterSeries timeouts;
        final Backends.CounterSeries allocationFailures;
        final Backends.CounterSeries leaks;
        final Backends.CounterSeries[] destroyed = new Backends.CounterSeries[PoolListener.DestroyReason.values().length];

        PoolInstruments(Binding b) {
            super(b);
            borrowWait = b.set.timer("resilience.pool.borrow.wait", "time borrowers waited");
            timeouts = b.set.counter("resilience.pool.borrow.timeouts", "borrowers that gave up waiting");
            allocationFailures = b.set.counter("resilience.pool.allocation.failures", "allocator failures");
            leaks = b.set.counter("resilience.pool.leaks", "leases reported as suspected leaks");
            for (PoolListener.DestroyReason r : PoolListener.DestroyReason.values()) {
                destroyed[r.ordinal()] = b.set.counter("resilience.pool.destroyed", "objects destroyed", "reason", lower(r));
            }
        }
    }

    /** Pool events for one named pool; its instruments hang off a key object of their own. */
    private final class PoolEvents implements PoolListener {
        private final String poolName;
        private final Object key = new Object();

        PoolEvents(String poolName) {
            this.poolName = poolName;
            inst(); // register the counters at zero now, as scrapers like them
        }

        private PoolInstruments inst() {
            return instrumentsFor(key, poolName, PoolInstruments::new);
        }

        @Override
        public void borrowWaited(long waitNanos) {
            inst().borrowWait.record(waitNanos);
        }

        @Override
        public void borrowTimedOut(long waitNanos) {
            inst().timeouts.add(1);
        }

        @Override
        public void allocationFailed(Throwable error) {
            inst().allocationFailures.add(1);
        }

        @Override
        public void destroyed(DestroyReason reason) {
            if (reason != null) {
                inst().destroyed[reason.ordinal()].add(1);
            }
        }

        /** The pool is gone: its meters go too. */
        @Override
        public void closed() {
            Binding events = bindings.get(key);
            if (events != null) {
                events.close();
            }
            for (Binding b : bindings.values()) {
                if (b.primitive instanceof ObjectPool && ((ObjectPool<?>) b.primitive).name().equals(poolName)) {
                    b.close();
                }
            }
        }

        @Override
        public void leakSuspected(Object object, Duration held, Throwable borrowedAt) {
            POOL_LOG.atWarn().setMessage("suspected leak: a lease has not been returned").addKeyValue("name", poolName)
                    .addKeyValue("held", held).setCause(borrowedAt).log();
            inst().leaks.add(1);
        }
    }

    /** Configures a {@link ResilienceTelemetry}. */
    public static final class Builder {
        private final List<MeterRegistry> registries = new ArrayList<>();
        private OpenTelemetry openTelemetry;

        private Builder() {
        }

        /** Adds a Micrometer registry; call again to publish to several. */
        public Builder meterRegistry(MeterRegistry registry) {
            registries.add(Objects.requireNonNull(registry, "registry"));
            return this;
        }

        /** Publishes metrics through this OpenTelemetry's meter and span events on its current span. */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /** The telemetry. */
        public ResilienceTelemetry build() {
            return new ResilienceTelemetry(this);
        }
    }
}
