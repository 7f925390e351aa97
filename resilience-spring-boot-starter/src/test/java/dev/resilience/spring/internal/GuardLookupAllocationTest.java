package dev.resilience.spring.internal;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.annotation.Retry;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A guarded call looks its guard up on every call (the interceptor asks {@link Guards} each time):
 * that lookup must allocate nothing, for a class's method and for a proxy of an interface, whose
 * lookup asks up to three times.
 */
class GuardLookupAllocationTest {

    /** An interface with an annotated method, and a class implementing it with one of its own. */
    interface Orders {
        @Retry(name = "orders")
        String find(String id);
    }

    /** A base interface without annotations, and one annotated on its type that inherits its method. */
    interface Base {
        String get(String id);
    }

    @Retry(name = "orders")
    interface Repository extends Base {
    }

    static class OrderService implements Orders {
        @Override
        public String find(String id) {
            return id;
        }

        @Retry(name = "orders")
        public String place(String id) {
            return id;
        }

        public String plain(String id) {
            return id;
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static long allocated() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    void lookingUpAGuardAllocatesNothing() throws Exception {
        ResilienceRegistry registry = ResilienceRegistry.builder().build();
        Guards guards = new Guards(() -> registry);
        OrderService target = new OrderService();
        Method place = OrderService.class.getMethod("place", String.class);
        Method plain = OrderService.class.getMethod("plain", String.class);
        Method find = Orders.class.getMethod("find", String.class);
        Method get = Base.class.getMethod("get", String.class);
        List<Class<?>> interfaces = List.of(Orders.class);
        List<Class<?>> repositories = List.of(Repository.class);
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled(),
                "this JVM counts the bytes a thread allocates");

        Guard placed = guards.guardFor(place, target);
        assertNotNull(placed, "the annotated method has a guard");
        assertNull(guards.guardFor(plain, target), "the method without annotations has none");
        Guard found = guards.guardFor(find, null, interfaces);
        assertNotNull(found, "the interface's annotated method has a guard through a proxy without a target");
        Guard inherited = guards.guardFor(get, null, repositories);
        assertNotNull(inherited, "the inherited method of an annotated interface: found by the third lookup");

        int calls = 200_000;
        Object sink = null;
        allocated(); // the counter's own first call
        // Every round, the first ones run interpreted or by C1 (where no escape analysis removes a
        // per-call key object or iterator, as C2's later may): a 16-byte object per lookup would be
        // 12.8 MB a round;
        // allow a few stray objects of the JVM's own.
        for (int round = 0; round < 3; round++) {
            long before = allocated();
            for (int i = 0; i < calls; i++) {
                sink = guards.guardFor(place, target);
                sink = guards.guardFor(plain, target);
                sink = guards.guardFor(find, null, interfaces);
                sink = guards.guardFor(get, null, repositories);
            }
            long bytes = allocated() - before;
            assertTrue(bytes < 64 * 1024, "round " + round + ": 4 x " + calls + " lookups allocated " + bytes + " bytes");
        }
        assertSame(inherited, sink, "the same guard every time");
        assertSame(placed, guards.guardFor(place, target));
    }
}
