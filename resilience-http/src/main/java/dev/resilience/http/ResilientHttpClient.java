package dev.resilience.http;

import dev.resilience.core.Backoff;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Fallback;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryBudget;
import dev.resilience.core.RetryListener;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.core.TimeoutListener;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Supplier;

/**
 * {@code java.net.http.HttpClient} with the toolkit's policies: every request runs through a
 * {@link Pipeline} (retry, breaker, rate limiter, timeout, bulkhead, in the default order).
 *
 * <pre>{@code
 * ResilientHttpClient http = ResilientHttpClient.builder(HttpClient.newHttpClient())
 *         .retry(3, Backoff.exponential(Duration.ofMillis(50), 2, Duration.ofSeconds(1), Backoff.Jitter.FULL))
 *         .circuitBreaker(breaker).timeout(Duration.ofSeconds(2))
 *         .build();
 * HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), BodyHandlers.ofString());
 * }</pre>
 *
 * <p>The client is a thin adapter: its requests go through an {@link HttpPolicy}, the same one (and the
 * same classification) the OkHttp and Apache HttpClient adapters use.
 *
 * <p><b>Outcomes.</b> Connection errors ({@link IOException}), timeouts (the per-attempt
 * {@link TimeoutExceededException}, the JDK's {@link HttpTimeoutException}), 5xx and 429 count as
 * failures for the retry and the breaker; any other status is a result. When retrying stops on a
 * failing status, the caller gets that last response (as from a plain client), or, with
 * {@link Builder#throwOnFailingStatus()}, an {@link HttpStatusException} carrying it, so a
 * {@link Fallback} can replace it. Other exceptions come out unchanged. Refusals of the client's own
 * rate limiter or bulkhead ({@link RequestNotPermittedException}) are neither retried nor counted by
 * the breaker: they say nothing about the server.
 *
 * <p><b>Retries.</b> Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried
 * unless {@link Builder#retryNonIdempotent()} says otherwise. {@code Retry-After} (seconds or an HTTP
 * date, see {@link #retryAfter}) on a 503 or 429 replaces the backoff. No wait between attempts
 * exceeds {@link Builder#maxRetryDelay} (default 30 s) or reaches the context's deadline: a server
 * asking for longer gets no retry, and the caller gets its response. A retried response's body is
 * closed if it is {@link AutoCloseable} (an {@code InputStream}, a {@code Stream} of lines), and
 * a body publisher's ({@code BodyHandlers.ofPublisher()}) is subscribed to and cancelled.
 *
 * <p><b>Deadlines.</b> Each attempt's request timeout is the remaining deadline of the current
 * context (bounded by the per-attempt timeout, and by a shorter timeout set on the request), and the
 * deadline travels downstream as a {@code grpc-timeout} header. With {@link #sendAsync}, the end of
 * the attempt's context (the caller's deadline or cancellation, or the per-attempt timeout) cancels
 * the exchange at once and the context's exception comes out; {@link #send} is bounded by the
 * request timeout only (a cancellation without a deadline does not stop it).
 *
 * <p><b>Metrics.</b> The breaker, rate limiter and bulkhead carry their own listeners; the retry and
 * timeout the client builds get {@link Builder#retryListener} and {@link Builder#timeoutListener}
 * (for example {@code ResilienceTelemetry}'s).
 */
public final class ResilientHttpClient {

    /** Reads {@code java.net.http} responses for the policy. */
    private static final HttpPolicy.Responses<HttpResponse<?>> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(HttpResponse<?> response) {
            return response.statusCode();
        }

        @Override
        public String header(HttpResponse<?> response, String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        @Override
        public void discard(HttpResponse<?> response) {
            closeBody(response);
        }
    };

    private final HttpClient http;
    private final HttpPolicy policy;
    private final boolean throwOnFailingStatus;

    private ResilientHttpClient(Builder b) {
        this.http = b.http;
        this.throwOnFailingStatus = b.throwOnFailingStatus;
        this.policy = b.policy != null ? b.policy : b.policyBuilder.build();
    }

    /** Starts building a client around {@code http}. */
    public static Builder builder(HttpClient http) {
        return new Builder(http);
    }

    /**
     * Frees the connection of a response that reaches nobody (retried, a hedge's loser, late), if
     * its body holds it: an {@code AutoCloseable} body is closed, a body publisher
     * ({@code BodyHandlers.ofPublisher()}) is subscribed to and cancelled, which the JDK takes as
     * the end of the body.
     */
    private static void closeBody(HttpResponse<?> response) {
        Object body = response.body();
        if (body instanceof AutoCloseable) {
            try {
                ((AutoCloseable) body).close();
            } catch (Exception ignored) {
                // the response is dropped either way
            }
        } else if (body instanceof Flow.Publisher) {
            try {
                ((Flow.Publisher<?>) body).subscribe(new Cancelling()); // one each: a subscriber subscribes once
            } catch (RuntimeException ignored) {
                // subscribed before (a publisher takes one subscriber): the response is dropped either way
            }
        }
    }

