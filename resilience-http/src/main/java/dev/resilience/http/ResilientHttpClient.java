package dev.resilience.http;

import dev.resilience.core.Backoff;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Fallback;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryBudget;
import dev.resilience.core.RetryListener;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.core.TimeoutListener;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.Context;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
 * closed if it is {@link AutoCloseable} (an {@code InputStream}, a {@code Stream} of lines).
 *
 * <p><b>Deadlines.</b> Each attempt's request timeout is the remaining deadline of the current
 * context (bounded by the per-attempt timeout, and by a shorter timeout set on the request), and the
 * deadline travels downstream as a {@code grpc-timeout} header.
 *
 * <p><b>Metrics.</b> The breaker, rate limiter and bulkhead carry their own listeners; the retry and
 * timeout the client builds get {@link Builder#retryListener} and {@link Builder#timeoutListener}
 * (for example {@code ResilienceTelemetry}'s).
 */
public final class ResilientHttpClient {

    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE");
    /** The longest {@code Retry-After} taken from a response, in either form. */
    static final long MAX_RETRY_AFTER_SECONDS = 86_400L;

    private final String name;
    private final HttpClient http;
    private final Pipeline<Object> idempotent;
    private final Pipeline<Object> other;
    private final boolean throwOnFailingStatus;
    private final Retry retry;
    private final Timeout timeout;

    private ResilientHttpClient(Builder b) {
        this.name = b.name;
        this.http = b.http;
        this.throwOnFailingStatus = b.throwOnFailingStatus;
        Pipeline.Builder<Object> withRetry = Pipeline.builder(b.name);
        Pipeline.Builder<Object> withoutRetry = Pipeline.builder(b.name);
        if (b.maxAttempts > 1) {
            Retry.Builder rb = Retry.builder(b.name).maxAttempts(b.maxAttempts).backoff(b.backoff)
                    .retryOn(ResilientHttpClient::isRetryable)
                    .maxDelay(b.maxRetryDelay)
                    .delayHint(Object.class, (result, failure) -> failure instanceof HttpStatusException
                            && honoursRetryAfter(((HttpStatusException) failure).statusCode())
                            ? retryAfter(((HttpStatusException) failure).response()).orElse(null) : null)
                    .listener(new RetryListener() { // first: the retried response's body is closed ...
                        @Override
                        public void onRetry(Retry r, int attempt, long delayNanos, Throwable failure) {
                            if (failure instanceof HttpStatusException) {
                                closeBody(((HttpStatusException) failure).response());
                            }
                        }
                    })
                    .listener(b.retryListener); // ... then the caller's listener hears the retry
            if (b.budget != null) {
                rb.budget(b.budget);
            }
            this.retry = rb.build();
            withRetry.add(retry);
            if (b.retryNonIdempotent) {
                withoutRetry.add(retry);
            }
        } else {
            this.retry = null;
        }
        this.timeout = b.timeout == null ? null
                : Timeout.builder(b.name).timeout(b.timeout).listener(b.timeoutListener).build();
        for (Pipeline.Builder<Object> p : java.util.List.of(withRetry, withoutRetry)) {
            // the default order: retry > breaker > limiter > timeout > bulkhead
            for (Policy policy : new Policy[] {b.breaker, b.limiter, timeout, b.bulkhead}) {
                if (policy != null) {
                    p.add(policy);
                }
            }
        }
        this.idempotent = withRetry.build();
        this.other = withoutRetry.build();
    }

    /** Starts building a client around {@code http}. */
    public static Builder builder(HttpClient http) {
        return new Builder(http);
    }

    /** {@code Retry-After} means "come back then" on these; on other failures it is ignored. */
    private static boolean honoursRetryAfter(int status) {
        return status == 503 || status == 429;
    }

    private static boolean isRetryable(Throwable e) {
        return e instanceof IOException || e instanceof HttpStatusException || e instanceof TimeoutExceededException;
    }

    /** Frees the connection of a response that is being retried, if its body holds it. */
    private static void closeBody(HttpResponse<?> response) {
        if (response.body() instanceof AutoCloseable) {
            try {
                ((AutoCloseable) response.body()).close();
            } catch (Exception ignored) {
                // the response is dropped either way
            }
        }
    }

    private Pipeline<Object> pipelineFor(HttpRequest request) {
        return IDEMPOTENT.contains(request.method()) ? idempotent : other;
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

    private static <T> HttpResponse<T> classify(HttpResponse<T> response) {
        int status = response.statusCode();
        if (status >= 500 || status == 429) {
            throw new HttpStatusException(response);
        }
        return response;
    }

    /**
     * Sends {@code request} through the pipeline, blocking.
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
        try {
            return (HttpResponse<T>) pipelineFor(request).call(() -> classify(http.send(withDeadline(request), handler)));
        } catch (HttpStatusException e) {
            if (throwOnFailingStatus) {
                throw e;
            }
            return (HttpResponse<T>) e.response();
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** Sends {@code request} through the pipeline asynchronously; see {@link #send}. */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        Supplier<CompletionStage<Object>> attempt = () -> {
            HttpRequest r;
            try {
                r = withDeadline(request);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            return http.sendAsync(r, handler).thenApply(ResilientHttpClient::classify);
        };
        CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
        pipelineFor(request).callAsync(attempt).whenComplete((v, e) -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof HttpStatusException && !throwOnFailingStatus) {
                result.complete((HttpResponse<T>) ((HttpStatusException) cause).response());
            } else if (cause != null) {
                result.completeExceptionally(cause);
            } else {
                result.complete((HttpResponse<T>) v);
            }
        });
        return result;
    }

    /**
     * The delay a response's {@code Retry-After} header asks for: delay-seconds or an HTTP date
     * (measured against this machine's wall clock; a date in the past means now). Either form is
     * capped at 86,400 s; a malformed or negative value counts as absent. Public so that code which
     * builds its own {@link Retry} around an {@code HttpClient} can use the same parsing:
     * {@code .delayHint(HttpResponse.class, (r, e) -> r == null ? null : ResilientHttpClient.retryAfter(r).orElse(null))}.
     */
    public static Optional<Duration> retryAfter(HttpResponse<?> response) {
        Objects.requireNonNull(response, "response");
        return retryAfter(response.headers().firstValue("retry-after").orElse(null), Instant.now());
    }

    /** {@link #retryAfter(HttpResponse)} of a header value (null if absent) at wall-clock time {@code now}. */
    static Optional<Duration> retryAfter(String value, Instant now) {
        if (value == null) {
            return Optional.empty();
        }
        String v = value.trim();
        Duration max = Duration.ofSeconds(MAX_RETRY_AFTER_SECONDS);
        if (!v.isEmpty() && v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            // delay-seconds; leading zeros mean nothing, and more digits than a long holds is still "very long"
            String digits = v.replaceFirst("^0+(?=\\d)", "");
            return Optional.of(digits.length() > 6 ? max : min(Duration.ofSeconds(Long.parseLong(digits)), max));
        }
        try {
            Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration d = Duration.between(now, at);
            return Optional.of(d.isNegative() ? Duration.ZERO : min(d, max));
        } catch (DateTimeParseException malformed) {
            return Optional.empty();
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** The name of the client's policies. */
    public String name() {
        return name;
    }

    /** The retry policy the client built, if {@link Builder#retry} asked for more than one attempt. */
    public Optional<Retry> retry() {
        return Optional.ofNullable(retry);
    }

    /** The per-attempt timeout policy the client built, if {@link Builder#timeout} was set. */
    public Optional<Timeout> timeout() {
        return Optional.ofNullable(timeout);
    }

    /** Builds a {@link ResilientHttpClient}; every policy is optional. */
    public static final class Builder {
        private final HttpClient http;
        private String name = "http";
        private int maxAttempts = 1;
        private Backoff backoff;
        private RetryBudget budget;
        private boolean retryNonIdempotent;
        private CircuitBreaker breaker;
        private RateLimiter limiter;
        private Duration timeout;
        private Bulkhead bulkhead;
        private boolean throwOnFailingStatus;
        private Duration maxRetryDelay = Duration.ofSeconds(30);
        private RetryListener retryListener = RetryListener.NOOP;
        private TimeoutListener timeoutListener = TimeoutListener.NOOP;

        private Builder(HttpClient http) {
            this.http = Objects.requireNonNull(http, "http");
        }

        /** The name of the client's policies, for metrics. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Retries failures (see the class comment) up to {@code maxAttempts} attempts in all. */
        public Builder retry(int maxAttempts, Backoff backoff) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /** Shares a retry budget with other clients. */
        public Builder retryBudget(RetryBudget budget) {
            this.budget = Objects.requireNonNull(budget, "budget");
            return this;
        }

        /** Retries POST and PATCH too (only if the server deduplicates them). */
        public Builder retryNonIdempotent() {
            this.retryNonIdempotent = true;
            return this;
        }

        /** Guards the client with a breaker. */
        public Builder circuitBreaker(CircuitBreaker breaker) {
            this.breaker = Objects.requireNonNull(breaker, "breaker");
            return this;
        }

        /** Limits the client's request rate. */
        public Builder rateLimiter(RateLimiter limiter) {
            this.limiter = Objects.requireNonNull(limiter, "limiter");
            return this;
        }

        /** Bounds each attempt. */
        public Builder timeout(Duration timeout) {
            Checks.positiveNanos(timeout, "timeout");
            this.timeout = timeout;
            return this;
        }

        /** Bounds concurrent requests. */
        public Builder bulkhead(Bulkhead bulkhead) {
            this.bulkhead = Objects.requireNonNull(bulkhead, "bulkhead");
            return this;
        }

        /**
         * The longest wait between attempts: the backoff is cut to it, and a server's
         * {@code Retry-After} asking for longer ends the retries (the caller gets that response).
         * Default 30 s.
         */
        public Builder maxRetryDelay(Duration maxRetryDelay) {
            Checks.nonNegativeNanos(maxRetryDelay, "maxRetryDelay");
            this.maxRetryDelay = maxRetryDelay;
            return this;
        }

        /**
         * A final 5xx or 429 (after any retries) is thrown as {@link HttpStatusException} instead of
         * returned, so a {@link Fallback} or the caller's {@code catch} handles every failure in one
         * place.
         */
        public Builder throwOnFailingStatus() {
            this.throwOnFailingStatus = true;
            return this;
        }

        /** Receives the events of the client's retry policy (retries, give-ups). */
        public Builder retryListener(RetryListener listener) {
            this.retryListener = Objects.requireNonNull(listener, "retryListener");
            return this;
        }

        /** Receives the events of the client's per-attempt timeout. */
        public Builder timeoutListener(TimeoutListener listener) {
            this.timeoutListener = Objects.requireNonNull(listener, "timeoutListener");
            return this;
        }

        /** Builds the client. */
        public ResilientHttpClient build() {
            return new ResilientHttpClient(this);
        }
    }
}
