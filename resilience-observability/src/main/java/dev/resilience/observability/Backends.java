package dev.resilience.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.ObservableDoubleGauge;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;

/**
 * The meter backends one telemetry instance writes to (any number of Micrometer registries and at
 * most one OpenTelemetry meter), and the instruments registered for one primitive, kept so they can
 * be removed together.
 */
final class Backends {

    final List<MeterRegistry> registries;
    final io.opentelemetry.api.metrics.Meter otel;

    Backends(List<MeterRegistry> registries, io.opentelemetry.api.metrics.Meter otel) {
        this.registries = List.copyOf(registries);
        this.otel = otel;
    }

    /**
     * Instruments of one bound primitive. Safe to use from any thread: an event may register a meter
     * lazily (a breaker's transitions) while the binding is being closed; once closed, what is asked
     * for is a series registered nowhere, so nothing outlives the binding.
     */
    final class Set implements AutoCloseable {
        private final String name;
        private final List<Meter> meters = new ArrayList<>();
        private final List<AutoCloseable> callbacks = new ArrayList<>();
        private final ReentrantLock lock = new ReentrantLock();
        private boolean closed;

        Set(String name) {
            this.name = name;
        }

        String name() {
            return name;
        }

        /** A counter series {@code metric{name, tags...}}; {@code tags} alternate keys and values. */
        CounterSeries counter(String metric, String description, String... tags) {
            lock.lock();
            try {
                Counter[] counters = registerEach(Counter[]::new,
                        r -> Counter.builder(metric).description(description).tags(tags(tags)).register(r));
                LongCounter otelCounter = closed || otel == null ? null
                        : otel.counterBuilder(metric).setDescription(description).build();
                return new CounterSeries(counters, otelCounter, otelCounter == null ? null : attributes(tags));
            } finally {
                lock.unlock();
            }
        }

        /**
         * A timer series in seconds, registered when it records its first value: a timer's
         * histogram classes are not worth loading at an application's startup for an event (a wait,
         * a round trip) that may never happen, and a series that never recorded has nothing to show.
         */
        TimerSeries timer(String metric, String description, String... tags) {
            return new TimerSeries(this, metric, description, tags);
        }

        /** The meters of {@code series}, registered now (none once closed). */
        TimerSeries.Meters register(TimerSeries series) {
            lock.lock();
            try {
                Timer[] timers = registerEach(Timer[]::new, r -> Timer.builder(series.metric)
                        .description(series.description).tags(tags(series.tags)).register(r));
                DoubleHistogram histogram = closed || otel == null ? null
                        : otel.histogramBuilder(series.metric).setDescription(series.description).setUnit("s").build();
                return new TimerSeries.Meters(timers, histogram, histogram == null ? null : attributes(series.tags));
            } finally {
                lock.unlock();
            }
        }

        /**
         * One meter per registry, kept for {@link #close()}; none once closed, so nothing outlives
         * the binding. The caller holds the lock.
         */
        private <M extends Meter> M[] registerEach(IntFunction<M[]> array, Function<MeterRegistry, M> make) {
            if (closed) {
                return array.apply(0);
            }
            M[] made = array.apply(registries.size());
            for (int i = 0; i < made.length; i++) {
                made[i] = make.apply(registries.get(i));
                meters.add(made[i]);
            }
            return made;
        }

        /**
         * A gauge of {@code source} read when scraped. It holds {@code source} weakly, as
         * Micrometer's own gauges do: a primitive nobody uses any more is not kept alive by its
         * meters (they read NaN until the binding is cleared).
         */
        <T> void gauge(String metric, String description, T source, ToDoubleFunction<T> read, String... tags) {
            WeakReference<T> ref = new WeakReference<>(source);
            DoubleSupplier value = () -> {
                T s = ref.get();
                return s == null ? Double.NaN : read.applyAsDouble(s);
            };
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                for (MeterRegistry r : registries) {
                    meters.add(Gauge.builder(metric, value, DoubleSupplier::getAsDouble).description(description)
                            .tags(tags(tags)).strongReference(true).register(r));
                }
                if (otel != null) {
                    Attributes attrs = attributes(tags);
                    ObservableDoubleGauge g = otel.gaugeBuilder(metric).setDescription(description)
                            .buildWithCallback(m -> m.record(value.getAsDouble(), attrs));
                    callbacks.add(g);
                }
            } finally {
                lock.unlock();
            }
        }

        private Tags tags(String... tags) {
            return Tags.of("name", name).and(tags);
        }

        /** OpenTelemetry's attributes for {@code tags}: built only when there is an OpenTelemetry meter (its classes load otherwise). */
        Attributes attributes(String... tags) {
            AttributesBuilder b = Attributes.builder().put(SpanKeys.NAME, name);
            for (int i = 0; i + 1 < tags.length; i += 2) {
                b.put(tags[i], tags[i + 1]);
            }
            return b.build();
        }

        /** Removes every meter and gauge callback of this primitive. */
        @Override
        public void close() {
            lock.lock();
            try {
                closed = true;
                removeAll();
            } finally {
                lock.unlock();
            }
        }

        private void removeAll() {
            for (Meter m : meters) {
                for (MeterRegistry r : registries) {
                    r.remove(m);
                }
            }
            meters.clear();
            for (AutoCloseable c : callbacks) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("could not remove a gauge callback", e);
                }
            }
            callbacks.clear();
        }
    }

    /** One counter series in every backend; attributes prebuilt, so adding allocates nothing. */
    static final class CounterSeries {
        private final Counter[] counters;
        private final LongCounter otel;
        private final Attributes attributes;

        CounterSeries(Counter[] counters, LongCounter otel, Attributes attributes) {
            this.counters = counters;
            this.otel = otel;
            this.attributes = attributes;
        }

        void add(long n) {
            for (Counter c : counters) {
                c.increment(n);
            }
            if (otel != null) {
                otel.add(n, attributes);
            }
        }
    }

    /** One timer series in every backend, registered on its first {@link #record(long)}. */
    static final class TimerSeries {
        private final Set set;
        private final String metric;
        private final String description;
        private final String[] tags;
        /** Null until the first record; then the same meters for good. */
        private volatile Meters meters;

        TimerSeries(Set set, String metric, String description, String[] tags) {
            this.set = set;
            this.metric = metric;
            this.description = description;
            this.tags = tags;
        }

        void record(long nanos) {
            Meters m = meters;
            if (m == null) {
                m = registered();
            }
            for (Timer t : m.timers) {
                t.record(nanos, TimeUnit.NANOSECONDS);
            }
            if (m.otel != null) {
                m.otel.record(nanos / 1e9, m.attributes);
            }
        }

        /**
         * Registers once, under the set's lock: two first records do not register twice. If a
         * backend refuses (a meter filter that throws), the series records nowhere from then on and
         * the failure is thrown once, to the listener's guard that logs it: not again on every call.
         */
        private Meters registered() {
            set.lock.lock();
            try {
                Meters m = meters;
                if (m == null) {
                    try {
                        m = set.register(this);
                    } catch (RuntimeException | Error e) {
                        meters = Meters.NONE;
                        throw e;
                    }
                    meters = m;
                }
                return m;
            } finally {
                set.lock.unlock();
            }
        }

        /** The registered meters; attributes prebuilt, so recording allocates nothing. */
        record Meters(Timer[] timers, DoubleHistogram otel, Attributes attributes) {
            /** Nowhere: a closed binding's, or one whose registration failed. */
            static final Meters NONE = new Meters(new Timer[0], null, null);
        }
    }
}
