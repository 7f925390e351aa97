package dev.resilience.grpc;

import dev.resilience.context.Context;
import dev.resilience.context.Registration;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * An unguarded call under a context that can be cancelled: the call is made under a gRPC context
 * that our context cancels, so grpc-java's own machinery cancels the stream (safely from any thread,
 * with {@code DEADLINE_EXCEEDED} for a deadline and {@code CANCELLED} otherwise, and without a stream
 * at all if the context is done before the call starts). That context is a fork of the caller's
 * {@code io.grpc.Context} (its values), not a child: grpc-java (1.85) never takes back the listener a
 * child leaves on its cancellable ancestor, so a child per call would grow a long-lived gRPC context
 * (a streaming call's, say) by one listener per call. The caller's cancellation is forwarded by a
 * listener added at {@code start} and removed at {@code onClose}, and its deadline goes on the call's
 * options. Our hook exists from {@code start} until {@code onClose} too.
 */
final class ContextBoundCall<ReqT, RespT> extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {

    private final Context ours;
    private final io.grpc.Context parent;
    private final io.grpc.Context.CancellableContext link;

    private ContextBoundCall(ClientCall<ReqT, RespT> delegate, Context ours, io.grpc.Context parent,
            io.grpc.Context.CancellableContext link) {
        super(delegate);
        this.ours = ours;
        this.parent = parent;
        this.link = link;
    }

    static <ReqT, RespT> ClientCall<ReqT, RespT> create(MethodDescriptor<ReqT, RespT> method, CallOptions options,
            Channel next, Context ours) {
        io.grpc.Context parent = io.grpc.Context.current();
        io.grpc.Context.CancellableContext link = parent.fork().withCancellation();
        io.grpc.Deadline inherited = parent.getDeadline(); // the fork has none: it goes on the options
        CallOptions bounded = inherited != null && (options.getDeadline() == null || inherited.isBefore(options.getDeadline()))
                ? options.withDeadline(inherited) : options;
        io.grpc.Context previous = link.attach();
        ClientCall<ReqT, RespT> call;
        try {
            call = next.newCall(method, bounded); // grpc-java's call takes the current io.grpc.Context here
        } finally {
            link.detach(previous);
        }
        return new ContextBoundCall<>(call, ours, parent, link);
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
        Unhook<RespT> unhook = new Unhook<>(listener, ours, parent, link);
        // before start: a context done by now (ours or the caller's gRPC one) cancels the link, and
        // the call fails without a stream
        parent.addListener(unhook, GrpcContexts.DIRECT);
        unhook.registration = ours.onDone(unhook, GrpcContexts.DIRECT);
        try {
            super.start(unhook, headers);
        } catch (Throwable e) {
            unhook.release(); // no onClose will come
            link.cancel(null);
            throw e;
        }
    }

    /**
     * Cancels the link when our context or the caller's gRPC context is done; unhooks from both when
     * the call closes.
     */
    private static final class Unhook<RespT> extends ForwardingClientCallListener.SimpleForwardingClientCallListener<RespT>
            implements Runnable, io.grpc.Context.CancellationListener {
        private final Context ours;
        private final io.grpc.Context parent;
        private final io.grpc.Context.CancellableContext link;
        volatile Registration registration;

        Unhook(Listener<RespT> delegate, Context ours, io.grpc.Context parent, io.grpc.Context.CancellableContext link) {
            super(delegate);
            this.ours = ours;
            this.parent = parent;
            this.link = link;
        }

        /** Our context is done. */
        @Override
        public void run() {
            link.cancel(GrpcContexts.grpcCause(ours));
        }

        /** The caller's gRPC context was cancelled (or its deadline passed): as a child would be. */
        @Override
        public void cancelled(io.grpc.Context context) {
            link.cancel(context.cancellationCause());
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            release();
            super.onClose(status, trailers);
        }

        /**
         * Withdraws the hooks from our context and the caller's gRPC context. The link needs no
         * cancelling: it hangs on nothing (a fork), and cancelling it here would only send a pointless
         * cancel to the closed stream.
         */
        void release() {
            Registration r = registration;
            if (r != null) {
                r.remove();
            }
            parent.removeListener(this);
        }
    }
}
