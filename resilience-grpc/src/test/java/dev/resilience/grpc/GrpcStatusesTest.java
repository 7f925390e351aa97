package dev.resilience.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The classification of gRPC outcomes and the statuses of the toolkit's own failures. */
class GrpcStatusesTest {

    private static final Set<Status.Code> RETRYABLE =
            EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED, Status.Code.DEADLINE_EXCEEDED);
    private static final Set<Status.Code> CLIENT_ERRORS = EnumSet.of(Status.Code.INVALID_ARGUMENT,
            Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE, Status.Code.UNAUTHENTICATED,
            Status.Code.PERMISSION_DENIED, Status.Code.NOT_FOUND, Status.Code.ABORTED, Status.Code.ALREADY_EXISTS);

    @Test
    void everyCodeIsClassified() {
        for (Status.Code code : Status.Code.values()) {
            StatusRuntimeException e = Status.fromCode(code).asRuntimeException();
            assertEquals(RETRYABLE.contains(code), GrpcStatuses.isRetryable(e), "retryable: " + code);
            assertEquals(CLIENT_ERRORS.contains(code), GrpcStatuses.isClientError(e), "client error: " + code);
            assertEquals(code == Status.Code.CANCELLED, GrpcStatuses.isCancellation(e), "cancellation: " + code);
            assertEquals(code, GrpcStatuses.code(new IOException("wrapped", new StatusException(Status.fromCode(code)))));
        }
    }

    @Test
    void statusesMadeFromOurOwnCancellationOrARefusalAreNotRetryable() {
        CancelHandle h = Context.background().withCancel();
        h.cancel();
        StatusRuntimeException cancelledHere = GrpcStatuses.toStatus(h.context().err()).asRuntimeException();
        assertFalse(GrpcStatuses.isRetryable(cancelledHere));
        assertTrue(GrpcStatuses.isCancellation(cancelledHere));
        StatusRuntimeException limited = Status.RESOURCE_EXHAUSTED.withCause(refusal()).asRuntimeException();
        assertFalse(GrpcStatuses.isRetryable(limited));
        StatusRuntimeException deadline = Status.DEADLINE_EXCEEDED.asRuntimeException();
        assertTrue(GrpcStatuses.isRetryable(deadline));
    }

    @Test
    void predicatesTakeAnythingAndNull() {
        for (Throwable t : new Throwable[] {null, new IOException("plain"), new Error("error")}) {
            assertFalse(GrpcStatuses.isRetryable(t));
            assertFalse(GrpcStatuses.isClientError(t));
            assertNull(GrpcStatuses.code(t));
        }
        assertFalse(GrpcStatuses.isCancellation(null));
        assertTrue(GrpcStatuses.isCancellation(new CancellationException()));
    }

    @Test
    void toStatusMapsTheToolkitsFailures() {
        CancelHandle late = Context.background().withTimeout(Duration.ZERO);
        Status deadline = GrpcStatuses.toStatus(late.context().err());
        assertEquals(Status.Code.DEADLINE_EXCEEDED, deadline.getCode());
        assertSame(late.context().err(), deadline.getCause());

        CancelHandle cancelled = Context.background().withCancel();
        cancelled.cancel();
        assertEquals(Status.Code.CANCELLED, GrpcStatuses.toStatus(cancelled.context().err()).getCode());

        CircuitBreaker breaker = CircuitBreaker.builder("open").build();
        breaker.forceOpen();
        CallNotPermittedException open = assertThrows(CallNotPermittedException.class, () -> breaker.call(() -> "x"));
        Status unavailable = GrpcStatuses.toStatus(open);
        assertEquals(Status.Code.UNAVAILABLE, unavailable.getCode());
        assertSame(open, unavailable.getCause());

        RequestNotPermittedException limited = refusal();
        Status exhausted = GrpcStatuses.toStatus(new CompletionException(limited));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, exhausted.getCode());
        assertSame(limited, exhausted.getCause());

        Status carried = Status.NOT_FOUND.withDescription("no such item");
        assertSame(carried, GrpcStatuses.toStatus(carried.asRuntimeException()));
        assertEquals(Status.Code.CANCELLED, GrpcStatuses.toStatus(new CancellationException("stop")).getCode());
        assertEquals(Status.Code.UNKNOWN, GrpcStatuses.toStatus(new IOException("disk")).getCode());
        assertThrows(NullPointerException.class, () -> GrpcStatuses.toStatus(null));
    }

    private static RequestNotPermittedException refusal() {
        RateLimiter limiter = RateLimiter.builder("limit").rate(0.001).burst(1).maxWait(Duration.ZERO).build();
        limiter.tryAcquire();
        return assertThrows(RequestNotPermittedException.class, () -> limiter.call(() -> "x"));
    }
}
