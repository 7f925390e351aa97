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
 * An unguarded call under a context that can be cancelled: the call is made under a child of the
 * caller's {@code io.grpc.Context} that our context cancels, so grpc-java's own machinery cancels
 * the stream (safely from any thread, with {@code DEADLINE_EXCEEDED} for a deadline and
 * {@code CANCELLED} otherwise, and without a stream at all if the context is done before the call
 * starts). The hook into our context exists from {@code start} until {@code onClose}; the link is
 * garbage once grpc-java's call has removed its listener from it.
 */
final class ContextBoundCall<ReqT, RespT> extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {

    private final Context ours;
    private final io.grpc.Context.CancellableContext link;

    private ContextBoundCall(ClientCall<ReqT, RespT> delegate, Context ours, io.grpc.Context.CancellableContext link) {
        super(delegate);
        this.ours = ours;
        this.link = link;
    }

    static <ReqT, RespT> ClientCall<ReqT, RespT> create(MethodDescriptor<ReqT, RespT> method, CallOptions options,
            Channel next, Context ours) {
        io.grpc.Context.CancellableContext link = io.grpc.Context.current().withCancellation();
        io.grpc.Context previous = link.attach();
        ClientCall<ReqT, RespT> call;
        try {
            call = next.newCall(method, options); // grpc-java's call takes the current io.grpc.Context here
        } finally {
            link.detach(previous);
        }
        return new ContextBoundCall<>(call, ours, link);
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
        Unhook<RespT> unhook = new Unhook<>(listener, ours, link);
        // before start: a context done by now cancels the link, and the call fails without a stream
        unhook.registration = ours.onDone(unhook, GrpcContexts.DIRECT);
        try {
            super.start(unhook, headers);
        } catch (Throwable e) {
            unhook.release(); // no onClose will come
            link.cancel(null);
            throw e;
        }
    }

    /** Cancels the link when our context is done; unhooks from our context when the call closes. */
    private static final class Unhook<RespT> extends ForwardingClientCallListener.SimpleForwardingClientCallListener<RespT>
            implements Runnable {
        private final Context ours;
        private final io.grpc.Context.CancellableContext link;
        volatile Registration registration;

        Unhook(Listener<RespT> delegate, Context ours, io.grpc.Context.CancellableContext link) {
            super(delegate);
            this.ours = ours;
            this.link = link;
        }

        @Override
        public void run() {
            link.cancel(GrpcContexts.grpcCause(ours));
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            release();
            super.onClose(status, trailers);
        }

        /**
         * Withdraws the hook from our context. The link needs no cancelling: grpc-java's call removes
         * its listener from it right after {@code onClose}, which unhooks the link from its parent;
         * cancelling it here would only send a pointless cancel to the closed stream.
         */
        void release() {
            Registration r = registration;
            if (r != null) {
                r.remove();
            }
        }
    }
}
