package dev.resilience.grpc;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Deadline;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A bridge between the toolkit's {@link Context} and {@code io.grpc.Context}, for services that use
 * both: each direction makes a child on the other side that carries the same deadline and is
 * cancelled when the source is. Both directions unhook themselves when either side ends, so a
 * long-lived source collects no listeners.
 *
 * <pre>{@code
 * // ours -> gRPC: code that reads io.grpc.Context (a plain stub, a library) sees our deadline and cancellation
 * io.grpc.Context.CancellableContext grpc = GrpcContexts.toGrpc(Context.current());
 * try {
 *     grpc.run(() -> plainStub.check(item));
 * } finally {
 *     grpc.cancel(null);                       // done with it: unhooks it from ours
 * }
 *
 * // gRPC -> ours: code that reads Context.current() sees io.grpc.Context's deadline and cancellation
 * try (CancelHandle ours = GrpcContexts.fromGrpc(io.grpc.Context.current()); Scope s = ours.attach()) {
 *     limiter.acquire();                       // waits no longer than the gRPC deadline
 * }
 * }</pre>
 *
 * <p><b>Deadlines</b> cross as remaining time: each side measures its deadline on its own ticker
 * (ours on any {@link Ticker}, gRPC's on {@code System.nanoTime()}). From gRPC to ours the child's
 * deadline is never later than its source's; from ours to gRPC it can be later by the time between our
 * reading of the remaining time and gRPC's own clock reading in {@code Deadline.after} (nanoseconds,
 * unless the thread is descheduled between them). <b>Causes</b> cross too: our deadline reaches gRPC as a
 * {@link TimeoutException} (which {@code io.grpc.Contexts.statusFromCancelled} reports as
 * {@code DEADLINE_EXCEEDED}, its cause our {@link DeadlineExceededException}), our cancellation as
 * our {@link dev.resilience.context.ContextCancelledException} (which carries the cancel's cause;
 * gRPC reports {@code CANCELLED}); gRPC's cancellation cause becomes ours
 * (our {@link Context#cause()}), and gRPC's deadline, being no earlier than ours, is exceeded on our
 * side as a {@link DeadlineExceededException}.
 *
 * <p>Within a gRPC server that runs {@link ResilienceServerInterceptor}, and a client that runs
 * {@link ResilienceClientInterceptor}, neither direction is needed: the interceptors do it per call.
 */
public final class GrpcContexts {

    /** Runs gRPC listeners on the thread that cancels (they only cancel the other side). */
    static final Executor DIRECT = Runnable::run;

    private GrpcContexts() {
    }

    /**
     * A child of {@code io.grpc.Context.current()} with our context's deadline (if it has one and
     * it is earlier than the gRPC parent's), cancelled when our context is done; see
     * {@link #toGrpc(Context, io.grpc.Context)}.
     *
     * @param ours the source
     * @return the gRPC context; cancel it when done with it
     */
    public static io.grpc.Context.CancellableContext toGrpc(Context ours) {
        return toGrpc(ours, io.grpc.Context.current());
    }

    /**
     * A child of {@code parent} with our context's deadline (if it has one and it is earlier than the
     * parent's), cancelled when our context is done: with a {@link TimeoutException} when our
     * deadline passed (gRPC reports {@code DEADLINE_EXCEEDED}), else with our
     * {@link Context#err()}. Already done, ours gives a context that is cancelled at
     * once. Cancel the returned context when done with it ({@code cancel(null)}): that withdraws its
     * listener from ours. It also withdraws itself when it ends any other way (its parent, its own
     * deadline).
     *
     * @param ours the source
     * @param parent the gRPC parent: values and cancellation are inherited from it
     * @return the gRPC context
     */
    public static io.grpc.Context.CancellableContext toGrpc(Context ours, io.grpc.Context parent) {
        Objects.requireNonNull(ours, "ours");
        Objects.requireNonNull(parent, "parent");
        long remaining = ours.remainingNanos();
        io.grpc.Context.CancellableContext grpc = remaining == Long.MAX_VALUE
                ? parent.withCancellation()
                : parent.withDeadline(io.grpc.Deadline.after(remaining, TimeUnit.NANOSECONDS), DelayScheduler.INSTANCE);
        ToGrpc link = new ToGrpc(ours, grpc);
        link.registration = ours.onDone(link, DIRECT); // done already: cancels grpc at once
        grpc.addListener(link, DIRECT); // grpc ends first: withdraw from ours
        return grpc;
    }

    /**
     * A child of {@link Context#background()} with {@code grpc}'s deadline, cancelled when
     * {@code grpc} is; see {@link #fromGrpc(io.grpc.Context, Context)}.
     *
     * @param grpc the source
     * @return our context's handle; close it when done with it
     */
    public static CancelHandle fromGrpc(io.grpc.Context grpc) {
        return fromGrpc(grpc, Context.background());
    }

    /**
     * A child of {@code parent} with {@code grpc}'s deadline (measured on {@link Ticker#system()}),
     * cancelled with gRPC's {@linkplain io.grpc.Context#cancellationCause() cancellation cause} when
     * {@code grpc} is cancelled (at once, if it already is). Close the handle when done with it: that
     * withdraws its listener from {@code grpc}; it also withdraws itself when it ends any other way
     * (its parent, its deadline). A {@code grpc} context that can never be cancelled
     * ({@code ROOT}, or one with values only) gives a plain cancellable child.
     *
     * @param grpc the source
     * @param parent our parent: values and cancellation are inherited from it
     * @return our context's handle
     */
    public static CancelHandle fromGrpc(io.grpc.Context grpc, Context parent) {
        Objects.requireNonNull(grpc, "grpc");
        Objects.requireNonNull(parent, "parent");
        CancelHandle ours = derive(parent, grpc.getDeadline());
        FromGrpc link = follow(grpc, ours);
        ours.context().onDone(link::release, DIRECT);
        return ours;
    }

    // ---------------------------------------------------------------- shared with the interceptors

    /**
     * A child of {@code parent} whose deadline is {@code deadline}'s, read so that ours is never
     * later: the clock is read before gRPC's remaining time is.
     */
    static CancelHandle derive(Context parent, io.grpc.Deadline deadline) {
        return derive(parent, deadline, -1, -1);
    }

    /**
     * As {@link #derive(Context, io.grpc.Deadline)}, with a server's own bounds: a deadline further
     * away than {@code maxNanos} is cut to it, and without one the child gets {@code defaultNanos}
     * (-1: no bound, no default). Within what a deadline can be; a passed one is due now. A cut
     * deadline is reported to the adaptive limit starting the call, if any
     * ({@link AdaptiveLimitServerInterceptor#clientDeadlineCut()}).
     */
    static CancelHandle derive(Context parent, io.grpc.Deadline deadline, long maxNanos, long defaultNanos) {
        if (deadline == null && defaultNanos < 0) {
            return parent.withCancel();
        }
        long now = System.nanoTime(); // before gRPC's remaining time: ours is never later than gRPC's
        long remaining = deadline == null ? defaultNanos : deadline.timeRemaining(TimeUnit.NANOSECONDS);
        if (deadline != null && maxNanos >= 0 && remaining > maxNanos) {
            remaining = maxNanos;
            AdaptiveLimitServerInterceptor.clientDeadlineCut(); // an adaptive limit outside: the deadline is the server's now
        }
        remaining = Math.max(0, Math.min(remaining, Deadline.MAX_OFFSET_NANOS));
        return parent.withDeadline(Deadline.at(now + remaining, Ticker.system()));
    }

    /** Cancels {@code ours} when {@code grpc} is cancelled, until the returned link is released. */
    static FromGrpc follow(io.grpc.Context grpc, CancelHandle ours) {
        FromGrpc link = new FromGrpc(grpc, ours);
        grpc.addListener(link, DIRECT); // fires at once if grpc is cancelled already
        return link;
    }

    /** What gRPC should be told when our context is done: see {@link #toGrpc(Context, io.grpc.Context)}. */
    static Throwable grpcCause(Context ours) {
        ContextDoneException e = ours.err();
        if (e instanceof DeadlineExceededException) {
            TimeoutException t = new TimeoutException("context deadline exceeded");
            t.initCause(e);
            return t;
        }
        return e;
    }

    /** Ours to gRPC: cancels the gRPC context when ours is done; withdraws itself when gRPC's ends. */
    private static final class ToGrpc implements Runnable, io.grpc.Context.CancellationListener {
        private final Context ours;
        private final io.grpc.Context.CancellableContext grpc;
        volatile Registration registration;

        ToGrpc(Context ours, io.grpc.Context.CancellableContext grpc) {
            this.ours = ours;
            this.grpc = grpc;
        }

        @Override
        public void run() {
            grpc.cancel(grpcCause(ours));
        }

        @Override
        public void cancelled(io.grpc.Context context) {
            Registration r = registration;
            if (r != null) {
                r.remove();
            }
        }
    }

    /** gRPC to ours: cancels ours when gRPC's context is cancelled; {@link #release} unhooks it. */
    static final class FromGrpc implements io.grpc.Context.CancellationListener {
        private final io.grpc.Context grpc;
        private final CancelHandle ours;

        FromGrpc(io.grpc.Context grpc, CancelHandle ours) {
            this.grpc = grpc;
            this.ours = ours;
        }

        @Override
        public void cancelled(io.grpc.Context context) {
            if (ours.context().isDone()) {
                return; // our deadline, no later than gRPC's, has passed: keep DeadlineExceededException
            }
            Throwable cause = context.cancellationCause();
            if (cause == null) {
                ours.cancel();
            } else {
                ours.cancel(cause);
            }
        }

        /** Stops listening to gRPC's context. */
        void release() {
            grpc.removeListener(this);
        }
    }
}