    /** Cancels its subscription at once: drops a body publisher's remaining body. */
    private static final class Cancelling implements Flow.Subscriber<Object> {
        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.cancel();
        }

        @Override
        public void onNext(Object item) {
            // nothing is requested
        }

        @Override
        public void onError(Throwable throwable) {
            // dropped
        }

        @Override
        public void onComplete() {
            // dropped
        }
    }

    /** The request with the current deadline as its timeout and as a {@code grpc-timeout} header. */
    private static HttpRequest withDeadline(HttpRequest request) {
        Context ctx = Context.current();
        if (ctx.deadline().isEmpty()) {
            ctx.throwIfDone();
            return request;
        }
        return HttpDeadlines.propagate(HttpRequest.newBuilder(request, (name, value) -> true), ctx).build();
    }

    private <T> HttpResponse<T> finish(HttpResponse<T> response) {
        if (throwOnFailingStatus && HttpPolicy.isFailingStatus(response.statusCode())) {
            throw new HttpStatusException(response.statusCode(), response.request().method() + " " + response.uri(),
                    response, null);
        }
        return response;
    }

    /**
     * Sends {@code request} through the policy, blocking.
     *
     * @return the response (the last one, if retrying stopped on a failing status)
     * @throws IOException if the last attempt failed to connect or read
     * @throws InterruptedException if the calling thread was interrupted
     * @throws HttpStatusException if the last response was a 5xx or 429 and
     *     {@link Builder#throwOnFailingStatus()} is set
     * @throws CallNotPermittedException if the breaker refused the call
     * @throws RequestNotPermittedException if the rate limiter or bulkhead refused it
     * @throws TimeoutExceededException if the last attempt ran out of its per-attempt timeout
     * @throws dev.resilience.context.ContextDoneException if the caller's context ended
     */
    @SuppressWarnings("unchecked")
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        HttpResponse<?> response;
        try {
            // the JDK's own blocking send, bounded by the request timeout (an attempt as sendAsync plus a
            // blocking wait, to cancel it on the context's end, hung the flagship's calls on JDK 25)
            response = policy.execute(request.method(), () -> http.send(withDeadline(request), handler), RESPONSES);
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
        return finish((HttpResponse<T>) response);
    }

    /**
     * Sends {@code request} through the policy asynchronously; see {@link #send}. Ending the returned
     * future first (cancelling it, {@code orTimeout}, {@code completeOnTimeout}, completing it) ends
     * the call: the policies stop (no further retry, permits and slots come back) and the exchange in
     * flight is aborted.
     */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        Supplier<CompletionStage<HttpResponse<?>>> attempt = () -> {
            HttpRequest r;
            try {
                r = withDeadline(request);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            Context ctx = Context.current(); // the call's own (below) or a policy's child of it: never the background
            CompletableFuture<HttpResponse<T>> f = http.sendAsync(r, handler);
            // the JDK aborts the exchange; not inline: on JDK 25 cancel can block the thread that ends the context
            Registration cancel = ctx.onDone(() -> f.cancel(true));
            return f.handle((x, e) -> {
                cancel.remove();
                if (e != null) {
                    Throwable cause = HttpPolicy.unwrap(e);
                    if (ctx.isDone()) {
                        throw ctx.err(); // we cancelled it: the caller's end, not the server's failure
                    }
                    throw cause instanceof RuntimeException ? (RuntimeException) cause : new CompletionException(cause);
                }
                return x;
            });
        };
        // The call's own context: cancelled when the call ends, or when the caller ends the returned
        // future first, which aborts whatever exchange is still in flight.
        CancelHandle call = Context.current().withCancel();
        CompletableFuture<HttpResponse<?>> policies;
        try (Scope s = call.attach()) {
            policies = policy.executeAsync(request.method(), attempt, RESPONSES);
        }
        CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
        policies.whenComplete((r, e) -> {
            call.cancel(); // the call is over: nothing of it stays registered or in flight
            if (e != null) {
                result.completeExceptionally(HttpPolicy.unwrap(e));
                return;
            }
            HttpResponse<T> response = (HttpResponse<T>) r;
            boolean delivered;
            try {
                delivered = result.complete(finish(response));
            } catch (Throwable t) {
                delivered = result.completeExceptionally(t);
            }
            if (!delivered) {
                closeBody(response); // the caller ended the future meanwhile: nobody reads it
            }
        });
        result.whenComplete((v, e) -> {
            if (policies.isDone()) {
                return; // they completed it
            }
            // the caller ended it first: the policies end the same way (a cancel or a value of the
            // caller's: nothing counted; a failure, orTimeout's say: as that failure), their permits
            // come back and no retry follows; then the exchange in flight is aborted
            Throwable cause = HttpPolicy.unwrap(e);
            if (cause == null || cause instanceof CancellationException) {
                policies.cancel(false);
            } else {
                policies.completeExceptionally(cause);
            }
            call.cancel();
        });
        return result;
    }

    /**
     * The delay a response's {@code Retry-After} header asks for; see {@link HttpPolicy#retryAfter(String)}.
     * Public so that code which builds its own {@link Retry} around an {@code HttpClient} can use the
     * same parsing:
     * {@code .delayHint(HttpResponse.class, (r, e) -> r == null ? null : ResilientHttpClient.retryAfter(r).orElse(null))}.
     */
    public static Optional<Duration> retryAfter(HttpResponse<?> response) {
        Objects.requireNonNull(response, "response");
        return HttpPolicy.retryAfter(response.headers().firstValue("retry-after").orElse(null));
    }

    /** The name of the client's policy. */
    public String name() {
        return policy.name();
    }

    /** The policy the client's requests go through. */
    public HttpPolicy policy() {
        return policy;
    }

    /** The retry policy the client built, if {@link Builder#retry} asked for more than one attempt. */
    public Optional<Retry> retry() {
        return policy.retry();
    }

    /** The per-attempt timeout policy the client built, if {@link Builder#timeout} was set. */
    public Optional<Timeout> timeout() {
        return policy.timeout();
    }

    /**
     * Builds a {@link ResilientHttpClient}: either around an {@link HttpPolicy} shared with other
     * clients ({@link #policy}), or with the policy's parts given here (a shortcut for
     * {@link HttpPolicy#builder}); every part is optional.
     */
    public static final class Builder {
        private final HttpClient http;
        private final HttpPolicy.Builder policyBuilder = HttpPolicy.builder("http");
        private boolean parts;
        private HttpPolicy policy;
        private boolean throwOnFailingStatus;

        private Builder(HttpClient http) {
            this.http = Objects.requireNonNull(http, "http");
        }

        private HttpPolicy.Builder parts() {
            if (policy != null) {
                throw new IllegalStateException("policy(...) was given: configure the HttpPolicy itself");
            }
            parts = true;
            return policyBuilder;
        }

        /**
         * Sends every request through {@code policy} (built once, shared with OkHttp or Apache clients).
         *
         * @throws IllegalStateException if policy parts were already set on this builder
         */
        public Builder policy(HttpPolicy policy) {
            if (parts) {
                throw new IllegalStateException("policy parts were set on this builder: give them to the HttpPolicy");
            }
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The name of the client's policies, for metrics. */
        public Builder name(String name) {
            policyBuilder.rename(name);
            return this;
        }

        /**
         * Retries failures up to {@code maxAttempts} attempts in all; see {@link HttpPolicy.Builder#retry}.
         *
         * @throws IllegalArgumentException if {@code maxAttempts} is below 1
         */
        public Builder retry(int maxAttempts, Backoff backoff) {
            parts().retry(maxAttempts, backoff);
            return this;
        }

        /** Shares a retry budget with other clients. */
        public Builder retryBudget(RetryBudget budget) {
            parts().retryBudget(budget);
            return this;
        }

        /** Retries POST and PATCH too (only if the server deduplicates them). */
        public Builder retryNonIdempotent() {
            parts().retryNonIdempotent();
            return this;
        }

        /** Guards the client with a breaker. */
        public Builder circuitBreaker(CircuitBreaker breaker) {
            parts().circuitBreaker(breaker);
            return this;
        }

        /** Limits the client's request rate. */
        public Builder rateLimiter(RateLimiter limiter) {
            parts().rateLimiter(limiter);
            return this;
        }

        /**
         * Bounds each attempt.
         *
         * @throws IllegalArgumentException if {@code timeout} is not positive
         */
        public Builder timeout(Duration timeout) {
            parts().timeout(timeout);
            return this;
        }

        /** Bounds concurrent requests. */
        public Builder bulkhead(Bulkhead bulkhead) {
            parts().bulkhead(bulkhead);
            return this;
        }

        /**
         * The longest wait between attempts; see {@link HttpPolicy.Builder#maxRetryDelay}.
         *
         * @throws IllegalArgumentException if {@code maxRetryDelay} is negative
         */
        public Builder maxRetryDelay(Duration maxRetryDelay) {
            parts().maxRetryDelay(maxRetryDelay);
            return this;
        }

        /**
         * A final 5xx or 429 (after any retries) is thrown as {@link HttpStatusException} instead of
         * returned, so a {@link Fallback} or the caller's {@code catch} handles every failure in one
         * place.
         * With a streaming body handler ({@code ofInputStream}), whoever catches it closes the body
         * ({@code e.response(HttpResponse.class).body()}): the exception carries the response as is.
         */
        public Builder throwOnFailingStatus() {
            this.throwOnFailingStatus = true;
            return this;
        }

        /** Receives the events of the client's retry policy (retries, give-ups). */
        public Builder retryListener(RetryListener listener) {
            parts().retryListener(listener);
            return this;
        }

        /** Receives the events of the client's per-attempt timeout. */
        public Builder timeoutListener(TimeoutListener listener) {
            parts().timeoutListener(listener);
            return this;
        }

        /** Builds the client. */
        public ResilientHttpClient build() {
            return new ResilientHttpClient(this);
        }
    }
}
