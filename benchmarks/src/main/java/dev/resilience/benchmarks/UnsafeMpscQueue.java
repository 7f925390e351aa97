package dev.resilience.benchmarks;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;

/**
 * Not a product: {@code dev.resilience.pool.MpscArrayQueue}'s offer and poll, line for line, with its
 * array accesses made through {@code sun.misc.Unsafe} at raw offsets, as JCTools makes them (no
 * bounds check, no check of the array's class on a store); the MPSC counterpart of
 * {@link UnsafeSpscQueue}, for {@link QueueSafetyTaxBenchmark}. The indices keep ours (VarHandles on
 * padded fields, a CAS to claim a slot), and so does the poll's skip of a filler a failed batch
 * {@code fill} would leave (this copy has no {@code fill}, so the compare never matches, but it is
 * paid as in ours).
 *
 * @param <E> the element type
 */
public final class UnsafeMpscQueue<E> {

    private static final Object FILLER = new Object();
    private static final MethodHandle PUT_ORDERED; // (Object, long, Object) void: a release store
    private static final MethodHandle PUT_PLAIN; // (Object, long, Object) void
    private static final MethodHandle GET_PLAIN; // (Object, long) Object
    private static final MethodHandle GET_VOLATILE; // (Object, long) Object
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
            MethodType put = MethodType.methodType(void.class, Object.class, long.class, Object.class);
            MethodType get = MethodType.methodType(Object.class, Object.class, long.class);
            PUT_ORDERED = l.findVirtual(unsafeClass, "putOrderedObject", put).bindTo(unsafe);
            PUT_PLAIN = l.findVirtual(unsafeClass, "putObject", put).bindTo(unsafe);
            GET_PLAIN = l.findVirtual(unsafeClass, "getObject", get).bindTo(unsafe);
            GET_VOLATILE = l.findVirtual(unsafeClass, "getObjectVolatile", get).bindTo(unsafe);
            BASE = (int) l.findVirtual(unsafeClass, "arrayBaseOffset", MethodType.methodType(int.class, Class.class))
                    .bindTo(unsafe).invoke(Object[].class);
            int scale = (int) l.findVirtual(unsafeClass, "arrayIndexScale", MethodType.methodType(int.class, Class.class))
                    .bindTo(unsafe).invoke(Object[].class);
            SHIFT = Integer.numberOfTrailingZeros(scale);
            PRODUCER_INDEX = l.findVarHandle(UnsafeMpscQueue.class, "producerIndex", long.class);
            PRODUCER_LIMIT = l.findVarHandle(UnsafeMpscQueue.class, "producerLimit", long.class);
            CONSUMER_INDEX = l.findVarHandle(UnsafeMpscQueue.class, "consumerIndex", long.class);
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // The two sides padded apart as in the pool's queues (see UnsafeSpscQueue).
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    volatile long producerIndex;
    volatile long producerLimit;
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
    volatile long consumerIndex;
    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;
    private final Object[] buffer;
    private final int mask;

    /**
     * @param capacity a power of two, at least 2
     */
    public UnsafeMpscQueue(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two of at least 2: " + capacity);
        }
        this.buffer = new Object[capacity];
        this.mask = capacity - 1;
        this.producerLimit = capacity;
    }

    private static long offset(long index, int mask) {
        return BASE + ((long) ((int) index & mask) << SHIFT);
    }

    private static void invokePut(MethodHandle put, Object[] buf, long offset, Object e) {
        try {
            put.invokeExact((Object) buf, offset, e);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static Object invokeGet(MethodHandle get, Object[] buf, long offset) {
        try {
            return (Object) get.invokeExact((Object) buf, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code MpscArrayQueue.offer}, with unchecked array access. */
    public boolean offer(E e) {
        if (e == null) {
            throw new NullPointerException("element");
        }
        long limit = producerLimit;
        long p;
        do {
            p = producerIndex;
            if (p >= limit) {
                limit = (long) CONSUMER_INDEX.getAcquire(this) + mask + 1;
                if (p >= limit) {
                    return false;
                }
                PRODUCER_LIMIT.setRelease(this, limit);
            }
        } while (!PRODUCER_INDEX.compareAndSet(this, p, p + 1));
        invokePut(PUT_ORDERED, buffer, offset(p, mask), e);
        return true;
    }

    /** {@code MpscArrayQueue.poll} (its {@code next(true, true)}), with unchecked array access. */
    @SuppressWarnings("unchecked")
    public E poll() {
        Object[] buf = buffer;
        int m = mask;
        long c = (long) CONSUMER_INDEX.get(this);
        for (;;) {
            long offset = offset(c, m);
            Object e = invokeGet(GET_PLAIN, buf, offset);
            VarHandle.acquireFence();
            if (e == null) {
                if (c == producerIndex) {
                    return null;
                }
                while ((e = invokeGet(GET_VOLATILE, buf, offset)) == null) {
                    Thread.onSpinWait();
                }
            }
            invokePut(PUT_PLAIN, buf, offset, null);
            CONSUMER_INDEX.setRelease(this, ++c);
            if (e != FILLER) {
                return (E) e;
            }
        }
    }
}
