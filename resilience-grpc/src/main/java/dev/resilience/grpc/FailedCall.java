package dev.resilience.grpc;

import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * A call that fails when started, without a channel below it: what the client interceptor returns
 * when the context is already done. The listener is closed through the call's executor, if the
 * call options name one (a blocking stub's), else on the starting thread.
 */
final class FailedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {

    private final Status status;
    private final Executor executor;

    FailedCall(Status status, Executor executor) {
        this.status = status;
        this.executor = executor;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(headers, "headers");
        Delivery.run(executor, () -> Delivery.close(listener, status, new Metadata()));
    }

    @Override
    public void request(int numMessages) {
        // nothing will come
    }

    @Override
    public void cancel(String message, Throwable cause) {
        // closed already (or will be, on start)
    }

    @Override
    public void halfClose() {
        // nothing to send
    }

    @Override
    public void sendMessage(ReqT message) {
        // dropped: the call has failed
    }

    @Override
    public boolean isReady() {
        return false;
    }
}
