package dev.resilience.context;

import java.util.concurrent.TimeUnit;

/** Helpers to observe other threads without sleeping. */
final class TestThreads {
    private TestThreads() {
    }

    /** Spins (yielding) until {@code t} is parked or blocked; fails after 10 s. */
    static void awaitBlocked(Thread t) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.BLOCKED) {
                return;
            }
            if (s == Thread.State.TERMINATED) {
                throw new AssertionError(t.getName() + " ended instead of blocking");
            }
            if (System.nanoTime() - end > 0) {
                throw new AssertionError(t.getName() + " did not block within 10 s, state " + s);
            }
            Thread.yield();
        }
    }
}
