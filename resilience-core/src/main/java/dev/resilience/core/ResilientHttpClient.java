package dev.resilience.core;

import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
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
 * <p><b>Outcomes.</b> Connection errors ({@link IOException}), timeouts ({@link HttpTimeoutException}),
 * 5xx and 429 count as failures for the retry and the breaker; any other status is a result. When
 * retrying stops on a failing status, the caller gets that last response (as from a plain client),
 * not an exception; exceptions come out unchanged. {@code Retry-After} (seconds or an HTTP date) on
 * a 503 or 429 replaces the backoff. Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS,
 * TRACE) are retried unless {@link Builder#retryNonIdempotent()} says otherwise.
 *
 * <p><b>Deadlines.</b> Each attempt's request timeout is the remaining deadline of the current
 * context (bounded by the pipeline's timeout), and the deadline travels downstream as a
 * {@code grpc-timeout} header.
 */
public final class ResilientHttpClient {

    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE");

    private final HttpClient http;
    private final Pipeline<Object> idempotent;
    private final Pipeline<Object> other;

    private ResilientHttpClient(Builder b) {
        this.http = b.http;
        Pipeline.Builder<Object> withRetry = Pipeline.builder(b.name);
        Pipeline.Builder<Object> withoutRetry = Pipeline.builder(b.name);
        if (b.maxAttempts > 1) {
            Retry.Builder rb = Retry.builder(b.name).maxAttempts(b.maxAttempts).backoff(b.backoff)
                    .retryOn(ResilientHttpClient::isRetryable)
                    .delayHint((result, failure) -> failure instanceof HttpStatusException
                            ? retryAfter(((HttpStatusException) failure).response()) : null);
            if (b.budget != null) {
                rb.budget(b.budget);
            }
            Retry retry = rb.build();
            withRetry.retry(retry);
            if (b.retryNonIdempotent) {
                withoutRetry.retry(retry);
            }
        }
        Timeout timeout = b.timeout == null ? null : Timeout.builder(b.name).timeout(b.timeout).build();
        for (Pipeline.Builder<Object> p : java.util.List.of(withRetry, withoutRetry)) {
            if (b.breaker != null) {
                p.circuitBreaker(b.breaker);
            }
            if (b.limiter != null) {
                p.rateLimiter(b.limiter);
            }
            if (timeout != null) {
                p.timeout(timeout);
            }
            if (b.bulkhead != null) {
                p.bulkhead(b.bulkhead);
            }
        }
        this.idempotent = withRetry.build();
        this.other = withoutRetry.build();
    }

    /** Starts building a client around {@code http}. */
    public static Builder builder(HttpClient http) {
        return new Builder(http);
    }

    private static boolean isRetryable(Throwable e) {
        return e instanceof IOException || e instanceof HttpStatusException;
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
        return DeadlineHeaders.propagate(HttpRequest.newBuilder(request, (name, value) -> true), ctx).build();
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
     */
    @SuppressWarnings("unchecked")
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        try {
            return (HttpResponse<T>) pipelineFor(request).call(() -> classify(http.send(withDeadline(request), handler)));
        } catch (HttpStatusException e) {
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
            if (cause instanceof HttpStatusException) {
                result.complete((HttpResponse<T>) ((HttpStatusException) cause).response());
            } else if (cause != null) {
                result.completeExceptionally(cause);
            } else {
                result.complete((HttpResponse<T>) v);
            }
        });
        return result;
    }

    /** The delay a {@code Retry-After} header asks for (seconds or an HTTP date), or null. */
    static Duration retryAfter(HttpResponse<?> response) {
        Optional<String> value = response.headers().firstValue("retry-after");
        if (value.isEmpty()) {
            return null;
        }
        String v = value.get().trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : Duration.ofSeconds(Math.min(seconds, 86_400L));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException malformed) {
                return null;
            }
        }
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

        /** Builds the client. */
        public ResilientHttpClient build() {
            return new ResilientHttpClient(this);
        }
    }
}
