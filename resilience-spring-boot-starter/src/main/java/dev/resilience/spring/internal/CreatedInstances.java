package dev.resilience.spring.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The instances a registry has built, for observers that arrive later (the meter binder is ready
 * only once the application's {@code MeterRegistry} is): an observer gets every earlier instance,
 * then each new one. Used at startup and on a registry's first lookups, not per call.
 */
public final class CreatedInstances implements Consumer<Object> {

    private final ReentrantLock lock = new ReentrantLock();
    private final List<Object> created = new ArrayList<>();
    private final List<Consumer<Object>> observers = new ArrayList<>();

    /** Creates an empty list. */
    public CreatedInstances() {
    }

    /** Records {@code instance} and tells the observers (the registry's {@code onCreated}). */
    @Override
    public void accept(Object instance) {
        List<Consumer<Object>> now;
        lock.lock();
        try {
            created.add(instance);
            now = List.copyOf(observers);
        } finally {
            lock.unlock();
        }
        now.forEach(o -> o.accept(instance));
    }

    /** Tells {@code observer} every instance so far, then each new one. */
    public void observe(Consumer<Object> observer) {
        List<Object> before;
        lock.lock();
        try {
            observers.add(observer);
            before = List.copyOf(created);
        } finally {
            lock.unlock();
        }
        before.forEach(observer);
    }
}
