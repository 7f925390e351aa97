package dev.resilience.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A backend holds one series per meter id, whoever registers it: two telemetry instances that
 * bind the same primitive under the same name to the same registry (a framework's and the
 * application's own) get the same counters. So that an event is counted once, one binding per
 * backend, primitive and name writes, the first made; the others register the same meters and
 * wait. When the writing binding closes, the next one writes and takes over the meters only the
 * closed one had registered. A Micrometer meter leaves its registry when no binding holds it any
 * more (two primitives of one name, bound by two telemetry instances, share their series). The
 * bookkeeping is process-wide, under one lock taken only when binding, registering a meter and
 * closing.
 */
final class Backends {

    /** One bit per backend in a 64-bit mask: the registries, then the OpenTelemetry meter. */
    static final int MAX_BACKENDS = 64;

    final List<MeterRegistry> registries;
    final io.opentelemetry.api.metrics.Meter otel;
    /** Every backend, by slot: the registries, then the OpenTelemetry meter if there is one. */
    private final Object[] slots;

    /** Guards {@code FEEDS}, {@code HOLDS}, every set's meter lists and its {@code writing}. */
    private static final ReentrantLock LOCK = new ReentrantLock();
    /** Per backend, primitive and name, the sets that feed it, in the order they were made (the first writes). */
    private static final Map<FeedKey, Feed> FEEDS = new HashMap<>();
    /** How many set-held references each registered Micrometer meter has (a meter belongs to one registry). */
    private static final Map<Meter, int[]> HOLDS = new IdentityHashMap<>();
    /**
     * Keys whose primitive was collected: their entries go at the next bind or close, so a
     * telemetry instance dropped with its bindings open leaves nothing here.
     */
    private static final ReferenceQueue<Object> COLLECTED = new ReferenceQueue<>();

    Backends(List<MeterRegistry> registries, io.opentelemetry.api.metrics.Meter otel) {
        this.registries = List.copyOf(registries);
        this.otel = otel;
        List<Object> all = new ArrayList<>(this.registries);
        if (otel != null) {
            all.add(otel);
        }
        if (all.size() > MAX_BACKENDS) {
            throw new IllegalArgumentException("registries: at most " + (MAX_BACKENDS - 1) + " with OpenTelemetry, "
                    + MAX_BACKENDS + " without; got " + this.registries.size());
        }
        this.slots = all.toArray();
    }

    /**
     * A backend, a primitive and a name: the backend held strongly (a binding's backends already
     * are), the primitive weakly and by identity, so the bookkeeping keeps no primitive alive.
     */
    private static final class FeedKey extends WeakReference<Object> {
        private final Object backend;
        private final String name;
        private final int hash;

        FeedKey(Object backend, Object primitive, String name, ReferenceQueue<Object> queue) {
            super(primitive, queue);
            this.backend = backend;
            this.name = name;
            this.hash = (31 * System.identityHashCode(backend) + System.identityHashCode(primitive)) * 31 + name.hashCode();
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            if (!(o instanceof FeedKey k) || k.backend != backend || !k.name.equals(name)) {
                return false;
            }
            Object p = get();
            return p != null && p == k.get();
        }
    }

    /** The sets that feed one backend with one primitive's series under one name. */
    private static final class Feed {
        final FeedKey key;
        final ArrayDeque<Set> sets = new ArrayDeque<>(2);

        Feed(FeedKey key) {
            this.key = key;
        }
    }

    /** Whether {@code mask} has slot {@code slot}: registry {@code slot}, or past the registries, OpenTelemetry. */
    static boolean writes(long mask, int slot) {
        return (mask & (1L << slot)) != 0;
    }

    /** Drops the entries of collected primitives; under {@code LOCK}. */
    private static void expungeCollected() {
        for (Reference<?> r; (r = COLLECTED.poll()) != null; ) {
            FEEDS.remove(r); // a cleared key equals only itself, the instance the map holds
        }
    }

    /**
     * Instruments of one bound primitive. Safe to use from any thread: an event may register a meter
     * lazily (a breaker's transitions) while the binding is being closed; once closed, what is asked
     * for is a series registered nowhere, so nothing outlives the binding.
     */
    final class Set implements AutoCloseable {
        private final String name;
        /** Per registry slot, the meters this set holds there (registered, or taken over); under {@code LOCK}. */
        private final List<List<Meter>> meters = new ArrayList<>();
        /** The OpenTelemetry callbacks (gauges, counters) this set registered; under {@code LOCK}. */
        private final List<AutoCloseable> callbacks = new ArrayList<>();
        /** Per slot, the feed this set joined. */
        private final Feed[] feeds = new Feed[slots.length];
        /** Orders registrations against {@link #close()}: none once closed. */
        private final ReentrantLock lock = new ReentrantLock();
        /** The slots this set writes to (bit i: slot i); changed under {@code LOCK} only. */
        private volatile long writing;
        private boolean closed;

        Set(String name, Object primitive) {
            this.name = name;
            for (int i = 0; i < registries.size(); i++) {
                meters.add(new ArrayList<>());
            }
            LOCK.lock();
            try {
                expungeCollected();
                long w = 0;
                for (int i = 0; i < slots.length; i++) {
                    Feed feed = FEEDS.computeIfAbsent(new FeedKey(slots[i], primitive, name, COLLECTED), Feed::new);
                    if (feed.sets.isEmpty()) {
                        w |= 1L << i;
                    }
                    feed.sets.addLast(this);
                    feeds[i] = feed;
                }
                writing = w;
            } finally {
                LOCK.unlock();
            }
        }

        String name() {
            return name;
        }

        long writing() {
            return writing;
        }

        int otelSlot() {
            return registries.size();
        }

        /** A counter series {@code metric{name, tags...}}; {@code tags} alternate keys and values. */
        CounterSeries counter(String metric, String description, String... tags) {
            lock.lock();
            try {
                Counter[] counters = registerEach(Counter[]::new,
                        r -> Counter.builder(metric).description(description).tags(tags(tags)).register(r));
                LongCounter otelCounter = closed || otel == null ? null
                        : otel.counterBuilder(metric).setDescription(description).build();
                return new CounterSeries(this, counters, otelCounter, otelCounter == null ? null : attributes(tags));
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
         * One meter per registry, held for {@link #close()}; none once closed, so nothing outlives
         * the binding. The caller holds this set's lock; registering and holding happen under
         * {@code LOCK}, so a meter is never removed between being handed out and being held.
         */
        private <M extends Meter> M[] registerEach(IntFunction<M[]> array, Function<MeterRegistry, M> make) {
            if (closed) {
                return array.apply(0);
            }
            M[] made = array.apply(registries.size());
            LOCK.lock();
            try {
                for (int i = 0; i < made.length; i++) {
                    made[i] = make.apply(registries.get(i));
                    hold(i, made[i]);
                }
            } finally {
                LOCK.unlock();
            }
            return made;
        }

        /** Holds {@code meter} of registry {@code slot}; under {@code LOCK}. */
        private void hold(int slot, Meter meter) {
            meters.get(slot).add(meter);
            HOLDS.computeIfAbsent(meter, m -> new int[1])[0]++;
        }

        /**
         * A gauge of {@code source} read when scraped. It holds {@code source} weakly, as
         * Micrometer's own gauges do: a primitive nobody uses any more is not kept alive by its
         * meters (they read NaN until the binding is cleared).
         */
        <T> void gauge(String metric, String description, T source, ToDoubleFunction<T> read, String... tags) {
            observe(false, metric, description, source, read, tags);
        }

        /**
         * A counter of {@code source}'s running total, read when scraped (Micrometer's
         * {@code FunctionCounter}, OpenTelemetry's observable counter; Prometheus names it with
         * {@code _total} and {@code rate()} applies): for totals that only grow, which a gauge would
         * misreport to a backend that computes rates. Holds {@code source} weakly, as {@link #gauge}
         * does; once it is gone Micrometer reports its last total (its function counters do) and
         * OpenTelemetry gets no observation. {@code read} must not capture {@code source}.
         */
        <T> void functionCounter(String metric, String description, T source, ToDoubleFunction<T> read, String... tags) {
            observe(true, metric, description, source, read, tags);
        }

        private <T> void observe(boolean total, String metric, String description, T source, ToDoubleFunction<T> read,
                String... tags) {
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
                if (total) {
                    // Micrometer holds the source weakly here itself (a function counter has no strong option)
                    registerEach(FunctionCounter[]::new, r -> FunctionCounter.builder(metric, source, read)
                            .description(description).tags(tags(tags)).register(r));
                } else {
                    registerEach(Gauge[]::new, r -> Gauge.builder(metric, value, DoubleSupplier::getAsDouble)
                            .description(description).tags(tags(tags)).strongReference(true).register(r));
                }
                if (otel != null) {
                    Attributes attrs = attributes(tags);
                    int slot = otelSlot();
                    AutoCloseable g;
                    if (total) {
                        g = otel.counterBuilder(metric).ofDoubles().setDescription(description).buildWithCallback(m -> {
                            double v = value.getAsDouble();
                            if (writes(writing, slot) && !Double.isNaN(v)) {
                                m.record(v, attrs);
                            }
                        });
                    } else {
                        g = otel.gaugeBuilder(metric).setDescription(description)
                                .buildWithCallback(m -> {
                                    if (writes(writing, slot)) { // one observation per series, from the writing binding
                                        m.record(value.getAsDouble(), attrs);
                                    }
                                });
                    }
                    LOCK.lock();
                    try {
                        callbacks.add(g);
                    } finally {
                        LOCK.unlock();
                    }
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

        /**
         * Leaves every backend. Where another binding feeds the same series, it writes from now on
         * (its bit is set just before this one's is cleared: an event in flight between the two
         * writes may be counted twice, none by nobody) and takes over this set's hold of the meters
         * it does not hold yet; a meter no binding holds any more leaves its registry; this set's
         * callbacks go. Idempotent. Every removal is tried even if one throws (a registry's
         * listener): the first failure is thrown at the end.
         */
        @Override
        public void close() {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                closed = true; // from here on nothing registers: the lists below are complete
            } finally {
                lock.unlock();
            }
            RuntimeException failed = null;
            LOCK.lock();
            try {
                expungeCollected();
                long w = writing;
                for (int i = 0; i < slots.length; i++) {
                    Feed feed = feeds[i];
                    feed.sets.remove(this);
                    Set heir = feed.sets.peekFirst();
                    if (heir == null) {
                        FEEDS.remove(feed.key);
                    } else if (writes(w, i)) {
                        heir.takeOver(feed);
                    }
                    writing &= ~(1L << i); // right after the heir's bit: at most an event in flight between the two writes is counted twice
                    if (i < registries.size()) {
                        List<Meter> heirs = heir == null ? null : heir.meters.get(heir.slotOf(feed));
                        for (Meter m : meters.get(i)) {
                            if (heirs != null && !heirs.contains(m)) {
                                heirs.add(m); // a series only this set had registered: its hold passes to the heir
                            } else {
                                failed = release(registries.get(i), m, failed);
                            }
                        }
                        meters.get(i).clear();
                    }
                }
                for (AutoCloseable c : callbacks) {
                    try {
                        c.close();
                    } catch (Exception | Error e) {
                        failed = first(failed, new IllegalStateException("could not remove a callback", e));
                    }
                }
                callbacks.clear();
            } finally {
                LOCK.unlock();
            }
            if (failed != null) {
                throw failed;
            }
        }

        /** This set's slot for {@code feed}'s backend (two telemetry instances order their registries their own way). */
        private int slotOf(Feed feed) {
            int slot = 0;
            while (feeds[slot] != feed) {
                slot++;
            }
            return slot;
        }

        /** Writes to {@code feed}'s backend from now on; under {@code LOCK}. */
        private void takeOver(Feed feed) {
            writing |= 1L << slotOf(feed);
        }
    }

    /** Drops one hold of {@code meter}; the last one takes it out of {@code registry}. Under {@code LOCK}. */
    private static RuntimeException release(MeterRegistry registry, Meter meter, RuntimeException failed) {
        int[] holds = HOLDS.get(meter);
        if (holds != null && --holds[0] > 0) {
            return failed;
        }
        HOLDS.remove(meter);
        try {
            registry.remove(meter); // by id (a search for the very object would scan the registry per meter)
        } catch (Throwable e) {
            return first(failed, new IllegalStateException("could not remove " + meter.getId(), e));
        }
        return failed;
    }

    private static RuntimeException first(RuntimeException failed, RuntimeException next) {
        if (failed == null) {
            return next;
        }
        failed.addSuppressed(next);
        return failed;
    }

    /**
     * One counter series in every backend; attributes prebuilt, so adding allocates nothing. It adds
     * to the backends its set writes to (one volatile read per add).
     */
    static final class CounterSeries {
        private final Set set;
        private final Counter[] counters;
        private final LongCounter otel;
        private final Attributes attributes;

        CounterSeries(Set set, Counter[] counters, LongCounter otel, Attributes attributes) {
            this.set = set;
            this.counters = counters;
            this.otel = otel;
            this.attributes = attributes;
        }

        void add(long n) {
            long w = set.writing();
            for (int i = 0; i < counters.length; i++) {
                if (writes(w, i)) {
                    counters[i].increment(n);
                }
            }
            if (otel != null && writes(w, set.otelSlot())) {
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
            long w = set.writing();
            for (int i = 0; i < m.timers.length; i++) {
                if (writes(w, i)) {
                    m.timers[i].record(nanos, TimeUnit.NANOSECONDS);
                }
            }
            if (m.otel != null && writes(w, set.otelSlot())) {
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
                    } catch (Throwable e) {
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
