package dev.resilience.http.apache;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.http.HttpPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.concurrent.ComplexCancellable;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;

/**
 * Apache HttpClient 5's classic client with the toolkit's policies: an exec chain handler that runs
 * every request through an {@link HttpPolicy} (retry, breaker, rate limiter, timeout, bulkhead) and
 * carries the caller's deadline.
 *
 * <pre>{@code
 * HttpPolicy payments = HttpPolicy.builder("payments")
 *         .retry(3, Backoff.exponential(Duration.ofMillis(50), 2, Duration.ofSeconds(1), Backoff.Jitter.FULL))
 *         .circuitBreaker(breaker).timeout(Duration.ofSeconds(2))
 *         .build();
 * CloseableHttpClient http = ResilienceExecHandler.install(HttpClients.custom(), payments).build();
 * }</pre>
 *
 * <p><b>Installing.</b> {@link #install} turns off the client's own retries
 * ({@code disableAutomaticRetries()}, so no request is retried twice over) and adds the handler first
 * in the exec chain, above redirects, protocol and connection handling, so that each attempt is a
 * whole exchange (redirects and authentication challenges included). Adding it by hand with
 * {@code addExecInterceptorFirst(ResilienceExecHandler.NAME, handler)} is the same, but then turn the
 * client's retries off too.
 *
 * <p><b>Outcomes.</b> As for every adapter of {@link HttpPolicy}: I/O errors, the per-attempt
 * {@link TimeoutExceededException}, 5xx and 429 are failures for the retry and the breaker; when
 * retrying stops on a failing status, the caller gets that last response. {@code Retry-After} on 503
 * and 429 is honoured. Only idempotent methods are retried unless the policy says
 * {@code retryNonIdempotent()}, and only a request whose entity is
 * {@link HttpEntity#isRepeatable() repeatable} is ever sent twice: one with a streamed, non-repeatable
 * entity gets one attempt, still guarded and counted by the breaker, and its outcome (response or
 * I/O error) reaches the caller unchanged. A request the caller aborts ({@code cancel()} on it) is
 * not retried, and its I/O error is not counted by a breaker with its default exclusions.
 *
 * <p><b>Retried responses.</b> A retried response's body is read to its end, so that its connection
 * goes back to the pool (a pool of one connection per route serves every attempt), only when it
 * announces a length of at most 64 KiB and arrives within 100 ms (and the caller's deadline); any
 * other body (longer, chunked, slow) is not read: its connection is closed and the next attempt gets
 * another. A retry never waits for a body nobody will read.
 *
 * <p><b>Deadlines.</b> Each attempt runs under the attempt's context (the caller's, shortened by the
 * policy's per-attempt timeout). Its remaining time goes downstream as a {@code grpc-timeout} header
 * and bounds the attempt's {@link RequestConfig}: the connection-request, connect and response
 * timeouts set there are cut to it (a shorter one is kept; one left unset stays unset, since the
 * connection manager's {@code ConnectionConfig} decides it and may be shorter still), and the client
 * context gets its own configuration back after the attempt. When the context ends (deadline,
 * cancellation) the attempt is aborted at once, wherever it is: waiting for a pooled connection,
 * connecting, sending, waiting for the response head. The deadline bounds the exchange up to the
 * response head; reading the body afterwards is the caller's, bounded by the response (socket)
 * timeout. A redirect the client follows within an attempt is built from the caller's own request,
 * so it goes without the attempt's {@code grpc-timeout} header (the attempt's deadline still bounds it).
 *
 * <p><b>Exceptions.</b> {@code execute} keeps the client's contract: I/O errors come out as
 * {@link IOException}s. The toolkit's own outcomes are unchecked and come out unchanged:
 * {@link CallNotPermittedException} (open breaker), {@link RequestNotPermittedException} (rate
 * limiter, bulkhead), {@link TimeoutExceededException} (the per-attempt timeout ran out on the last
 * attempt) and {@code DeadlineExceededException} or {@code ContextCancelledException} (the caller's
 * context ended; the aborted exchange is not retried). The request's own {@code cancel()} (its
 * {@code abort()}) ends it wherever it is: during an attempt the aborted exchange's own
 * {@code IOException} comes out (a {@code SocketException}, say), and in a backoff between attempts
 * or a wait for a permit an {@link InterruptedIOException} ("Request aborted"); neither is retried.
 * Once the response is the caller's, {@code cancel()} aborts its exchange, as with the plain client.
 */
