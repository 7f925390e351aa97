package dev.resilience.http.apache;

import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.http.HttpPolicy;
import java.io.IOException;
import java.util.Objects;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.async.AsyncExecChainHandler;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;

/**
 * Apache HttpClient 5's async client with the toolkit's policies: an exec chain handler that runs
 * every request through an {@link HttpPolicy} (retry, breaker, rate limiter, timeout, bulkhead)
 * without blocking a thread, and carries the caller's deadline.
 *
 * <pre>{@code
 * CloseableHttpAsyncClient http = ResilienceAsyncExecHandler.install(HttpAsyncClients.custom(), payments).build();
 * http.start();
 * try (CancelHandle call = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach()) {
 *     SimpleHttpResponse r = http.execute(SimpleRequestBuilder.get(uri).build(), null).get(); // under the deadline
 * }
 * }</pre>
 *
 * <p><b>Installing.</b> {@link #install} turns off the client's own retries
 * ({@code disableAutomaticRetries()}) and adds the handler first in the exec chain, so that each
 * attempt is a whole exchange (redirects and authentication challenges included).
 *
 * <p><b>Context.</b> A call runs under the context current on the thread that calls
 * {@code execute}, and that context must outlive the call: when it ends (its deadline passes, or it
 * is cancelled, as closing a {@code CancelHandle} does), the call in flight is cancelled, as in Go.
 * Wait for the call's future inside the handle's block, as above, or detach the call with
 * {@code Context.current().withoutCancel()}.
 *
 * <p><b>Outcomes.</b> As for every adapter of {@link HttpPolicy}: I/O errors, the per-attempt
 * {@link TimeoutExceededException}, 5xx and 429 are failures for the retry and the breaker, and
 * {@code Retry-After} on 503 and 429 is honoured. The response consumer of the call sees exactly one
 * response, once: a response that will not be retried streams to it as it arrives; a failing response
 * that the policy may retry is read whole first (its connection goes back to the pool before the next
 * attempt) and handed to the consumer if the policy ends with it. Holding back is bounded: a failing
 * response with a body over 64 KiB goes to the consumer as it arrives and is not retried (the breaker
 * still counts it as a failure). Only idempotent methods are retried unless the policy says
 * {@code retryNonIdempotent()}, and only a request whose entity producer is
 * {@linkplain AsyncEntityProducer#isRepeatable() repeatable} is sent twice: one that is not gets one
 * attempt, still guarded and counted by the breaker, whose outcome reaches the caller unchanged. A
 * call the caller cancels is not retried, and a breaker with its default exclusions does not count
 * it. Policies that run attempts side by side (a hedge added to the policy) are not supported: the
 * first response wins, the other attempts are dropped.
 *
 * <p><b>Deadlines.</b> Each attempt runs under the attempt's context (the caller's, shortened by the
 * policy's per-attempt timeout): its remaining time goes downstream as a {@code grpc-timeout} header
 * and bounds the request configuration's connection-request, connect and response timeouts (a shorter
 * one already configured is kept; the client context's own configuration is restored when the call
 * ends), and when the context ends, the attempt is cancelled at once, wherever it is (waiting for a
 * connection, connecting, exchanging). Once a response streams to the consumer, the caller's context
 * still bounds it: reading the rest of the body stops when that context ends.
 *
 * <p><b>Failures.</b> The call's future fails with what the policy ended with: the last attempt's
 * {@link IOException}, {@link CallNotPermittedException} (open breaker),
 * {@link RequestNotPermittedException} (rate limiter, bulkhead), {@link TimeoutExceededException} (the
 * per-attempt timeout ran out on the last attempt), {@code DeadlineExceededException} or
 * {@code ContextCancelledException} (the caller's context ended). Cancelling the future cancels the
 * current attempt, and no other is started.
 */
// Its API is made of Apache types on purpose: a module using it requires Apache HttpClient itself.
@SuppressWarnings("exports")
public final class ResilienceAsyncExecHandler implements AsyncExecChainHandler {

    /** The handler's name in the exec chain. */
    public static final String NAME = "resilience";

    private final HttpPolicy policy;

    private ResilienceAsyncExecHandler(HttpPolicy policy) {
        this.policy = policy;
    }

    /** A handler that runs the requests through {@code policy}. */
    public static ResilienceAsyncExecHandler of(HttpPolicy policy) {
        return new ResilienceAsyncExecHandler(Objects.requireNonNull(policy, "policy"));
    }

    /**
     * Turns off {@code builder}'s own retries and adds a handler of {@code policy} first in its exec
     * chain, under {@link #NAME}.
     *
     * @return {@code builder}
     */
    public static HttpAsyncClientBuilder install(HttpAsyncClientBuilder builder, HttpPolicy policy) {
        Objects.requireNonNull(builder, "builder");
        return builder.disableAutomaticRetries().addExecInterceptorFirst(NAME, of(policy));
    }

    /** The policy the requests run through. */
    public HttpPolicy policy() {
        return policy;
    }

    /**
     * Starts {@code request} through the policy, each attempt through the rest of the chain; the
     * outcome goes to {@code callback}, exactly once.
     *
     * @throws HttpException never: every outcome goes to {@code callback}
     * @throws IOException never: every outcome goes to {@code callback}
     */
    @Override
    public void execute(HttpRequest request, AsyncEntityProducer entityProducer, AsyncExecChain.Scope scope,
            AsyncExecChain chain, AsyncExecCallback callback) throws HttpException, IOException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(callback, "callback");
        new AsyncExchange(request, entityProducer, scope, chain, callback, policy).start();
    }
}
