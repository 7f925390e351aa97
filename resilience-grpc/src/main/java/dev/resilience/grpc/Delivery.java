package dev.resilience.grpc;

import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Calls into the application's {@link ClientCall.Listener} the way grpc-java's own calls do: a
 * listener that throws from {@code onHeaders} or {@code onMessage} gets {@code onClose} with
 * {@code CANCELLED} and what it threw; one that throws from {@code onClose} is logged, never
 * propagated into a thread of ours.
 */
final class Delivery {

    private static final System.Logger LOG = System.getLogger("dev.resilience.grpc");

    private Delivery() {
    }

    /** Runs {@code task} through {@code executor}, or here if there is none or it refuses. */
    static void run(Executor executor, Runnable task) {
        if (executor == null) {
            task.run();
            return;
        }
        try {
            executor.execute(task);
        } catch (Throwable refused) { // a shut-down or failing executor: the listener is still told
            task.run();
        }
    }

    /** Delivers a whole unary outcome: headers (if any), the message (if any), then the close. */
    static <T> void deliver(ClientCall.Listener<T> listener, Metadata headers, T message, Status status,
            Metadata trailers) {
        if (headers != null) {
            try {
                listener.onHeaders(headers);
            } catch (Throwable t) {
                close(listener, Status.CANCELLED.withDescription("Failed to read headers").withCause(t), new Metadata());
                return;
            }
        }
        if (message != null) {
            try {
                listener.onMessage(message);
            } catch (Throwable t) {
                close(listener, Status.CANCELLED.withDescription("Failed to read message.").withCause(t), new Metadata());
                return;
            }
        }
        close(listener, status, trailers);
    }

    /** {@code listener.onClose}, logging what it throws. */
    static void close(ClientCall.Listener<?> listener, Status status, Metadata trailers) {
        try {
            listener.onClose(status, trailers);
        } catch (Throwable t) {
            try {
                LOG.log(System.Logger.Level.WARNING, "the application's ClientCall.Listener.onClose threw", t);
            } catch (Throwable ignored) {
                // logging itself failed
            }
        }
    }
}
