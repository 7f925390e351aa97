package dev.resilience.http.okhttp;

import dev.resilience.core.RefusedException;
import java.io.IOException;

/**
 * A policy of the {@link ResilienceInterceptor} refused the call before it was sent: the circuit
 * breaker is open, the rate limiter or bulkhead had no permit, or a policy added to the
 * {@code HttpPolicy} refused. OkHttp lets an interceptor throw only {@link IOException}s, so the
 * policy's {@link RefusedException} travels as this exception's {@linkplain #refusal() cause}.
 *
 * <pre>{@code
 * try (Response r = client.newCall(request).execute()) {
 *     ...
 * } catch (RefusedIOException e) {
 *     return cached();            // the server was not called: e.refusal().refusal() says which guard refused
 * } catch (IOException e) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Carries no stack trace, like the refusal it wraps: refusals are expected under load and must
 * be cheap.
 */
public final class RefusedIOException extends IOException {
    private static final long serialVersionUID = 1L;

    RefusedIOException(RefusedException refusal) {
        super(refusal.getMessage(), refusal);
    }

    /** The policy's refusal: a {@code CallNotPermittedException} or {@code RequestNotPermittedException}. */
    public RefusedException refusal() {
        return (RefusedException) getCause();
    }

    /** No stack trace: a refusal happens on the fast path under load. */
    @Override
    public Throwable fillInStackTrace() {
        return this;
    }
}
