package dev.resilience.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.resilience.pool.Allocator;
import dev.resilience.pool.Lease;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.Recycler;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.LL_Result;

/** jcstress tests of the object pool's one-CAS claim and of the recycler's shared queue. */
public final class PoolStress {

    private PoolStress() {
    }

    /** A pooled object that knows whether somebody holds it. */
    static final class Held {
        final AtomicBoolean held = new AtomicBoolean();
    }

    /** One shared pool of one object, built once (a pool per state would start a thread each time). */
    static final ObjectPool<Held> ONE = ObjectPool.builder(new Allocator<Held>() {
        @Override
        public Held allocate() {
            return new Held();
        }

        @Override
        public void deallocate(Held o) {
        }
    }).maxSize(1).minIdle(1).borrowTimeout(Duration.ofSeconds(1)).build();

    /** 0: found nothing idle; 1: held the object alone; 2: found it already held (lent twice). */
    static int borrowHoldReturn() {
        Lease<Held> lease = ONE.tryBorrow();
        if (lease == null) {
            return 0;
        }
        Held h = lease.get();
        int outcome = h.held.compareAndSet(false, true) ? 1 : 2;
        h.held.set(false);
        lease.close();
        return outcome;
    }

    /**
     * Two threads borrow the pool's only object, mark it held, and return it, racing through the
     * per-thread hint and the idle queue: never does one find it held by the other.
     */
    @JCStressTest
    @Outcome(id = {"0, 0", "0, 1", "1, 0", "1, 1"}, expect = ACCEPTABLE, desc = "never lent twice")
    @Outcome(expect = FORBIDDEN, desc = "one object held by both")
    @State
    public static class OneObjectTwoBorrowers {
        @Actor
        public void borrower1(II_Result r) {
            r.r1 = borrowHoldReturn();
        }

        @Actor
        public void borrower2(II_Result r) {
            r.r2 = borrowHoldReturn();
        }
    }

    /** A release on one thread and a get on another through the shared queue: never two holders. */
    @JCStressTest
    @Outcome(id = {"kept, fresh", "kept, kept"}, expect = ACCEPTABLE, desc = "the get found it or made a new one")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class RecyclerHandOff {
        final Object kept = new Object();
        final Recycler<Object> r = Recycler.builder(Object::new).perThreadCapacity(0).sharedCapacity(2).build();

        @Actor
        public void releaser(LL_Result res) {
            res.r1 = r.release(kept) ? "kept" : "dropped";
        }

        @Actor
        public void getter(LL_Result res) {
            res.r2 = r.get() == kept ? "kept" : "fresh";
        }
    }
}
