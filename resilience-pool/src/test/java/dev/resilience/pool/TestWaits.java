package dev.resilience.pool;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Observing other threads without sleeping: spin (yielding) until a condition holds, for at most 10 s. */
final class TestWaits {

    private TestWaits() {
    }

    static void await(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.yield();
        }
    }

    static void awaitParked(Thread t) {
        await(() -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING,
                t.getName() + " parked (state " + t.getState() + ")");
    }

    /** A virtual-thread-per-task executor; skips the test before JDK 21. */
    static ExecutorService virtualThreads() throws ReflectiveOperationException {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (NoSuchMethodException before21) {
            assumeTrue(false, "virtual threads need JDK 21+");
            throw before21;
        }
    }
}
