package dev.resilience.http.jdkserver;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.http.InboundDeadlines;
import java.io.IOException;
import java.util.Objects;

/**
 * A filter for the JDK's {@code com.sun.net.httpserver.HttpServer} that runs each exchange under its
 * caller's deadline: it reads {@code grpc-timeout} (or Envoy's {@code x-envoy-expected-rq-timeout-ms})
 * as {@link InboundDeadlines} says and makes the request's {@link Context} current while the
 * handler runs.
 *
 * <pre>{@code
 * HttpContext ctx = server.createContext("/work", handler);
 * ctx.getFilters().add(new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(10)).build()));
 * // in the handler: Context.current().remaining(), Context.current().isDone()
 * }</pre>
 *
 * <p><b>What an exchange gets.</b>
 * <ul>
 *   <li>An exchange whose deadline passed before it arrived ({@code grpc-timeout: 0m}) is answered
 *       with {@link InboundDeadlines#expiredStatus()} (default 504) and no body, and closed; the
 *       handler does not run.</li>
 *   <li>Otherwise the rest of the chain runs with the request's context current. It derives from
 *       {@link Context#background()}, never from what the server's thread may have attached, and
 *       the thread's previous context is restored afterwards. To carry it to other threads, capture
 *       {@code Context.current()} in the handler ({@code Context.wrap},
 *       {@code ContextExecutors}); the exchange's attributes are no place for it, as the JDK's
 *       server shares them between all exchanges of an {@code HttpContext}.</li>
 *   <li>The context is cancelled when the handler returns, normally or not: the response is
 *       complete then (a handler that keeps the exchange to answer it later from another thread
 *       should derive its own context before returning, for example with
 *       {@link Context#withoutCancel()} and its own timeout).</li>
 * </ul>
 *
 * <p><b>Client disconnects.</b> The JDK's server has no notice of a client closing its connection
 * while a handler runs: the handler is still bounded by its deadline (if it has one), and its next
 * write to the response fails with an {@link IOException}.
 */
@SuppressWarnings("exports") // its API is the JDK server's (module jdk.httpserver, optional): a user of this class has it
public final class DeadlineFilter extends Filter {

    private final InboundDeadlines deadlines;

    /** A filter with {@link InboundDeadlines#defaults()}. */
    public DeadlineFilter() {
        this(InboundDeadlines.defaults());
    }

    /** A filter with the given configuration. */
    public DeadlineFilter(InboundDeadlines deadlines) {
        this.deadlines = Objects.requireNonNull(deadlines, "deadlines");
    }

    /** The configuration this filter applies. */
    public InboundDeadlines deadlines() {
        return deadlines;
    }

    /**
     * Runs the rest of the chain under the exchange's context; see the class comment.
     *
     * @throws IOException if the chain throws it, or answering an expired exchange fails
     */
    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        CancelHandle handle = deadlines.start(exchange.getRequestHeaders()::getFirst);
        try {
            Context context = handle.context();
            if (context.isDone()) {
                exchange.sendResponseHeaders(deadlines.expiredStatus(), -1);
                exchange.close();
                return;
            }
            try (Scope s = context.attach()) {
                chain.doFilter(exchange);
            }
        } finally {
            handle.cancel();
        }
    }

    @Override
    public String description() {
        return "runs each exchange under its caller's deadline (" + deadlines + ")";
    }
}
