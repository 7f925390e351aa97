package dev.resilience.benchmarks;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;

/**
 * Not a product: unchecked {@code Object[]} and {@code long[]} access through {@code sun.misc.Unsafe} at
 * raw offsets, as JCTools makes it (no bounds check, no check of the array's class on a store), for the
 * benchmark-only copies {@link UnsafeSpscQueue}, {@link UnsafeMpscQueue} and {@link UnsafeMpmcQueue}. Unsafe is reached
 * through method handles (a direct reference is a compiler warning no annotation silences); bound
 * and held in static finals, the JIT inlines them to the same intrinsics a direct call gets.
 */
final class UnsafeArrays {

    private static final MethodHandle PUT_ORDERED; // (Object, long, Object) void: a release store
    private static final MethodHandle PUT_PLAIN; // (Object, long, Object) void
    private static final MethodHandle GET_PLAIN; // (Object, long) Object
    private static final MethodHandle GET_VOLATILE; // (Object, long) Object
    private static final MethodHandle PUT_ORDERED_LONG; // (Object, long, long) void: a release store
    private static final MethodHandle GET_LONG_PLAIN; // (Object, long) long
    private static final long BASE;
    private static final int SHIFT;
    private static final long LONG_BASE;
    private static final int LONG_SHIFT;

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
            PUT_ORDERED_LONG = l.findVirtual(unsafeClass, "putOrderedLong",
                    MethodType.methodType(void.class, Object.class, long.class, long.class)).bindTo(unsafe);
            GET_LONG_PLAIN = l.findVirtual(unsafeClass, "getLong",
                    MethodType.methodType(long.class, Object.class, long.class)).bindTo(unsafe);
            MethodHandle base = l.findVirtual(unsafeClass, "arrayBaseOffset", MethodType.methodType(int.class, Class.class))
                    .bindTo(unsafe);
            MethodHandle scale = l.findVirtual(unsafeClass, "arrayIndexScale", MethodType.methodType(int.class, Class.class))
                    .bindTo(unsafe);
            BASE = (int) base.invoke(Object[].class);
            SHIFT = Integer.numberOfTrailingZeros((int) scale.invoke(Object[].class));
            LONG_BASE = (int) base.invoke(long[].class);
            LONG_SHIFT = Integer.numberOfTrailingZeros((int) scale.invoke(long[].class));
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private UnsafeArrays() {
    }

    /** The slot of {@code index} as the pool computes it ({@code (int) index & mask}), as a raw offset. */
    static long offset(long index, int mask) {
        return BASE + ((long) ((int) index & mask) << SHIFT);
    }

    /** The element of {@code index} in a {@code long[]} as the pool computes it, as a raw offset. */
    static long longOffset(long index, int mask) {
        return LONG_BASE + ((long) ((int) index & mask) << LONG_SHIFT);
    }

    /** A release store into a {@code long[]} ({@code putOrderedLong}). */
    static void storeRelease(long[] array, long offset, long value) {
        try {
            PUT_ORDERED_LONG.invokeExact((Object) array, offset, value);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * A plain load from a {@code long[]}, then an acquire fence: it orders later accesses as
     * {@code getAcquire} does, but by the JMM it is neither opaque (a loop of such loads need not see a
     * new store) nor atomic for a {@code long}; on x86-64 HotSpot it is the same single load. The
     * copies call it only where each pass of a loop also re-reads a volatile index.
     */
    static long loadAcquire(long[] array, long offset) {
        long v;
        try {
            v = (long) GET_LONG_PLAIN.invokeExact((Object) array, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        VarHandle.acquireFence();
        return v;
    }

    /** A release store ({@code putOrderedObject}). */
    static void storeRelease(Object[] buf, long offset, Object e) {
        try {
            PUT_ORDERED.invokeExact((Object) buf, offset, e);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** A plain store. */
    static void storePlain(Object[] buf, long offset, Object e) {
        try {
            PUT_PLAIN.invokeExact((Object) buf, offset, e);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** A plain load. */
    static Object loadPlain(Object[] buf, long offset) {
        try {
            return (Object) GET_PLAIN.invokeExact((Object) buf, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** A plain load, then an acquire fence: the pool's {@code loadAcquire}. */
    static Object loadAcquire(Object[] buf, long offset) {
        Object e = loadPlain(buf, offset);
        VarHandle.acquireFence();
        return e;
    }

    /** A volatile load. */
    static Object loadVolatile(Object[] buf, long offset) {
        try {
            return (Object) GET_VOLATILE.invokeExact((Object) buf, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
