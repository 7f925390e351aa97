package dev.resilience.pool;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.WeakReference;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A cache of reusable scratch objects, after Go's {@code sync.Pool}: {@link #get()} returns a cached
 * object or a fresh one, {@link #release(Object)} offers an object back and the recycler may keep or
 * drop it. For buffers, builders and other objects that are cheap to drop and costly to allocate at a
 * high rate; never for resources that must be closed (use {@link ObjectPool} for those).
 *
 * <pre>{@code
 * Recycler<StringBuilder> builders = Recycler.builder(() -> new StringBuilder(256))
 *         .reset(sb -> sb.setLength(0))
 *         .retainIf(sb -> sb.capacity() <= 64 * 1024)     // do not hoard a huge one
 *         .build();
 * StringBuilder sb = builders.get();
 * try {
 *     sb.append(...);
 * } finally {
 *     builders.release(sb);
 * }
 * }</pre>
 *
 * <p><b>How it caches.</b> Each platform thread has a small private stack ({@code perThreadCapacity},
 * default 32) used without atomics and found by thread id in a small table (a thread whose table
 * entry is taken by another live thread uses a {@code ThreadLocal} instead): a {@code get} after a
 * {@code release} on the same thread costs a few array accesses. The stack of a thread that ended is
 * dropped when another thread takes its table entry. When the private stack is full, a released object goes
 * to one shared lock-free queue ({@code sharedCapacity}, default 1024, rounded up to a power of two);
 * a {@code get} that finds its private stack empty takes from the shared queue before creating. So
 * objects released on another thread than the one that got them find their way back through the
 * shared queue. When both are full the object is dropped (and counted in {@link #dropped()}).
 *
 * <p><b>Virtual threads</b> get no private stack: there may be millions of them, each short-lived,
 * so they use the shared queue only and the recycler's memory stays bounded by
 * {@code platformThreads * perThreadCapacity + sharedCapacity} objects. (Detected with
 * {@code Thread.isVirtual()} on Java 21 and later; on Java 17 every thread is a platform thread.)
 *
 * <p><b>Contract.</b> Release an object at most once per {@code get} and do not use it afterwards; the
 * recycler cannot detect a double release, which would hand one object to two callers. Nulls are
 * rejected. If the reset hook throws, the object is dropped and the exception propagates.
 *
 * @param <T> the type of the recycled objects
 */
public final class Recycler<T> {

    private static final MethodHandle IS_VIRTUAL = findIsVirtual();

    private final Supplier<? extends T> factory;
    private final Consumer<? super T> reset;
    private final Predicate<? super T> retainIf;
    private final int perThreadCapacity;
    private final MpmcArrayQueue<T> shared;
    /**
     * Private stacks indexed by thread id: the fast way to find the current thread's stack (an array
     * read and an id compare, cheaper than a {@code ThreadLocal} lookup). A thread whose entry is held
     * by another live thread falls back to {@link #local}.
     */
    private final AtomicReferenceArray<Stack> byThreadId;
    private final int idMask;
    private final ThreadLocal<Stack> local;
    private final LongAdder created = new LongAdder();
    private final LongAdder dropped = new LongAdder();

    private Recycler(Builder<T> b) {
        this.factory = b.factory;
        this.reset = b.reset;
        this.retainIf = b.retainIf;
        this.perThreadCapacity = b.perThreadCapacity;
        this.shared = b.sharedCapacity == 0 ? null : new MpmcArrayQueue<>(b.sharedCapacity);
        int perThread = b.perThreadCapacity;
        int entries = Math.max(64, Integer.highestOneBit(Runtime.getRuntime().availableProcessors() * 8 - 1) << 1);
        this.byThreadId = new AtomicReferenceArray<>(entries);
        this.idMask = entries - 1;
        this.local = ThreadLocal.withInitial(() -> new Stack(perThread, Thread.currentThread()));
    }

    /** Starts a recycler whose new objects come from {@code factory}. */
    public static <T> Builder<T> builder(Supplier<? extends T> factory) {
        return new Builder<>(factory);
    }

    /** A cached object if there is one, else a new one from the factory. Never null. */
    @SuppressWarnings("unchecked")
    public T get() {
        Stack stack = privateStack();
        if (stack != null && stack.size > 0) {
            int top = --stack.size;
            Object o = stack.items[top];
            stack.items[top] = null;
            return (T) o;
        }
        if (shared != null) {
            T o = shared.relaxedPoll();
            if (o != null) {
                return o;
            }
        }
        T fresh = factory.get();
        if (fresh == null) {
            throw new NullPointerException("the recycler's factory returned null");
        }
        created.increment();
        return fresh;
    }

    /**
     * Offers {@code object} back: runs the reset hook and keeps it for a later {@link #get()} unless
     * {@code retainIf} rejects it or the caches are full.
     *
     * @return true if the object was kept, false if it was dropped
     */
    public boolean release(T object) {
        Objects.requireNonNull(object, "object");
        if (retainIf != null && !retainIf.test(object)) {
            dropped.increment();
            return false;
        }
        if (reset != null) {
            reset.accept(object);
        }
        Stack stack = privateStack();
        if (stack != null && stack.size < perThreadCapacity) {
            stack.items[stack.size++] = object;
            return true;
        }
        if (shared != null && shared.relaxedOffer(object)) {
            return true;
        }
        dropped.increment();
        return false;
    }

    /** How many objects the factory has made. */
    public long created() {
        return created.sum();
    }

    /** How many released objects were dropped (rejected by {@code retainIf} or no room). */
    public long dropped() {
        return dropped.sum();
    }

    /** How many objects the shared queue holds now (an estimate; private stacks are not counted). */
    public int sharedSize() {
        return shared == null ? 0 : shared.size();
    }

    /** The private stack of the current thread, or null on a virtual thread or without one. */
    private Stack privateStack() {
        if (perThreadCapacity == 0) {
            return null;
        }
        Thread t = Thread.currentThread();
        if (isVirtual(t)) {
            return null;
        }
        long id = t.getId();
        int i = (int) id & idMask;
        Stack s = byThreadId.getPlain(i); // safe: a Stack's identity fields are final
        if (s != null && s.ownerId == id) {
            return s;
        }
        return claimStack(id, i);
    }

    /**
     * The thread's stack lives in {@link #local}; the id-indexed table only caches it. Takes the
     * table entry for it if the entry is free or its owner has ended.
     */
    private Stack claimStack(long id, int i) {
        Stack mine = local.get();
        Stack s = byThreadId.get(i);
        if (s == null || (s.ownerId != id && !s.ownerAlive())) {
            byThreadId.compareAndSet(i, s, mine);
        }
        return mine;
    }

    static boolean isVirtual(Thread t) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(t);
        } catch (Throwable e) {
            throw new IllegalStateException("Thread.isVirtual failed", e);
        }
    }

    private static MethodHandle findIsVirtual() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (NoSuchMethodException | IllegalAccessException absentBefore21) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "Recycler[created " + created() + ", dropped " + dropped() + ", shared ~" + sharedSize() + "]";
    }

    /** One thread's private cache; its contents are touched only by its thread. */
    private static final class Stack {
        final Object[] items;
        final long ownerId;
        final WeakReference<Thread> owner;
        int size;

        Stack(int capacity, Thread owner) {
            this.items = new Object[capacity];
            this.ownerId = owner.getId();
            this.owner = new WeakReference<>(owner);
        }

        boolean ownerAlive() {
            Thread t = owner.get();
            return t != null && t.isAlive();
        }
    }

    /**
     * Configures a {@link Recycler}.
     *
     * @param <T> the type of the recycled objects
     */
    public static final class Builder<T> {
        private final Supplier<? extends T> factory;
        private Consumer<? super T> reset;
        private Predicate<? super T> retainIf;
        private int perThreadCapacity = 32;
        private int sharedCapacity = 1024;

        private Builder(Supplier<? extends T> factory) {
            this.factory = Objects.requireNonNull(factory, "factory");
        }

        /** Runs on every kept object at release, e.g. to clear a buffer. Default: none. */
        public Builder<T> reset(Consumer<? super T> reset) {
            this.reset = Objects.requireNonNull(reset, "reset");
            return this;
        }

        /** Keeps a released object only if this holds, e.g. to drop oversized buffers. Default: all. */
        public Builder<T> retainIf(Predicate<? super T> retainIf) {
            this.retainIf = Objects.requireNonNull(retainIf, "retainIf");
            return this;
        }

        /** Objects each platform thread keeps privately; 0 for none. Default 32. */
        public Builder<T> perThreadCapacity(int perThreadCapacity) {
            if (perThreadCapacity < 0 || perThreadCapacity > 1 << 20) {
                throw new IllegalArgumentException("perThreadCapacity must be in [0, 2^20]: " + perThreadCapacity);
            }
            this.perThreadCapacity = perThreadCapacity;
            return this;
        }

        /**
         * Objects kept in the queue shared by all threads; 0 for none (then objects released on one
         * thread never reach another), otherwise at least 2 and rounded up to a power of two.
         * Default 1024.
         */
        public Builder<T> sharedCapacity(int sharedCapacity) {
            if (sharedCapacity != 0 && (sharedCapacity < 2 || sharedCapacity > BoundedArrayQueue.MAX_CAPACITY)) {
                throw new IllegalArgumentException("sharedCapacity must be 0 or in [2, 2^30]: " + sharedCapacity);
            }
            this.sharedCapacity = sharedCapacity;
            return this;
        }

        /** The recycler. */
        public Recycler<T> build() {
            if (perThreadCapacity == 0 && sharedCapacity == 0) {
                throw new IllegalArgumentException("perThreadCapacity and sharedCapacity are both 0: nothing would be kept");
            }
            return new Recycler<>(this);
        }
    }
}
