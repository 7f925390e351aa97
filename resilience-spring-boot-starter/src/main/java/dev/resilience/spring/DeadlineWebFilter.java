package dev.resilience.spring;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.observability.ResilienceContextAccessor;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * The inbound deadline filter of a WebFlux application (the reactive twin of the servlet
 * {@code dev.resilience.http.servlet.DeadlineFilter}): each exchange runs under its caller's
 * deadline, read from {@code grpc-timeout} (or Envoy's {@code x-envoy-expected-rq-timeout-ms}) as
 * {@link InboundDeadlines} says. The starter registers it in a reactive web application, configured
 * by the {@code resilience.spring.inbound.*} properties, unless
 * {@code resilience.spring.inbound.enabled=false}.
 *
 * <p><b>What an exchange gets.</b>
 * <ul>
 *   <li>An exchange whose deadline passed before it arrived ({@code grpc-timeout: 0m}) is answered
 *       with {@link InboundDeadlines#expiredStatus()} (default 504) and an empty body; the rest of
 *       the chain, and so the handler, does not run.</li>
 *   <li>Otherwise the chain runs under the request's {@link Context}, derived from
 *       {@link Context#background()}. It is the exchange attribute {@value #CONTEXT_ATTRIBUTE}
 *       ({@link #context(ServerWebExchange)}), and it is in the Reactor context of the chain's
 *       subscription under {@link ResilienceContextAccessor#KEY}: what reactive code reads
 *       ({@code Mono.deferContextual}), and what the starter's {@code WebClient} filters and the
 *       annotations on methods returning {@code Mono} take as the current context, so the deadline
 *       reaches the calls a handler makes without any ThreadLocal.</li>
 *   <li>{@link Context#current()} (a ThreadLocal) is the request's context in handlers only with
 *       Reactor's automatic context propagation: {@code spring.reactor.context-propagation=auto}
 *       (Spring Boot then calls {@code Hooks.enableAutomaticContextPropagation()}); the
 *       {@link ResilienceContextAccessor} that restores it is registered by the toolkit. Without
 *       it, a handler's thread has no context attached: read the attribute or the Reactor context.
 *       The filter does not attach the context itself while the chain is subscribed: a handler
 *       invoked later on another signal (after reading the request body) would not see it, and a
 *       context that is there only sometimes is worse than one that is read explicitly.</li>
 *   <li>The context is cancelled when the exchange ends: when the chain completes or fails (the
 *       failure is the cancellation's cause) or is cancelled (the client went away, or the server
 *       is stopping). Work still running under it (a downstream call) stops. The filter does not end
 *       the exchange at the deadline: the handler decides what to answer then, as with the servlet
 *       filter.</li>
 * </ul>
 */
@SuppressWarnings("exports") // its API is WebFlux's and Reactor's (optional modules): a user of this class has them
public final class DeadlineWebFilter implements WebFilter, Ordered {

    /**
     * The exchange attribute holding the request's {@link Context} (the same name as the servlet
     * filter's request attribute); the context is done once the exchange ended.
     */
    public static final String CONTEXT_ATTRIBUTE = "dev.resilience.context.Context";

    /** The filter's default order: first, so that every other filter runs within the caller's deadline. */
    public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 10;

    private final InboundDeadlines deadlines;
    private final HttpStatusCode expired;

    /**
     * A filter applying {@code deadlines}.
     *
     * @throws NullPointerException if {@code deadlines} is null
     */
    public DeadlineWebFilter(InboundDeadlines deadlines) {
        this.deadlines = Objects.requireNonNull(deadlines, "deadlines");
        this.expired = HttpStatusCode.valueOf(deadlines.expiredStatus());
    }

    /** The configuration this filter applies. */
    public InboundDeadlines deadlines() {
        return deadlines;
    }

    /**
     * The context this filter gave {@code exchange}, or {@link Context#background()} if it has none.
     *
     * @throws NullPointerException if {@code exchange} is null
     */
    public static Context context(ServerWebExchange exchange) {
        Object c = Objects.requireNonNull(exchange, "exchange").getAttribute(CONTEXT_ATTRIBUTE);
        return c instanceof Context ? (Context) c : Context.background();
    }

    /** Runs the rest of the chain under the request's context; see the class comment. */
    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        CancelHandle handle = deadlines.start(exchange.getRequest().getHeaders()::getFirst);
        Context context = handle.context();
        if (context.isDone()) {
            handle.cancel();
            exchange.getResponse().setStatusCode(expired);
            return exchange.getResponse().setComplete();
        }
        exchange.getAttributes().put(CONTEXT_ATTRIBUTE, context);
        return chain.filter(exchange)
                .doOnError(handle::cancel)
                .doFinally(signal -> {
                    if (signal == SignalType.CANCEL) {
                        handle.cancel(new CancellationException("the exchange was cancelled: the client went away"
                                + " or the server is stopping"));
                    } else {
                        handle.cancel();
                    }
                })
                .contextWrite(c -> c.put(ResilienceContextAccessor.KEY, context));
    }

    /** {@link #ORDER}. */
    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public String toString() {
        return "DeadlineWebFilter[" + deadlines + "]";
    }
}
