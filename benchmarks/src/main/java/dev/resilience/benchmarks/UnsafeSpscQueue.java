package dev.resilience.benchmarks;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;

/**
 * Not a product: {@code dev.resilience.pool.SpscArrayQueue}'s offer and poll, line for line, with its
 * array accesses made through {@code sun.misc.Unsafe} at raw offsets, as JCTools makes them (no
 * bounds check, no check of the array's class on a store). {@link QueueSafetyTaxBenchmark} runs it
 * beside ours and JCTools' to measure what the library's safe array access costs on one thread. The
 * indices keep ours: VarHandles on padded fields. Unsafe is reached through method handles (a
 * direct reference is a compiler warning no annotation silences); bound and held in static finals,
 * the JIT inlines them to the same intrinsics a direct call gets.
 *
 * @param <E> the element type
 */
public final class UnsafeSpscQueue<E> {

    private static final MethodHandle PUT_ORDERED; // (Object, long, Object) void: a release store
    private static final MethodHandle GET_PLAIN; // (Object, long) Object
    private static final long BASE;
    private static final int SHIFT;
    private static final VarHandle PRODUCER_INDEX;
    private static final VarHandle PRODUCER_LIMIT;
    private static final VarHandle CONSUMER_INDEX;

    static {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Object unsafe = f.get(null);
            MethodHandles.Lookup l = MethodHandles.lookup();
            PUT_ORDERED = l.findVirtual(unsafeClass, "putOrderedObject",
                    MethodType.methodType(void.class, Object.class, long.class, Object.class)).bindTo(unsafe);
            GET_PLAIN = l.findVirtual(unsafeClass, "getObject",
                    MethodType.methodType(Object.class, Object.class, long.class)).bindTo(unsafe);
            BASE = (int) l.findVirtual(unsafeClass, "arrayBaseOffset", MethodType.methodType(int.class, Class.class))
                    .bindTo(unsafe).invoke(Object[].class);
            int scale = (int) l.findVirtual(unsafeClass, "arrayIndexScale", MethodType.methodType(int.class, Class.class))
                    .bindTo(unsafe).invoke(Object[].class);
            SHIFT = Integer.numberOfTrailingZeros(scale);
            PRODUCER_INDEX = l.findVarHandle(UnsafeSpscQueue.class, "producerIndex", long.class);
            PRODUCER_LIMIT = l.findVarHandle(UnsafeSpscQueue.class, "producerLimit", long.class);
            CONSUMER_INDEX = l.findVarHandle(UnsafeSpscQueue.class, "consumerIndex", long.class);
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // The two sides padded apart as in the pool's queues (there through inheritance, which fixes the
    // order; here the JVM may reorder fields, which one thread does not notice).
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    volatile long producerIndex;
    volatile long producerLimit;
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
    volatile long consumerIndex;
    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;
    private final Object[] buffer;
    private final int mask;
    private final int lookAhead;

    /**
     * @param capacity a power of two, at least 2
     */
    public UnsafeSpscQueue(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two of at least 2: " + capacity);
        }
        this.buffer = new Object[capacity];
        this.mask = capacity - 1;
        this.producerLimit = capacity;
        this.lookAhead = Math.max(1, Math.min(capacity / 4, 4096));
    }

    /** The slot of {@code index} as the pool computes it ({@code (int) index & mask}), as a raw offset. */
    private static long offset(long index, int mask) {
        return BASE + ((long) ((int) index & mask) << SHIFT);
    }

    private static void storeRelease(Object[] buf, long offset, Object e) {
        try {
            PUT_ORDERED.invokeExact((Object) buf, offset, e);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** A plain load, then an acquire fence: {@code SpscArrayQueue}'s {@code loadAcquire}. */
    private static Object loadAcquire(Object[] buf, long offset) {
        Object e;
        try {
            e = (Object) GET_PLAIN.invokeExact((Object) buf, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        VarHandle.acquireFence();
        return e;
    }

    /** {@code SpscArrayQueue.offer}, with unchecked array access. */
    public boolean offer(E e) {
        if (e == null) {
            throw new NullPointerException("element");
        }
        Object[] buf = buffer;
        int m = mask;
        long p = (long) PRODUCER_INDEX.get(this);
        if (p >= (long) PRODUCER_LIMIT.get(this) && !roomAhead(buf, m, p)) {
            return false;
        }
        storeRelease(buf, offset(p, m), e);
        PRODUCER_INDEX.setRelease(this, p + 1);
        return true;
    }

    private boolean roomAhead(Object[] buf, int m, long p) {
        long ahead = p + lookAhead;
        if (loadAcquire(buf, offset(ahead, m)) == null) {
            PRODUCER_LIMIT.set(this, ahead);
            return true;
        }
        if (loadAcquire(buf, offset(p, m)) == null) {
            PRODUCER_LIMIT.set(this, p + 1);
            return true;
        }
        return false;
    }

    /** {@code SpscArrayQueue.poll}, with unchecked array access. */
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        long c = (long) CONSUMER_INDEX.get(this);
        long offset = offset(c, mask);
        Object e = loadAcquire(buf, offset);
        if (e == null) {
            return null;
        }
        storeRelease(buf, offset, null);
        CONSUMER_INDEX.setRelease(this, c + 1);
        return (E) e;
    }
}
