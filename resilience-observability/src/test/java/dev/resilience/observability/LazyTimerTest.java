package dev.resilience.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.Pipeline;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** A timer series registers its meters on its first record: once, under races, and never after its binding closed. */
class LazyTimerTest {

    @Test
    void nothingIsRegisteredBeforeTheFirstRecord() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Backends.Set set = new Backends(List.of(registry), null).new Set("payments", new Object());
        Backends.TimerSeries waits = set.timer("resilience.test.wait", "waits");
        assertNull(registry.find("resilience.test.wait").timer());
        waits.record(1_000_000);
        Timer t = registry.get("resilience.test.wait").tags("name", "payments").timer();
        assertEquals(1, t.count());
        assertEquals(1.0, t.totalTime(TimeUnit.MILLISECONDS), 1e-9);
        set.close();
        assertNull(registry.find("resilience.test.wait").timer(), "closing removes it like every other meter");
    }

    @Test
    void concurrentFirstRecordsRegisterOneTimerAndLoseNoValue() throws Exception {
        for (int round = 0; round < 50; round++) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Backends.Set set = new Backends(List.of(registry), null).new Set("payments", new Object());
            Backends.TimerSeries waits = set.timer("resilience.test.wait", "waits");
            int threads = 8;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    done.add(pool.submit(() -> {
                        go.await();
                        waits.record(1_000);
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : done) {
                    f.get(10, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1, registry.find("resilience.test.wait").timers().size(), "one timer, round " + round);
            assertEquals(threads, registry.get("resilience.test.wait").timer().count(), "every record counted, round " + round);
        }
    }

    @Test
    void aBackendThatRefusesTheTimerChangesNoOutcomeAndIsAskedOnce() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger asked = new AtomicInteger();
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                if (id.getName().equals("resilience.pipeline.duration")) {
                    asked.incrementAndGet();
                    throw new IllegalStateException("hostile filter");
                }
                return id;
            }
        });
        Pipeline<String> pipeline = Pipeline.<String>builder("checkout").build();
        ResilienceTelemetry.builder().meterRegistry(registry).build().bind(pipeline);
        for (int i = 0; i < 3; i++) {
            assertEquals("ok", pipeline.call(() -> "ok"), "a failing registration is the listener's, not the call's");
        }
        assertEquals(1, asked.get(), "the refused timer is not asked for again on every call");
        assertNull(registry.find("resilience.pipeline.duration").timer());
        assertEquals(3.0, registry.get("resilience.pipeline.calls").tags("outcome", "success").counter().count(),
                "the series registered at bind time still count");
    }

    @Test
    void aRecordAfterTheBindingClosedRegistersNothing() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Backends.Set set = new Backends(List.of(registry), null).new Set("payments", new Object());
        Backends.TimerSeries waits = set.timer("resilience.test.wait", "waits");
        set.close();
        waits.record(1_000);
        waits.record(2_000);
        assertNull(registry.find("resilience.test.wait").timer(), "nothing outlives the binding");
        assertTrue(registry.getMeters().isEmpty());
    }
}
