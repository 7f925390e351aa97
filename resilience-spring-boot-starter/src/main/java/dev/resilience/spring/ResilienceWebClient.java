package dev.resilience.spring;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Registration;
import dev.resilience.http.HttpPolicy;
import dev.resilience.observability.ResilienceContextAccessor;
import dev.resilience.spring.internal.ReactiveCalls;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Guards and deadline propagation for Spring's reactive {@code WebClient}, from the registry's
 * configured pipelines: a bean the starter defines when spring-webflux is present (the reactive
 * twin of {@link ResilienceHttp}, whose policies it shares).
 *
 * <pre>{@code
 * @Bean
 * WebClient payments(WebClient.Builder builder, ResilienceWebClient resilience) {
 *     return builder.baseUrl("http://payments").filter(resilience.exchangeFilter("payments")).build();
 * }
 * }</pre>
 *
 * <p><b>Which context.</b> A reactive exchange runs under the context that is current for its
 * subscription: the one in the subscriber's Reactor context under
 * {@link ResilienceContextAccessor#KEY}, else {@link Context#current()} on the thread that
 * subscribes. In a WebFlux handler that is the request's context, which {@link DeadlineWebFilter}
 * writes into the Reactor context (no ThreadLocal propagation needed); in a servlet handler that
 * calls {@code block()}, the context the deadline filter attached to the thread. The context is read
 * when the exchange is subscribed, not when the {@code Mono} is built; to give one call a shorter
 * deadline, write it into the Reactor context:
 * {@code .contextWrite(c -> c.put(ResilienceContextAccessor.KEY, shorter))}.
 *
 * <p><b>Deadline propagation</b> ({@link #deadlinePropagation()}; the starter adds it to every
 * {@code WebClient} built from Spring's {@code WebClient.Builder} unless
 * {@code resilience.spring.client.propagate-deadline=false}): the request carries the context's
 * remaining time as {@code grpc-timeout}; a request whose context is already done is not sent (the
 * {@code Mono} fails with the context's {@code ContextDoneException}); and the exchange ends with
 * that error when the context ends before the response's status and headers arrive (the
 * connection is given up, as {@code ResilientHttpClient.sendAsync} does). Reading the body is not
 * bounded by it.
 *
 * <p><b>Guards</b> ({@link #exchangeFilter(String)}): each exchange runs through the pipeline's
 * {@link HttpPolicy} ({@link HttpPolicy#executeAsync}) with HTTP's classification of outcomes:
 * connection errors, 5xx and 429 are failures; other statuses are results; only idempotent methods
 * are retried; after the last attempt the caller gets the last response, as from a plain client
 * ({@code retrieve()} then fails for its status as usual). A retried response's body is released.
 * Each attempt carries the attempt's deadline as {@code grpc-timeout} (a per-attempt timeout
 * shortens it) and is cancelled when that deadline passes. A subscriber that cancels (a
 * {@code timeout()} operator, a client that went away) cancels the attempt in flight, stops the
 * retries and frees the permits at once. Refusals ({@code CallNotPermittedException},
 * {@code RequestNotPermittedException}, {@code BulkheadFullException}) and the context's end are
 * the {@code Mono}'s errors. A retry sends the request again, body included: give a retried
 * {@code PUT} its body as a value ({@code bodyValue}), not as a {@code Publisher} that can be
 * subscribed to only once.
 */
@SuppressWarnings("exports") // its API is WebFlux's and Reactor's (optional modules): a user of this class has them
public final class ResilienceWebClient {

    private static final Consumer<ClientResponse> RELEASE = ResilienceWebClient::release;

    private static final HttpPolicy.Responses<ClientResponse> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(ClientResponse response) {
            return response.statusCode().value();
        }

        @Override
        public String header(ClientResponse response, String name) {
            return response.headers().asHttpHeaders().getFirst(name);
        }

        @Override
        public void discard(ClientResponse response) {
            release(response);
        }
    };

    private static final ExchangeFilterFunction DEADLINE = (request, next) -> Mono.deferContextual(view -> {
        Context context = ReactiveCalls.current(view);
        ClientRequest sent;
        try {
            sent = withDeadline(request, context);
        } catch (ContextDoneException done) {
            return Mono.error(done);
        }
        Mono<ClientResponse> exchange = next.exchange(sent);
        return context == Context.background() ? exchange : boundedBy(exchange, context);
    });

    private final ResilienceHttp http;

    /**
     * Guards from {@code http}'s policies (one {@link HttpPolicy} per pipeline, shared with the
     * {@code RestClient} interceptors).
     *
     * @throws NullPointerException if {@code http} is null
     */
    public ResilienceWebClient(ResilienceHttp http) {
        this.http = Objects.requireNonNull(http, "http");
    }

    /**
     * A filter for {@code WebClient.Builder.filter} that runs each exchange through pipeline
     * {@code name} (see the class comment). Add it after the filters that should run once per
     * call (the builder's filters run in the order added; a retry calls the rest of the chain
     * again).
     *
     * @throws dev.resilience.core.ConfigurationException if the pipeline cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public ExchangeFilterFunction exchangeFilter(String name) {
        HttpPolicy policy = http.policy(name);
        return (request, next) -> ReactiveCalls.run(view -> policy.executeAsync(request.method().name(), true,
                () -> attempt(request, next, view), RESPONSES), ClientResponse.class, RELEASE);
    }

    /**
     * A filter that only sends the current context's deadline as {@code grpc-timeout}, refuses a
     * request whose context is already done, and ends the exchange when the context ends before the
     * response arrives (see the class comment).
     */
    public static ExchangeFilterFunction deadlinePropagation() {
        return DEADLINE;
    }

    /** One attempt, under the attempt's context (current now): its deadline on the request, its end cancelling it. */
    private static CompletableFuture<ClientResponse> attempt(ClientRequest request, ExchangeFunction next,
            reactor.util.context.ContextView view) {
        ClientRequest sent;
        try {
            sent = withDeadline(request, Context.current());
        } catch (ContextDoneException done) {
            return CompletableFuture.failedFuture(done);
        }
        return ReactiveCalls.attempt(next.exchange(sent), view, RELEASE);
    }

    /**
     * {@code request} with {@code context}'s remaining time as {@code grpc-timeout} (unchanged if
     * the context has no deadline).
     *
     * @throws dev.resilience.context.ContextDoneException if the context is done
     */
    private static ClientRequest withDeadline(ClientRequest request, Context context) {
        if (context.isDone()) {
            throw ReactiveCalls.doneError(context);
        }
        if (context.deadline().isEmpty()) {
            return request;
        }
        long remaining = context.remainingNanos();
        if (remaining <= 0) {
            throw ReactiveCalls.doneError(context);
        }
        String timeout = DeadlineHeaders.encodeGrpcTimeout(remaining);
        return ClientRequest.from(request).headers(h -> h.set(DeadlineHeaders.GRPC_TIMEOUT, timeout)).build();
    }

    /** {@code exchange}, failing with the context's error if the context ends before the response. */
    private static Mono<ClientResponse> boundedBy(Mono<ClientResponse> exchange, Context context) {
        return Mono.<ClientResponse>create(sink -> {
            AtomicBoolean settled = new AtomicBoolean();
            Disposable subscription = exchange.contextWrite(sink.contextView()).subscribe(response -> {
                if (settled.compareAndSet(false, true)) {
                    sink.success(response); // discarded by the hook below if the subscriber cancelled just now
                } else {
                    release(response); // the context ended first: nobody reads it
                }
            }, error -> {
                if (settled.compareAndSet(false, true)) {
                    sink.error(error);
                }
            }, () -> {
                if (settled.compareAndSet(false, true)) {
                    sink.success();
                }
            });
            Registration onEnd = context.onDone(() -> {
                if (settled.compareAndSet(false, true)) {
                    sink.error(ReactiveCalls.doneError(context));
                }
            }, Runnable::run);
            sink.onDispose(() -> {
                onEnd.remove();
                subscription.dispose();
            });
        }).doOnDiscard(ClientResponse.class, RELEASE);
    }

    /** Frees a response nobody will read: its body is released and its connection returned. */
    private static void release(ClientResponse response) {
        response.releaseBody().onErrorComplete().subscribe();
    }

    @Override
    public String toString() {
        return "ResilienceWebClient[" + http + "]";
    }
}
