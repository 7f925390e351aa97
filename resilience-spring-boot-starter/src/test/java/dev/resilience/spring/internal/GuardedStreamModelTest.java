package dev.resilience.spring.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;

/**
 * Model checking (Lincheck) of the {@code Flux} guard's lock-free parts: the gate that lets one
 * attempt only deliver (an element racing the retry's question), the demand handed from a retried
 * attempt to the next (a subscriber's request racing the switch), and the elements serialized with
 * the stream's end. Every interleaving
 * Lincheck explores must keep the invariants.
 */
class GuardedStreamModelTest {

    /** As in the core's model checks: 500 in {@code mvn verify}, {@code -Dlincheck.invocations=5000} deeper. */
    private static final int INVOCATIONS = Integer.getInteger("lincheck.invocations", 500);

    /** A subscriber that counts what it is given, and notes a signal after the end or two at once. */
    static final class Counting implements CoreSubscriber<Object> {
        final AtomicLong received = new AtomicLong();
        final AtomicLong ends = new AtomicLong();
        final AtomicLong inside = new AtomicLong();
        volatile boolean broken;

        @Override
        public void onSubscribe(Subscription s) {
        }

        @Override
        public void onNext(Object o) {
            if (inside.getAndIncrement() != 0 || ends.get() != 0) {
                broken = true;
            }
            received.incrementAndGet();
            inside.decrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
            onComplete();
        }

        @Override
        public void onComplete() {
            if (inside.get() != 0) {
                broken = true;
            }
            ends.incrementAndGet();
        }
    }

    /** A source's subscription that sums what it is asked for. */
    static final class Source implements Subscription {
        final AtomicLong requested = new AtomicLong();

        @Override
        public void request(long n) {
            requested.addAndGet(n);
        }

        @Override
        public void cancel() {
        }
    }

    private static GuardedStream.Call call(Counting subscriber) {
        return new GuardedStream.Call(subscriber, () -> null, Context.background(), Context.background().withCancel());
    }

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    private static void join(Thread... threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void anElementRacingTheRetrysQuestionIsDeliveredOrRetriedNeverBoth() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Counting subscriber = new Counting();
            GuardedStream.Call call = call(subscriber);
            GuardedStream.Attempt first = new GuardedStream.Attempt(call, 1, Context.background());
            call.open(first);
            boolean[] delivered = new boolean[2];
            boolean[] retried = new boolean[1];
            // attempt 1 emits an element while its end (a timeout) makes the retry ask whether to go on
            Thread element = start(() -> delivered[0] = call.mayDeliver(1));
            Thread retry = start(() -> {
                retried[0] = call.getAsBoolean();
                if (retried[0]) {
                    call.open(new GuardedStream.Attempt(call, 2, Context.background()));
                    delivered[1] = call.mayDeliver(2);
                }
            });
            join(element, retry);
            assertFalse(delivered[0] && retried[0], "attempt 1 delivered and the call was retried: a duplicate");
            assertTrue(delivered[0] || retried[0], "the element was dropped and no retry follows: lost");
            assertEquals(retried[0], delivered[1], "the retried attempt may deliver");
            assertFalse(call.mayDeliver(delivered[0] ? 2 : 1), "only the committed attempt delivers");
        });
    }

    @Test
    void elementsRacingTheStreamsEndArriveBeforeItNeverBesideOrAfterIt() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Counting subscriber = new Counting();
            GuardedStream.Call call = call(subscriber);
            call.open(new GuardedStream.Attempt(call, 1, Context.background()));
            Thread elements = start(() -> {
                call.next("a");
                call.next("b");
            });
            Thread end = start(() -> call.end(null, null)); // the pipeline's outcome, from another thread
            join(elements, end);
            assertFalse(subscriber.broken, "an element beside or after the end");
            assertEquals(1, subscriber.ends.get(), "one end, delivered");
            assertTrue(subscriber.received.get() <= 2);
        });
    }

    @Test
    void aRequestRacingTheSwitchToTheNextAttemptReachesItOnceAndWhole() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            GuardedStream.Call call = call(new Counting());
            GuardedStream.Attempt first = new GuardedStream.Attempt(call, 1, Context.background());
            Source one = new Source();
            call.open(first);
            first.onSubscribe(one);
            call.request(1); // attempt 1 had 1 asked of it and delivered nothing
            Source two = new Source();
            Thread request = start(() -> call.request(2));
            Thread next = start(() -> {
                if (call.getAsBoolean()) {
                    GuardedStream.Attempt second = new GuardedStream.Attempt(call, 2, Context.background());
                    call.open(second);
                    second.onSubscribe(two);
                }
            });
            join(request, next);
            assertEquals(3, two.requested.get(), "the next attempt owes all the demand, once: " + two.requested.get());
            assertTrue(one.requested.get() <= 3, "attempt 1 was asked " + one.requested.get());
        });
    }
}
