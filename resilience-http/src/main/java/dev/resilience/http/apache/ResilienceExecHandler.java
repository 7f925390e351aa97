package dev.resilience.http.apache;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.http.HttpPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
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
 * and 429 is honoured. A retried response is consumed and closed first, so its connection goes back
 * to the pool (a pool of one connection per route serves every attempt). Only idempotent methods are
 * retried unless the policy says {@code retryNonIdempotent()}, and only a request whose entity is
 * {@link HttpEntity#isRepeatable() repeatable} is ever sent twice: one with a streamed, non-repeatable
 * entity gets one attempt, and its outcome (response or I/O error) reaches the caller unchanged.
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
 * context ended; the aborted exchange is not retried).
 */
// Its API is made of Apache types on purpose: a module using it requires Apache HttpClient itself.
@SuppressWarnings("exports")
public final class ResilienceExecHandler implements ExecChainHandler {

    /** The handler's name in the exec chain. */
    public static final String NAME = "resilience";

    /** Reads classic responses for the policy. */
    static final HttpPolicy.Responses<ClassicHttpResponse> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(ClassicHttpResponse response) {
            return response.getCode();
        }

        @Override
        public String header(ClassicHttpResponse response, String name) {
            Header h = response.getFirstHeader(name);
            return h == null ? null : h.getValue();
        }

        @Override
        public void discard(ClassicHttpResponse response) {
            try {
                EntityUtils.consume(response.getEntity()); // read to the end: the connection is reused
            } catch (IOException | RuntimeException ignored) {
                // closing below discards the connection instead
            } finally {
                try {
                    response.close();
                } catch (IOException | RuntimeException ignored) {
                    // the response is dropped either way
                }
            }
        }
    };

    private final HttpPolicy policy;
    private final boolean mayRetry;

    private ResilienceExecHandler(HttpPolicy policy) {
        this.policy = policy;
        this.mayRetry = policy.retry().isPresent();
    }

    /** A handler that runs the requests through {@code policy}. */
    public static ResilienceExecHandler of(HttpPolicy policy) {
        return new ResilienceExecHandler(Objects.requireNonNull(policy, "policy"));
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
        Call call = new Call(request, scope, chain, mayRetry && entity != null && !entity.isRepeatable());
        ClassicHttpResponse response = null;
        try {
            response = policy.execute(request.getMethod(), call, RESPONSES);
            return response;
        } catch (Attempts.PassThrough p) {
            response = call.unwrap(p);
            return response;
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
            call.dropLeftover(response);
        }
    }

    /** One request: the attempts the policy makes, each through the rest of the chain. */
    private final class Call implements Callable<ClassicHttpResponse> {
        private final ClassicHttpRequest request;
        private final ExecChain.Scope scope;
        private final ExecChain chain;
        /** The entity cannot be sent twice: failures pass through the retry untouched. */
        private final boolean once;
        private int attempts;
        /** The response of the latest attempt, which a policy may yet drop (a late per-attempt timeout). */
        private ClassicHttpResponse latest;
        private ComplexCancellable latestCancellable;
        private Throwable previousFailure;

        Call(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain, boolean once) {
            this.request = request;
            this.scope = scope;
            this.chain = chain;
            this.once = once;
        }

        @Override
        public ClassicHttpResponse call() throws IOException, HttpException {
            Context ctx = Context.current();
            int n = ++attempts;
            if (once && n > 1) {
                throw new Attempts.PassThrough(null, Attempts.notRepeatable(previousFailure));
            }
            dropLeftover(null); // a response a per-attempt timeout dropped, if any: retried ones are freed already
            ctx.throwIfDone();
            if (abortedByCaller()) {
                throw new Attempts.PassThrough(null, new InterruptedIOException("Request aborted"));
            }
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
                if (once && HttpPolicy.isFailingStatus(response.getCode())) {
                    throw new Attempts.PassThrough(response, null);
                }
                return response;
            } catch (IOException | RuntimeException e) {
                if (e instanceof Attempts.PassThrough) {
                    throw e;
                }
                previousFailure = e;
                ContextDoneException done = Attempts.doneException(ctx);
                if (done != null) {
                    throw done; // the context ended the exchange: its own exception, not the abort's
                }
                if (once || abortedByCaller()) {
                    throw new Attempts.PassThrough(null, e);
                }
                throw e;
            } finally {
                onDone.remove();
                if (bounded) {
                    clientContext.setRequestConfig(saved);
                }
            }
        }

        private boolean abortedByCaller() {
            return scope.originalRequest instanceof CancellableDependency
                    && ((CancellableDependency) scope.originalRequest).isCancelled();
        }

        /** The response or exception a {@link Attempts.PassThrough} carries. */
        ClassicHttpResponse unwrap(Attempts.PassThrough p) throws IOException, HttpException {
            if (p.response != null) {
                return (ClassicHttpResponse) p.response;
            }
            Throwable e = p.getCause();
            if (e instanceof IOException) {
                throw (IOException) e;
            }
            if (e instanceof HttpException) {
                throw (HttpException) e;
            }
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new IOException(e);
        }

        /**
         * Frees the latest attempt's response if the caller does not get it: a per-attempt timeout
         * that ran out just as it arrived drops it inside the policy. Its exchange is aborted rather
         * than read to the end: nobody is waiting for it. Freeing a response twice does nothing.
         */
        void dropLeftover(ClassicHttpResponse returned) {
            ClassicHttpResponse r = latest;
            latest = null;
            if (r != null && r != returned) {
                latestCancellable.cancel();
                try {
                    r.close();
                } catch (IOException | RuntimeException ignored) {
                    // dropped either way
                }
            }
        }
    }
}
