package dev.resilience.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.resilience.pool.MessageQueue;
import dev.resilience.pool.MpmcArrayQueue;
import dev.resilience.pool.MpscArrayQueue;
import dev.resilience.pool.SpscArrayQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * jcstress tests of the queues: a racing producer and consumer never see a torn or invented element,
 * and racing producers never lose or duplicate one. Each queue has capacity 2, so the races also
 * cover the full and empty edges.
 */
public final class QueueStress {

    private QueueStress() {
    }

    static int orMinusOne(Integer e) {
        return e == null ? -1 : e;
    }

    /** SPSC: one offer of 1 races one poll; the poll sees nothing or 1, and the element is never lost. */
    @JCStressTest
    @Outcome(id = "-1, 1", expect = ACCEPTABLE, desc = "poll ran first; the element is still there")
    @Outcome(id = "1, -1", expect = ACCEPTABLE, desc = "poll took the element")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated or invented")
    @State
    public static class SpscOfferPoll {
        final MessageQueue<Integer> q = new SpscArrayQueue<>(2);

        @Actor
        public void producer() {
            q.offer(1);
        }

        @Actor
        public void consumer(II_Result r) {
            r.r1 = orMinusOne(q.poll());
        }

        @Arbiter
        public void after(II_Result r) {
            r.r2 = orMinusOne(q.poll());
        }
    }

    /** MPSC: two producers race; the single consumer finds both, exactly once each. */
    @JCStressTest
    @Outcome(id = {"1, 2, -1", "2, 1, -1"}, expect = ACCEPTABLE, desc = "both arrived once")
    @Outcome(expect = FORBIDDEN, desc = "lost or duplicated")
    @State
    public static class MpscTwoProducers {
        final MessageQueue<Integer> q = new MpscArrayQueue<>(2);

        @Actor
        public void producer1() {
            q.offer(1);
        }

        @Actor
        public void producer2() {
            q.offer(2);
        }

        @Arbiter
        public void after(III_Result r) {
            r.r1 = orMinusOne(q.poll());
            r.r2 = orMinusOne(q.poll());
            r.r3 = orMinusOne(q.poll());
        }
    }

    /** MPMC: two consumers race for two elements; each gets one, nothing is left or doubled. */
    @JCStressTest
    @Outcome(id = {"1, 2, -1", "2, 1, -1"}, expect = ACCEPTABLE, desc = "one each")
    @Outcome(expect = FORBIDDEN, desc = "lost, duplicated or left behind")
    @State
    public static class MpmcTwoConsumers {
        final MessageQueue<Integer> q = new MpmcArrayQueue<>(2);

        public MpmcTwoConsumers() {
            q.offer(1);
            q.offer(2);
        }

        @Actor
        public void consumer1(III_Result r) {
            r.r1 = orMinusOne(q.poll());
        }

        @Actor
        public void consumer2(III_Result r) {
            r.r2 = orMinusOne(q.poll());
        }

        @Arbiter
        public void after(III_Result r) {
            r.r3 = orMinusOne(q.poll());
        }
    }

    /** MPMC batch fill racing a batch drain: every element is delivered exactly once overall. */
    @JCStressTest
    @Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "drain took both")
    @Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "drain took one, one left")
    @Outcome(id = "0, 2", expect = ACCEPTABLE, desc = "drain ran first")
    @Outcome(expect = FORBIDDEN, desc = "lost or duplicated")
    @State
    public static class MpmcFillDrain {
        final MessageQueue<Integer> q = new MpmcArrayQueue<>(2);
        int next = 1;

        @Actor
        public void filler() {
            q.fill(() -> next++, 2);
        }

        @Actor
        public void drainer(II_Result r) {
            r.r1 = q.drain(e -> { }, 2);
        }

        @Arbiter
        public void after(II_Result r) {
            r.r2 = q.drain(e -> { });
        }
    }
}
