package dev.resilience.http;

import dev.resilience.context.internal.Checks;
import dev.resilience.core.Backoff;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RefusedException;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryBudget;
import dev.resilience.core.RetryListener;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.core.TimeoutListener;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The policies an HTTP client's calls go through, and the one classification of HTTP outcomes that
 * every client adapter of this module shares: {@link ResilientHttpClient} ({@code java.net.http}),
 * OkHttp's {@code ResilienceInterceptor} and Apache HttpClient's exec handlers all run their
 * attempts through an {@code HttpPolicy}, so a 503 with {@code Retry-After} means the same thing
 * whichever client made the call.
 *
 * <pre>{@code
 * HttpPolicy payments = HttpPolicy.builder("payments")
 *         .retry(3, Backoff.exponential(Duration.ofMillis(50), 2, Duration.ofSeconds(1), Backoff.Jitter.FULL))
 *         .retryBudget(budget).circuitBreaker(breaker).timeout(Duration.ofSeconds(2))
 *         .build();
 * OkHttpClient ok = new OkHttpClient.Builder().addInterceptor(ResilienceInterceptor.of(payments)).build();
 * }</pre>
 *
 * <p><b>Outcomes.</b> Connection errors ({@link IOException}, which includes the clients' own
 * timeouts), the per-attempt {@link TimeoutExceededException}, 5xx and 429 are failures for the retry
 * and the breaker; any other status is a result. When retrying stops on a failing status, the caller
 * gets that last response, as from a plain client; also when it stops because a guard inside the
 * retry (the breaker those failures opened, a limiter, a bulkhead) refused the next attempt: the
 * server's answer is the outcome, not the refusal of an attempt that was never sent. Refusals of the policy's own rate limiter or
 * bulkhead ({@link RequestNotPermittedException}) are neither retried nor counted by the breaker: they
 * say nothing about the server. A breaker given here counts what its own builder says (by default
 * every exception); build it with {@code isSuccessful(e -> !HttpPolicy.isFailure(e))} to make it count
 * exactly these failures.
 *
 * <p><b>Retries.</b> Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried
 * unless {@link Builder#retryNonIdempotent()} says otherwise. For the retry this builder makes
 * ({@link Builder#retry(int, Backoff)}): {@code Retry-After} (seconds or an HTTP date, see
 * {@link #retryAfter(String)}) on a 503 or 429 replaces the backoff, and no wait between attempts
 * exceeds {@link Builder#maxRetryDelay} (default 30 s) or reaches the context's deadline: a server
 * asking for longer gets no retry, and the caller gets its response. A retry given with
 * {@link Builder#add} or in {@link Builder#pipeline} follows its own builder instead. A retried
 * response is discarded first (its body closed, its connection freed).
 *
 * <p><b>Order.</b> Policies added with {@link Builder#add(Policy)} wrap the built ones, in the order
 * added; the built ones run in the default order: retry, breaker, rate limiter, timeout, bulkhead.
 *
 * <p><b>Adapting another client.</b> {@link #execute} and {@link #executeAsync} are what the adapters
 * call: give them the request method, one attempt, and how to read a response ({@link Responses}).
 */
public final class HttpPolicy {

    /** The longest {@code Retry-After} taken from a response, in either form. */
    static final long MAX_RETRY_AFTER_SECONDS = 86_400L;

    private static final HttpPolicy NONE = builder("http").build();

    private final String name;
    private final Pipeline<Object> idempotent;
    private final Pipeline<Object> other;
    /** For requests that cannot be sent twice: no retry, no hedge. */
    private final Pipeline<Object> once;
    private final Retry retry;
    private final Timeout timeout;
    private final boolean hedges;

    private HttpPolicy(Builder b) {
        this.name = b.name;
        if (b.pipeline != null) {
            if (!b.parts.isEmpty()) {
                throw new IllegalStateException("HttpPolicy '" + b.name + "': pipeline(...) is the whole policy, and "
                        + b.parts + " were set beside it; give them to the pipeline's policies instead");
            }
            Pipeline<Object> single = b.pipeline.without(Policy.Kind.RETRY, Policy.Kind.HEDGE);
            this.hedges = b.pipeline.kinds().contains(Policy.Kind.HEDGE);
            this.idempotent = b.pipeline;
            this.other = b.retryNonIdempotent ? b.pipeline : single;
            this.once = single;
            this.retry = null;
            this.timeout = null;
        } else {
            this.hedges = b.outer.stream().anyMatch(p -> p.kind() == Policy.Kind.HEDGE);
            Pipeline.Builder<Object> withRetry = Pipeline.builder(b.name);
            Pipeline.Builder<Object> withoutRetry = Pipeline.builder(b.name);
            Pipeline.Builder<Object> single = Pipeline.builder(b.name);
            for (Policy p : b.outer) {
                boolean repeats = p.kind() == Policy.Kind.RETRY || p.kind() == Policy.Kind.HEDGE;
                if (!repeats) {
                    single.add(p);
                }
                withRetry.add(p);
                if (!repeats || b.retryNonIdempotent) {
                    withoutRetry.add(p);
                }
            }
            if (b.maxAttempts > 1) {
                Retry.Builder rb = Retry.builder(b.name).maxAttempts(b.maxAttempts).backoff(b.backoff)
                        .retryOn(HttpPolicy::isRetryable)
                        .maxDelay(b.maxRetryDelay)
                        .delayHint(Object.class, (result, failure) -> failure instanceof HttpStatusException
                                && honoursRetryAfter(((HttpStatusException) failure).statusCode())
                                ? retryAfter(((HttpStatusException) failure).retryAfter, Instant.now()).orElse(null)
                                : null)
                        .listener(b.retryListener); // a retried response is discarded as the next attempt starts
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
            for (Pipeline.Builder<Object> p : List.of(withRetry, withoutRetry, single)) {
                for (Policy policy : new Policy[] {b.breaker, b.limiter, timeout, b.bulkhead}) {
                    if (policy != null) {
                        p.add(policy);
                    }
                }
            }
            this.idempotent = withRetry.build();
            this.other = withoutRetry.build();
            this.once = single.build();
        }
    }

    /** Starts building a policy named {@code name} (for metrics); every part is optional. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** No guards: the adapters only carry the deadline and classify outcomes. */
    public static HttpPolicy none() {
        return NONE;
    }

    /** How {@link HttpPolicy#execute} reads a client's response; stateless, shared by all calls. */
    public interface Responses<R> {
        /** The status code of {@code response}. */
        int status(R response);

        /** The first value of header {@code name} (lower case) in {@code response}, or null. */
        String header(R response, String name);

        /**
         * Frees {@code response}'s connection: it is retried, or came too late, and nobody will read
         * it. May be called more than once for one response.
         */
        void discard(R response);

        /**
         * Whether {@code response}, if it fails, may be retried; false when it cannot be taken
         * back (its body is already on its way to the caller). Such a failing status is still a
         * failure for the breaker. Default: true.
         */
        default boolean retryable(R response) {
            return true;
        }
    }

    /**
     * Whether a failure says the server or the network failed, so that a retry may succeed and a
     * breaker should count it: an {@link IOException}, a failing status ({@link HttpStatusException})
     * or a per-attempt {@link TimeoutExceededException}.
     */
    public static boolean isFailure(Throwable failure) {
        return failure instanceof IOException || failure instanceof HttpStatusException
                || failure instanceof TimeoutExceededException;
    }

    /** Whether {@code status} is a failure: 5xx, and 429 (the server is refusing load). */
    public static boolean isFailingStatus(int status) {
        return status >= 500 || status == 429;
    }

    /** Whether a request with this method may be sent twice: GET, HEAD, PUT, DELETE, OPTIONS, TRACE. */
    public static boolean isIdempotent(String method) {
        switch (Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT)) {
            case "GET": case "HEAD": case "PUT": case "DELETE": case "OPTIONS": case "TRACE":
                return true;
            default:
                return false;
        }
    }

    /** {@code Retry-After} means "come back then" on these; on other failures it is ignored. */
    static boolean honoursRetryAfter(int status) {
        return status == 503 || status == 429;
    }

    /**
     * The delay a {@code Retry-After} header value asks for: delay-seconds or an HTTP date (measured
     * against this machine's wall clock; a date in the past means now). Either form is capped at
     * 86,400 s; a malformed or negative value counts as absent. For code that builds its own
     * {@link Retry}: {@code .delayHint(...)} with this parsing keeps the adapters' semantics.
     *
     * @param value the header value, or null when absent
     */
    public static Optional<Duration> retryAfter(String value) {
        return retryAfter(value, Instant.now());
    }

    /** {@link #retryAfter(String)} at wall-clock time {@code now}. */
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

    private Pipeline<Object> pipelineFor(String method, boolean repeatable) {
        return !repeatable ? once : isIdempotent(method) ? idempotent : other;
    }

    /**
     * Whether a request with this method, whose body can be sent again, may get more than one
     * attempt: the policy retries it or hedges it. An adapter holds back what it must replay only
     * when this is true.
     */
    public boolean mayRetry(String method) {
        List<Policy.Kind> kinds = pipelineFor(method, true).kinds();
        return kinds.contains(Policy.Kind.RETRY) || kinds.contains(Policy.Kind.HEDGE);
    }

    /**
     * What the policy's retry retries: a {@link #isFailure failure}, unless it is a failing status
     * whose response cannot be retried ({@link Responses#retryable}: its body already went to the
     * caller) or carries a guard's refusal ({@link RefusedException#isRefusal}, as OkHttp's
     * {@code RefusedIOException} does: nothing was sent). Public for a {@link Retry} of your own,
     * added with {@link Builder#add}.
     */
    public static boolean isRetryable(Throwable failure) {
        return isFailure(failure)
                && !(failure instanceof HttpStatusException && !((HttpStatusException) failure).retryable)
                && !RefusedException.isRefusal(failure); // an OkHttp interceptor's RefusedIOException: nothing was sent
    }

    /** Throws a failing status into the pipeline, so that the retry and the breaker see it. */
    private static <R> R check(R response, String method, Responses<R> responses) {
        int status = responses.status(response);
        if (isFailingStatus(status)) {
            String retryAfter = honoursRetryAfter(status) ? responses.header(response, "retry-after") : null;
            HttpStatusException e = new HttpStatusException(status, method, response, retryAfter);
            e.retryable = responses.retryable(response);
            throw e;
        }
        return response;
    }

    /**
     * Runs one request through the policy: {@code attempt} is called once per attempt (it reads the
     * attempt's deadline from {@code Context.current()}, which a per-attempt timeout shortens) and
     * must return the client's response or throw.
     *
     * @param method the request method (decides whether it may be retried)
     * @param attempt sends the request once
     * @param responses reads the client's responses
     * @return the response of the last attempt, also when it has a failing status
     * @throws Exception what the last attempt threw, or a policy's refusal
     *     ({@code CallNotPermittedException}, {@link RequestNotPermittedException},
     *     {@link TimeoutExceededException}, {@code ContextDoneException})
     */
    public <R> R execute(String method, Callable<R> attempt, Responses<R> responses) throws Exception {
        return execute(method, true, attempt, responses);
    }

    /**
     * {@link #execute(String, Callable, Responses)} for a request whose body may not be sendable
     * twice: with {@code repeatable} false it gets one attempt (the breaker, limiter, timeout and
     * bulkhead still apply, and count its outcome as usual).
     *
     * @throws Exception what the attempt threw, or a policy's refusal
     */
    @SuppressWarnings("unchecked")
    public <R> R execute(String method, boolean repeatable, Callable<R> attempt, Responses<R> responses)
            throws Exception {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(responses, "responses");
        Attempts<R> attempts = new Attempts<>(method, attempt, responses, hedges);
        Object result = null;
        try {
            result = pipelineFor(method, repeatable).call(attempts);
            return (R) result;
        } catch (HttpStatusException e) {
            result = e.response();
            return (R) result;
        } catch (Exception e) {
            HttpStatusException answered = attempts.answeredBefore(e);
            if (answered == null) {
                throw e;
            }
            result = answered.response();
            return (R) result;
        } finally {
            attempts.finish(result); // every other response reaches nobody: retried, a hedge's loser, dropped late
        }
    }

    /**
     * One request's attempts and the responses they got; every response but the one the caller gets
     * is discarded exactly once. Attempts one after another (a retry): when an attempt starts, every
     * earlier response is retried, so it is freed before this attempt needs a connection; a response
     * of an attempt given up (a per-attempt timeout) that arrives after a later attempt started is
     * freed at once. Attempts at once (a hedge, an added policy): any of them may be the outcome, so
     * nothing is freed before the call ends. When the call ends, every response but the outcome is
     * freed, and one that arrives later at once.
     */
    private static final class Attempts<R> implements Callable<Object> {
        private final String method;
        private final Callable<R> attempt;
        private final Responses<R> responses;
        private final boolean concurrent;
        private final AtomicInteger started = new AtomicInteger();
        /** Responses not freed yet, each in a holder compared by identity (a response may define equals). */
        private final ConcurrentLinkedQueue<Held<R>> held = new ConcurrentLinkedQueue<>();
        private volatile boolean finished;
        private volatile Object outcome;
        /** The latest attempt's failing status, while no later attempt has started (one after another only). */
        private volatile HttpStatusException lastFailing;

        Attempts(String method, Callable<R> attempt, Responses<R> responses, boolean concurrent) {
            this.method = method;
            this.attempt = attempt;
            this.responses = responses;
            this.concurrent = concurrent;
        }

        @Override
        public Object call() throws Exception {
            int n = beforeAttempt();
            return checked(attempt.call(), n);
        }

        /** An attempt starts; returns its number. */
        int beforeAttempt() {
            int n = started.incrementAndGet();
            if (!concurrent) {
                lastFailing = null;
                discardAll(null); // one after another: every earlier response is retried
            }
            return n;
        }

        /**
         * The failing status the call ends with instead of {@code failure}, or null: when a guard inside
         * the retry refused the next attempt (nothing sent), the latest attempt's failing response, still
         * held, is the outcome, as when retrying stops on it (one after another only).
         */
        HttpStatusException answeredBefore(Throwable failure) {
            HttpStatusException answered = lastFailing;
            return answered != null && !(failure instanceof HttpStatusException) && RefusedException.isRefusal(failure)
                    ? answered : null;
        }

        /** Attempt {@code n}'s response arrived: kept until the call ends, and checked (a failing status thrown). */
        Object checked(R response, int n) {
            if (response != null) {
                Held<R> h = new Held<>(response);
                held.add(h);
                if (finished) { // the call is over (a hedge's loser, a timeout's late answer): nobody gets it
                    discardAll(outcome);
                } else if (!concurrent && n < started.get() && held.remove(h)) {
                    responses.discard(response); // a later attempt runs already: this one was given up
                }
            }
            try {
                return check(response, method, responses);
            } catch (HttpStatusException e) {
                if (!concurrent && n == started.get()) {
                    lastFailing = e; // the latest attempt's answer, should the next one be refused
                }
                throw e;
            }
        }

        /** The call ended with {@code result}: every other response is discarded. */
        void finish(Object result) {
            outcome = result;
            finished = true;
            discardAll(result);
        }

        private void discardAll(Object keep) {
            for (Held<R> h; (h = held.poll()) != null; ) {
                if (h.response != keep) {
                    responses.discard(h.response);
                }
            }
        }
    }

    /** A response in {@link Attempts#held}: equal only to itself. */
    private static final class Held<R> {
        final R response;

        Held(R response) {
            this.response = response;
        }
    }

    /**
     * {@link #execute} for an asynchronous client: {@code attempt} starts one attempt.
     *
     * @return a stage with the last attempt's response (also when it has a failing status), or the
     *     last failure; it always completes
     */
    public <R> CompletableFuture<R> executeAsync(String method, Supplier<? extends CompletionStage<R>> attempt,
            Responses<R> responses) {
        return executeAsync(method, true, attempt, responses);
    }

    /**
     * {@link #executeAsync(String, Supplier, Responses)} for a request whose body may not be
     * sendable twice; see {@link #execute(String, boolean, Callable, Responses)}.
     *
     * @return a stage with the response or the failure; it always completes
     */
    @SuppressWarnings("unchecked")
    public <R> CompletableFuture<R> executeAsync(String method, boolean repeatable,
            Supplier<? extends CompletionStage<R>> attempt, Responses<R> responses) {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(responses, "responses");
        CompletableFuture<R> result = new CompletableFuture<>();
        // every attempt's response: those that reach nobody (retried, a hedge's loser, late after a
        // timeout) are discarded, as in execute
        Attempts<R> attempts = new Attempts<>(method, null, responses, hedges);
        Supplier<CompletionStage<Object>> checked = () -> {
            int n = attempts.beforeAttempt();
            CompletionStage<R> stage = attempt.get();
            if (stage == null) {
                return null; // the policies fail the call as "no stage": not counted, not retried
            }
            // A stage of our own between the client's and the policies: a policy that ends it (a
            // timeout, a hedge's loser) does not touch the client's future, whose response still
            // arrives here to be freed (the attempt's context, cancelled, is how the client is told).
            CompletableFuture<Object> checkedStage = new CompletableFuture<>();
            stage.whenComplete((r, e) -> {
                if (e != null) {
                    checkedStage.completeExceptionally(e);
                    return;
                }
                try {
                    checkedStage.complete(attempts.checked(r, n));
                } catch (Throwable t) {
                    checkedStage.completeExceptionally(t);
                }
            });
            return checkedStage;
        };
        CompletionStage<Object> call = pipelineFor(method, repeatable).callAsync(checked);
        // The caller ending the result first (a cancel, orTimeout, a value of its own) ends the
        // policies' stage the same way (a value as a cancel: nothing counted): retries stop, permits
        // come back; a response that arrives after that reaches nobody. Once the policies completed
        // the result themselves, this does nothing (their stage is done).
        result.whenComplete((v, e) -> {
            if (e != null) {
                endFromOutside(call, e);
            } else if (!isDone(call)) {
                endFromOutside(call, new java.util.concurrent.CancellationException("completed by the caller"));
            }
        });
        call.whenComplete((v, e) -> {
            Throwable unwrapped = unwrap(e);
            HttpStatusException answered = unwrapped == null ? null : attempts.answeredBefore(unwrapped);
            Throwable cause = answered != null ? answered : unwrapped;
            Object outcome = cause instanceof HttpStatusException ? ((HttpStatusException) cause).response()
                    : cause != null ? null : v;
            // The call is over before the caller hears of it, so that a response arriving from now on
            // is freed at once (the caller may already be checking); the caller ended first: all are.
            attempts.finish(result.isDone() ? null : outcome);
            boolean delivered = cause != null && !(cause instanceof HttpStatusException)
                    ? result.completeExceptionally(cause) : result.complete((R) outcome);
            if (!delivered && outcome != null) {
                responses.discard((R) outcome); // the caller ended meanwhile: nobody will read it
            }
        });
        return result;
    }

    /** The failure inside a stage's {@link CompletionException} wrapper, or {@code e} itself (may be null). */
    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** Whether {@code stage} is done; a stage that cannot tell counts as done (nothing to end). */
    private static boolean isDone(CompletionStage<?> stage) {
        try {
            return stage.toCompletableFuture().isDone();
        } catch (RuntimeException notAFuture) {
            return true;
        }
    }

    /** Ends {@code stage} as the caller ended its result: cancelled, or failed with {@code why}. */
    private static void endFromOutside(CompletionStage<?> stage, Throwable why) {
        Throwable cause = unwrap(why);
        try {
            if (cause instanceof java.util.concurrent.CancellationException) {
                stage.toCompletableFuture().cancel(false);
            } else {
                stage.toCompletableFuture().completeExceptionally(cause);
            }
        } catch (RuntimeException notAFuture) {
            // the policies' stage ends when its work does
        }
    }

    /** The policy's name. */
    public String name() {
        return name;
    }

    /**
     * Whether a policy added to this one (or in its {@link Builder#pipeline pipeline}) runs a
     * request's attempts side by side (a hedge); an adapter whose client cannot run one exchange's
     * attempts at once refuses such a policy.
     *
     * @return true if an added policy is a hedge
     */
    public boolean hedges() {
        return hedges;
    }

    /**
     * The retry policy it built, if {@link Builder#retry} asked for more than one attempt (empty for
     * a policy made of a {@link Builder#pipeline pipeline}: a retry there is the pipeline's own).
     */
    public Optional<Retry> retry() {
        return Optional.ofNullable(retry);
    }

    /**
     * The per-attempt timeout it built, if {@link Builder#timeout} was set (empty for a policy made of
     * a {@link Builder#pipeline pipeline}).
     */
    public Optional<Timeout> timeout() {
        return Optional.ofNullable(timeout);
    }

    @Override
    public String toString() {
        return "HttpPolicy[" + name + ": " + idempotent.policyNames() + "]";
    }

    /** Builds an {@link HttpPolicy}; every part is optional. */
    public static final class Builder {
        private String name;
        private final List<Policy> outer = new ArrayList<>();
        private int maxAttempts = 1;
        private Backoff backoff;
        private RetryBudget budget;
        private boolean retryNonIdempotent;
        private CircuitBreaker breaker;
        private RateLimiter limiter;
        private Duration timeout;
        private Bulkhead bulkhead;
        private Duration maxRetryDelay = Duration.ofSeconds(30);
        private RetryListener retryListener = RetryListener.NOOP;
        private TimeoutListener timeoutListener = TimeoutListener.NOOP;
        private Pipeline<Object> pipeline;
        /** The parts set beside a pipeline, which {@link #build()} then refuses. */
        private final java.util.Set<String> parts = new java.util.LinkedHashSet<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        void rename(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * Retries failures (see the class comment) up to {@code maxAttempts} attempts in all.
         *
         * @throws IllegalArgumentException if {@code maxAttempts} is below 1
         */
        public Builder retry(int maxAttempts, Backoff backoff) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            parts.add("retry");
            return this;
        }

        /** Shares a retry budget with other clients. */
        public Builder retryBudget(RetryBudget budget) {
            this.budget = Objects.requireNonNull(budget, "budget");
            parts.add("retryBudget");
            return this;
        }

        /** Retries POST and PATCH too (only if the server deduplicates them). */
        public Builder retryNonIdempotent() {
            this.retryNonIdempotent = true;
            return this;
        }

        /** Guards the calls with a breaker. */
        public Builder circuitBreaker(CircuitBreaker breaker) {
            this.breaker = Objects.requireNonNull(breaker, "breaker");
            parts.add("circuitBreaker");
            return this;
        }

        /** Limits the request rate. */
        public Builder rateLimiter(RateLimiter limiter) {
            this.limiter = Objects.requireNonNull(limiter, "limiter");
            parts.add("rateLimiter");
            return this;
        }

        /**
         * Bounds each attempt.
         *
         * @throws IllegalArgumentException if {@code timeout} is not positive
         */
        public Builder timeout(Duration timeout) {
            Checks.positiveNanos(timeout, "timeout");
            this.timeout = timeout;
            parts.add("timeout");
            return this;
        }

        /** Bounds concurrent requests. */
        public Builder bulkhead(Bulkhead bulkhead) {
            this.bulkhead = Objects.requireNonNull(bulkhead, "bulkhead");
            parts.add("bulkhead");
            return this;
        }

        /**
         * Adds any policy (a {@code Fallback}-like user policy, an adaptive limiter, a distributed
         * limit, a ready-made {@code Retry} such as a registry's, ...) around the built ones;
         * policies added first are outermost. An added retry or hedge, like the built retry, repeats
         * only idempotent requests unless {@link #retryNonIdempotent()} is set, and never a request
         * whose body cannot be sent twice; it classifies failures by its own {@code retryOn} (by
         * default every failure but refusals, so failing statuses and connection errors) and does
         * not read {@code Retry-After}.
         */
        public Builder add(Policy policy) {
            outer.add(Objects.requireNonNull(policy, "policy"));
            parts.add("add");
            return this;
        }

        /**
         * The longest wait between attempts: the backoff is cut to it, and a server's
         * {@code Retry-After} asking for longer ends the retries (the caller gets that response).
         * Default 30 s.
         *
         * @throws IllegalArgumentException if {@code maxRetryDelay} is negative
         */
        public Builder maxRetryDelay(Duration maxRetryDelay) {
            Checks.nonNegativeNanos(maxRetryDelay, "maxRetryDelay");
            this.maxRetryDelay = maxRetryDelay;
            parts.add("maxRetryDelay");
            return this;
        }

        /** Receives the events of the retry policy it builds (retries, give-ups). */
        public Builder retryListener(RetryListener listener) {
            this.retryListener = Objects.requireNonNull(listener, "retryListener");
            parts.add("retryListener");
            return this;
        }

        /** Receives the events of the per-attempt timeout it builds. */
        public Builder timeoutListener(TimeoutListener listener) {
            this.timeoutListener = Objects.requireNonNull(listener, "timeoutListener");
            parts.add("timeoutListener");
            return this;
        }

        /**
         * Runs requests through {@code pipeline} itself, so that its listeners (and the meters bound
         * to them) and its ticker see every call: a request that may be sent again runs through the
         * whole pipeline (a non-idempotent one only with {@link #retryNonIdempotent()}), one that
         * may not runs through it without its retries and hedges ({@link Pipeline#without}). The
         * pipeline is the whole policy: {@link #build()} refuses it beside any other part but
         * {@link #retryNonIdempotent()}. As with {@link #add}, its retry classifies failures by its
         * own {@code retryOn} (by default every failure but refusals, so failing statuses and
         * connection errors) and does not read {@code Retry-After}, and {@link HttpPolicy#retry()}
         * and {@link HttpPolicy#timeout()} are empty (they are the pipeline's own policies). Build
         * that retry with {@code retryOn(HttpPolicy::isRetryable)} where an adapter may have handed
         * a failing response to the caller already (the Apache async adapter, whose callback may
         * have it): its default would retry such a response too.
         *
         * @throws NullPointerException if {@code pipeline} is null
         * @throws IllegalStateException if a pipeline was given already
         */
        public Builder pipeline(Pipeline<Object> pipeline) {
            if (this.pipeline != null) {
                throw new IllegalStateException("pipeline was set already");
            }
            this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
            return this;
        }

        /**
         * Builds the policy.
         *
         * @throws IllegalStateException if a {@link #pipeline(Pipeline)} was given beside another
         *     part (any setter of this builder but {@link #retryNonIdempotent()})
         */
        public HttpPolicy build() {
            return new HttpPolicy(this);
        }
    }
}
