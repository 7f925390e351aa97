package dev.resilience.grpc;

import dev.resilience.context.CancelHandle;
import java.lang.reflect.Method;

/**
 * Leak checks: the package-private listener counts of {@code io.grpc.Context} and of our
 * {@link CancelHandle}, read by reflection (the tests run on the class path).
 */
final class GrpcInternals {

    private GrpcInternals() {
    }

    /** Listeners registered on a gRPC context (on its nearest cancellable ancestor). */
    static int listenerCount(io.grpc.Context context) throws ReflectiveOperationException {
        Method m = io.grpc.Context.class.getDeclaredMethod("listenerCount");
        m.setAccessible(true);
        return (int) m.invoke(context);
    }

    /** Listener cells held by one of our contexts, withdrawn ones not yet compacted included. */
    static int listenerCells(CancelHandle handle) throws ReflectiveOperationException {
        Method m = CancelHandle.class.getDeclaredMethod("listenerCellCount");
        m.setAccessible(true);
        return (int) m.invoke(handle);
    }
}
