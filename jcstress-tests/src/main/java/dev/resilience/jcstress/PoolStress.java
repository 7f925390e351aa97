package dev.resilience.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.resilience.pool.Allocator;
import dev.resilience.pool.Lease;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.Recycler;
import java.time.Duration;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;
import org.openjdk.jcstress.infra.results.LL_Result;

/** jcstress tests of the object pool's one-CAS claim and of the recycler's shared queue. */
public final class PoolStress {

    private PoolStress() {
    }

    /** One shared pool of one object, built once (a pool per state would start a thread each time). */
    static final ObjectPool<Object> ONE = ObjectPool.builder(new Allocator<Object>() {
        @Override
        public Object allocate() {
            return new Object();
        }

        @Override
        public void deallocate(Object o) {
        }
    }).maxSize(1).minIdle(1).borrowTimeout(Duration.ofSeconds(1)).build();

    /** Two threads race for the only idle object: exactly one wins (when it is idle at the start). */
    @JCStressTest
    @Outcome(id = {"true, false", "false, true"}, expect = ACCEPTABLE, desc = "one winner")
    @Outcome(id = "false, false", expect = ACCEPTABLE, desc = "the object was not idle yet (pool warming up)")
    @Outcome(id = "true, true", expect = FORBIDDEN, desc = "one object lent twice")
    @State
    public static class OneObjectTwoBorrowers {
        Lease<Object> a;
        Lease<Object> b;

        @Actor
        public void borrower1(ZZ_Result r) {
            a = ONE.tryBorrow();
            r.r1 = a != null;
        }

        @Actor
        public void borrower2(ZZ_Result r) {
            b = ONE.tryBorrow();
            r.r2 = b != null;
        }

        @org.openjdk.jcstress.annotations.Arbiter
        public void returnIt(ZZ_Result r) {
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
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