// Its API is made of Apache types on purpose: a module using it requires Apache HttpClient itself.
@SuppressWarnings("exports")
public final class ResilienceExecHandler implements ExecChainHandler {

    /** The handler's name in the exec chain. */
    public static final String NAME = "resilience";

    /**
     * How long a retried response's short body may take to arrive to the end, for its connection to
     * be reused (as OkHttp does); after that its connection is closed instead.
     */
    private static final Duration DRAIN_LIMIT = Duration.ofMillis(100);

    private final HttpPolicy policy;

    private ResilienceExecHandler(HttpPolicy policy) {
        this.policy = policy;
    }

    /**
     * A handler that runs the requests through {@code policy}.
     *
     * @throws IllegalArgumentException if {@code policy} hedges ({@link HttpPolicy#hedges()}): the
     *     classic client runs one exchange (one {@code HttpClientContext}, one connection lease) at a
     *     time, so attempts side by side would share its state and could hold connections for good
     */
    public static ResilienceExecHandler of(HttpPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        if (policy.hedges()) {
            throw new IllegalArgumentException("policy " + policy.name() + " hedges: the classic Apache client runs one"
                    + " attempt at a time: build the policy without the hedge");
        }
        return new ResilienceExecHandler(policy);
    }

    /**
     * Turns off {@code builder}'s own retries and adds a handler of {@code policy} first in its exec
     * chain, under {@link #NAME}.
     *
     * @return {@code builder}
     */
    public static HttpClientBuilder install(HttpClientBuilder builder, HttpPolicy policy) {
        Objects.requireNonNull(builder, "builder");
        return builder.disableAutomaticRetries().addExecInterceptorFirst(NAME, of(policy));
    }

    /** The policy the requests run through. */
    public HttpPolicy policy() {
        return policy;
    }

    /**
     * Runs {@code request} through the policy, each attempt through the rest of the chain.
     *
     * @throws IOException if the last attempt failed with one
     * @throws HttpException if the rest of the chain reported a protocol error
     * @throws CallNotPermittedException if the breaker refused the request
     * @throws RequestNotPermittedException if the rate limiter or bulkhead refused it
     * @throws TimeoutExceededException if the last attempt ran out of its per-attempt timeout
     * @throws dev.resilience.context.ContextDoneException if the caller's context ended
     */
    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
            throws IOException, HttpException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(chain, "chain");
        HttpEntity entity = request.getEntity();
        // The call's own context: the caller's abort() ends it between attempts (a backoff, a wait
        // for a permit), where no exchange is there to abort; during an attempt, the attempt's own.
        CancelHandle whole = Context.current().withCancel();
        Call call = new Call(request, scope, chain, entity == null || entity.isRepeatable(), whole);
        ClassicHttpResponse response = null;
        try (dev.resilience.context.Scope attached = whole.attach()) {
            call.betweenAttempts();
            response = policy.execute(request.getMethod(), call.repeatable, call, call);
            call.handingOver(response);
            return response;
        } catch (Attempts.Stop stop) {
            throw rethrown(stop.outcome());
        } catch (ContextDoneException e) {
            if (call.abortedByCaller() && e instanceof dev.resilience.context.ContextCancelledException) {
                // the caller's abort() ended a wait between attempts: as an abort during one reads
                InterruptedIOException aborted = new InterruptedIOException("Request aborted");
                aborted.initCause(e);
                throw aborted;
            }
            throw e;
        } catch (IOException | HttpException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException x = new InterruptedIOException("interrupted while waiting to send the request");
            x.initCause(e);
            throw x;
        } catch (Exception e) {
            throw new IOException(e); // a checked exception of a user's policy
        } finally {
            whole.cancel(); // the call is over: nothing of it stays registered
            call.dropLeftover(response);
        }
    }

    /** {@code e} as {@code execute} may throw it: thrown as it is if it can be, else as an {@link IOException}. */
    private static IOException rethrown(Exception e) throws IOException, HttpException {
        if (e instanceof IOException) {
            throw (IOException) e;
        }
        if (e instanceof HttpException) {
            throw (HttpException) e;
        }
        if (e instanceof RuntimeException) {
            throw (RuntimeException) e;
        }
        return new IOException(e);
    }

    /**
     * One request: the attempts the policy makes, each through the rest of the chain, one after
     * another; and how the policy reads and frees their responses.
     */
    private final class Call implements Callable<ClassicHttpResponse>, HttpPolicy.Responses<ClassicHttpResponse> {
        private final ClassicHttpRequest request;
        private final ExecChain.Scope scope;
        private final ExecChain chain;
        /** The entity can be sent again (or there is none): the policy may retry the request. */
        final boolean repeatable;
        private int attempts;
        /** The response of the latest attempt until it is freed; the caller's if it is the outcome. */
        private ClassicHttpResponse latest;
        /** Aborts the latest attempt's exchange: its connection is closed, not reused. */
        private ComplexCancellable latestCancellable;
        private Throwable previousFailure;
        /** What the caller's abort() cancels while no attempt runs: the whole call's context. */
        private final org.apache.hc.core5.concurrent.Cancellable between;

        Call(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain, boolean repeatable, CancelHandle whole) {
            this.request = request;
            this.scope = scope;
            this.chain = chain;
            this.repeatable = repeatable;
            this.between = () -> {
                whole.cancel();
                return true;
            };
        }

        /**
         * {@code response} goes to the caller: the caller's abort() aborts its exchange again (reading
         * its body, say), as with the plain client; between attempts it ended the call's context.
         */
        void handingOver(ClassicHttpResponse response) {
            if (response != null && response == latest && scope.originalRequest instanceof CancellableDependency) {
                ((CancellableDependency) scope.originalRequest).setDependency(latestCancellable);
            }
        }

        /** From now until the next attempt, the caller's abort() ends the call's context. */
        void betweenAttempts() {
            if (scope.originalRequest instanceof CancellableDependency) {
                ((CancellableDependency) scope.originalRequest).setDependency(between); // cancelled at once if aborted
            }
        }

        @Override
        public ClassicHttpResponse call() throws IOException, HttpException, Attempts.Stop {
            Context ctx = Context.current();
            int n = ++attempts;
            if (!repeatable && n > 1) { // only a policy of the user's calls it again: the policy runs it once
                throw new Attempts.Stop(Attempts.notRepeatable(previousFailure));
            }
            if (abortedByCaller()) { // first: an abort also ends the call's context (see betweenAttempts)
                throw new Attempts.Stop(new InterruptedIOException("Request aborted"));
            }
            ctx.throwIfDone();
            // Later attempts start from the caller's request: the chain below adds headers to the one it is given.
            ClassicHttpRequest attempt = n == 1 ? request : ClassicRequestBuilder.copy(scope.originalRequest).build();
            HttpClientContext clientContext = scope.clientContext;
            RequestConfig saved = null;
            boolean bounded = false;
            long remaining = ctx.remainingNanos();
            if (remaining != Long.MAX_VALUE) {
                Attempts.propagate(attempt, remaining);
                saved = clientContext.getRequestConfig();
                RequestConfig base = clientContext.getRequestConfigOrDefault();
                RequestConfig config = Attempts.bounded(base, remaining);
                if (config != base) {
                    clientContext.setRequestConfig(config);
                    bounded = true;
                }
            }
            // A runtime of the attempt's own, cancelled when the context ends: aborting it aborts this
            // attempt alone (a lease wait, a connect, an exchange), never a later one.
            ComplexCancellable cancellable = new ComplexCancellable();
            if (scope.originalRequest instanceof CancellableDependency) {
                ((CancellableDependency) scope.originalRequest).setDependency(cancellable); // the caller's abort()
            }
            ExecChain.Scope attemptScope = new ExecChain.Scope(scope.exchangeId, scope.route, scope.originalRequest,
                    scope.execRuntime.fork(cancellable), clientContext);
            Registration onDone = ctx.onDone(cancellable::cancel, Runnable::run);
            try {
                ClassicHttpResponse response = chain.proceed(attempt, attemptScope);
                latest = response;
                latestCancellable = cancellable;
                return response;
            } catch (IOException | RuntimeException e) {
                previousFailure = e;
                ContextDoneException done = Attempts.doneException(ctx);
                if (done != null) {
                    throw done; // the context ended the exchange: its own exception, not the abort's
                }
                if (abortedByCaller()) {
                    throw new Attempts.Stop(e); // the caller stopped: neither retried nor the server's failure
                }
                throw e;
            } finally {
                onDone.remove();
                if (bounded) {
                    clientContext.setRequestConfig(saved);
                }
                betweenAttempts(); // a backoff may follow: an abort there ends it
            }
        }

        boolean abortedByCaller() {
            return scope.originalRequest instanceof CancellableDependency
                    && ((CancellableDependency) scope.originalRequest).isCancelled();
        }

        @Override
        public int status(ClassicHttpResponse response) {
            return response.getCode();
        }

        @Override
        public String header(ClassicHttpResponse response, String name) {
            Header h = response.getFirstHeader(name);
            return h == null ? null : h.getValue();
        }

        /**
         * Frees a response nobody will read (retried, or dropped by a late per-attempt timeout): a
         * short body is read to its end, within {@link #DRAIN_LIMIT}, and its connection goes back to
         * the pool; otherwise the exchange is aborted and its connection closed. Closing the response
         * alone would not do: below this handler it reads the rest of the body, however long or slow.
         * Only the latest attempt's response can still be held (attempts run one after another): an
         * older one was freed already, and freeing twice does nothing.
         */
        @Override
        public void discard(ClassicHttpResponse response) {
            if (response == null || response != latest) {
                return;
            }
            ComplexCancellable cancellable = latestCancellable;
            latest = null;
            latestCancellable = null;
            if (!drained(response.getEntity(), cancellable)) {
                cancellable.cancel(); // closes the connection and hands it back to the pool as not reusable
            }
            try {
                response.close();
            } catch (IOException | RuntimeException ignored) {
                // dropped either way; after an abort the rest of the body is simply gone
            }
        }

        /**
         * Whether {@code entity} (null: none) was read to its end: only a body of announced length up
         * to {@link Attempts#MAX_BUFFERED_BODY} is tried, and aborted if it takes longer than
         * {@link #DRAIN_LIMIT} or outlasts the current context.
         */
        private boolean drained(HttpEntity entity, ComplexCancellable cancellable) {
            if (entity == null) {
                return true;
            }
            long length = entity.getContentLength();
            if (length < 0 || length > Attempts.MAX_BUFFERED_BODY) {
                return false; // chunked, or long: reading it could take any time
            }
            try (CancelHandle limit = Context.current().withTimeout(DRAIN_LIMIT)) {
                Registration r = limit.context().onDone(cancellable::cancel, Runnable::run);
                try {
                    EntityUtils.consume(entity);
                } finally {
                    r.remove();
                }
                return !limit.context().isDone();
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        /** Frees the latest attempt's response if the caller does not get it. */
        void dropLeftover(ClassicHttpResponse returned) {
            ClassicHttpResponse r = latest;
            if (r != null && r != returned) {
                discard(r);
            }
        }
    }
}
