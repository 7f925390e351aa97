package dev.resilience.http.servlet;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.http.InboundDeadlines;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Jakarta Servlet 6 filter that runs each request under its caller's deadline: it reads
 * {@code grpc-timeout} (or Envoy's {@code x-envoy-expected-rq-timeout-ms}) as
 * {@link InboundDeadlines} says, and makes the request's {@link Context} current while the rest of
 * the chain runs, so the servlet and everything it calls see it.
 *
 * <pre>{@code
 * // programmatic (an embedded container, Spring's FilterRegistrationBean, ...)
 * Filter filter = new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(10)).build());
 *
 * // in the servlet (and whatever it calls, on this thread)
 * Optional<Duration> left = Context.current().remaining();
 * }</pre>
 *
 * <p>In {@code web.xml}, declare {@code dev.resilience.http.servlet.DeadlineFilter} with optional
 * init-params {@value #TRUST_INCOMING} ({@code true}/{@code false}), {@value #MAX_TIMEOUT} and
 * {@value #DEFAULT_TIMEOUT} (a number with a unit {@code ms}, {@code s}, {@code m}, {@code h}, such
 * as {@code 500ms}, or ISO-8601 such as {@code PT0.5S}) and {@value #EXPIRED_STATUS}; an invalid
 * value fails the filter's {@link #init}, so the application does not start half-configured.
 *
 * <p><b>What a request gets.</b>
 * <ul>
 *   <li>A request whose deadline passed before it arrived ({@code grpc-timeout: 0m}) is answered
 *       with {@link InboundDeadlines#expiredStatus()} (default 504) and an empty body; the rest of
 *       the chain does not run.</li>
 *   <li>Otherwise the chain runs with the request's context current ({@link Context#current()}),
 *       also stored as the request attribute {@value #CONTEXT_ATTRIBUTE} ({@link #context}) for code
 *       that runs on other threads. The context derives from {@link Context#background()}, never
 *       from what the container's thread may have attached, and the thread's previous context is
 *       restored when the chain returns.</li>
 *   <li>The context is cancelled when the request ends: when the chain returns, or, for a request
 *       that went asynchronous ({@link ServletRequest#startAsync()}), when its async cycle
 *       completes, fails or times out ({@link AsyncListener}). Code that holds on to it sees
 *       {@link Context#isDone()}.</li>
 *   <li>A nested dispatch of the same request (forward, include, async or error dispatch, if the
 *       filter is mapped to it) attaches the context it already has instead of reading the headers
 *       again.</li>
 * </ul>
 *
 * <p><b>Client disconnects.</b> The Servlet API has no portable notice that a client closed its
 * connection while a synchronous request is being served (jakartaee/servlet issue 44, open since
 * 2012): containers find out when they read or write. So a blocking servlet whose client has gone
 * is still bounded by its deadline (if it has one), its next write or flush past the response
 * buffer fails with an {@link IOException}, and its context is cancelled when it returns. For an
 * asynchronous request, the container's {@link AsyncListener#onError} cancels the context at once,
 * with the container's exception as its {@link Context#cause()}: so other work under the same
 * context (a downstream call on another thread) stops too. Tomcat 11 calls it once a write to the
 * departed client fails (a streaming response finds out within a write or two); it does not watch
 * the connection of an async request that is idle, so that one, too, learns of the disconnect only
 * from its deadline or its next write.
 *
 * <p><b>When the container loses the end of an async cycle.</b> Tomcat 11 was seen to fire no
 * {@code AsyncListener} event at all for a request whose client left as its async response began.
 * As {@link AdaptiveLimitFilter} does for its permit, this filter then cancels the context itself
 * once the container says the request is over although no event came (two answers 5 seconds
 * apart; see {@link AdaptiveLimitFilter}), with an {@link IllegalStateException} saying so as its
 * {@link Context#cause()}; it counts it in {@link #lostAsyncCycles()} and logs the first one at
 * {@code WARNING}. Callbacks on the context that run inline then run on the shared thread that
 * watches for such requests: keep them short.
 */
@SuppressWarnings("exports") // its API is the Servlet API's (module jakarta.servlet, optional): a user of this class has it
public final class DeadlineFilter implements Filter {

    /**
     * The request attribute holding the request's {@link Context}: the name of the
     * {@code Context} class. Set before the chain runs; the context is done once the request ended.
     */
    public static final String CONTEXT_ATTRIBUTE = "dev.resilience.context.Context";
    /** The request attribute holding the {@link InboundDeadlines} that made the request's deadline. */
    static final String DEADLINES_ATTRIBUTE = "dev.resilience.http.InboundDeadlines";
    /** Init-param: {@code true} (default) or {@code false}; see {@link InboundDeadlines.Builder#trustIncoming}. */
    public static final String TRUST_INCOMING = "trust-incoming";
    /** Init-param: a duration; see {@link InboundDeadlines.Builder#maxTimeout}. */
    public static final String MAX_TIMEOUT = "max-timeout";
    /** Init-param: a duration; see {@link InboundDeadlines.Builder#defaultTimeout}. */
    public static final String DEFAULT_TIMEOUT = "default-timeout";
    /** Init-param: an HTTP status; see {@link InboundDeadlines.Builder#expiredStatus}. */
    public static final String EXPIRED_STATUS = "expired-status";

    /** Set in {@link #init} by a container thread before any request; volatile to publish it to the others. */
    private volatile InboundDeadlines deadlines;
    private final boolean configured;
    private final AsyncBackstop backstop;
    private final AtomicLong lost = new AtomicLong();

    /**
     * A filter with {@link InboundDeadlines#defaults()}, or what the init-params say: the
     * constructor a container uses for a filter declared in {@code web.xml} or with
     * {@code @WebFilter}.
     */
    public DeadlineFilter() {
        this.deadlines = InboundDeadlines.defaults();
        this.configured = false;
        this.backstop = AsyncBackstop.SHARED;
    }

    /**
     * A filter with the given configuration, for registering an instance programmatically. It
     * takes no init-params.
     */
    public DeadlineFilter(InboundDeadlines deadlines) {
        this(deadlines, AsyncBackstop.SHARED);
    }

    /** For tests: a filter whose lost async cycles {@code backstop} watches. */
    DeadlineFilter(InboundDeadlines deadlines, AsyncBackstop backstop) {
        this.deadlines = Objects.requireNonNull(deadlines, "deadlines");
        this.configured = true;
        this.backstop = backstop;
    }

    /**
     * How many asynchronous requests this filter cancelled the context of because the container
     * never told it their async cycle ended (see the class comment). Zero on a container that
     * keeps the Servlet contract.
     *
     * @return the count since the filter was built
     */
    public long lostAsyncCycles() {
        return lost.get();
    }

    /**
     * Reads the init-params, if there are any.
     *
     * @throws ServletException naming the init-param that is invalid, or if this filter was
     *     constructed with an {@link InboundDeadlines} and also given init-params (one of the two
     *     would be silently ignored)
     */
    @Override
    public void init(FilterConfig config) throws ServletException {
        String trust = config.getInitParameter(TRUST_INCOMING);
        String max = config.getInitParameter(MAX_TIMEOUT);
        String dflt = config.getInitParameter(DEFAULT_TIMEOUT);
        String status = config.getInitParameter(EXPIRED_STATUS);
        if (trust == null && max == null && dflt == null && status == null) {
            return;
        }
        if (configured) {
            throw new ServletException("filter '" + config.getFilterName() + "' was constructed with an"
                    + " InboundDeadlines and cannot also take init-params");
        }
        this.deadlines = fromInitParams(trust, max, dflt, status, config.getFilterName());
    }

    static InboundDeadlines fromInitParams(String trust, String max, String dflt, String status, String filterName)
            throws ServletException {
        InboundDeadlines.Builder b = InboundDeadlines.builder();
        String param = null;
        try {
            if (trust != null) {
                param = TRUST_INCOMING;
                String t = trust.strip().toLowerCase(Locale.ROOT);
                if (!t.equals("true") && !t.equals("false")) {
                    throw new IllegalArgumentException("expected true or false");
                }
                b.trustIncoming(t.equals("true"));
            }
            if (max != null) {
                param = MAX_TIMEOUT;
                b.maxTimeout(parseDuration(max));
            }
            if (dflt != null) {
                param = DEFAULT_TIMEOUT;
                b.defaultTimeout(parseDuration(dflt));
            }
            if (status != null) {
                param = EXPIRED_STATUS;
                b.expiredStatus(Integer.parseInt(status.strip()));
            }
            param = null;
            return b.build();
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new ServletException("filter '" + filterName + "': "
                    + (param == null ? "" : "invalid init-param " + param + ": ") + e.getMessage(), e);
        }
    }

    /**
     * A duration as {@code 250ms}, {@code 2s}, {@code 1m}, {@code 1h} (also {@code us} and
     * {@code ns}), or ISO-8601 such as {@code PT0.25S}.
     */
    static Duration parseDuration(String value) {
        String v = value.strip();
        if (!v.isEmpty() && (v.charAt(0) == 'P' || v.charAt(0) == 'p')) {
            try {
                return Duration.parse(v);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not an ISO-8601 duration: '" + v + "'", e);
            }
        }
        int digits = 0;
        while (digits < v.length() && v.charAt(digits) >= '0' && v.charAt(digits) <= '9') {
            digits++;
        }
        if (digits == 0 || digits > 18) {
            throw new IllegalArgumentException("expected a number and a unit (ms, s, m, h) or ISO-8601: '" + v + "'");
        }
        long n = Long.parseLong(v.substring(0, digits));
        try {
            return ofUnit(n, v.substring(digits).strip(), v);
        } catch (ArithmeticException tooLong) {
            // more seconds than a Duration holds (16 digits of hours do): saturated, as every duration from
            // configuration is; the builders cap it further
            return ChronoUnit.FOREVER.getDuration();
        }
    }

    private static Duration ofUnit(long n, String unit, String v) {
        switch (unit) {
            case "ns":
                return Duration.ofNanos(n);
            case "us":
                return Duration.ofNanos(n).multipliedBy(1_000L);
            case "ms":
                return Duration.ofMillis(n);
            case "s":
                return Duration.ofSeconds(n);
            case "m":
                return Duration.ofMinutes(n);
            case "h":
                return Duration.ofHours(n);
            default:
                throw new IllegalArgumentException("unknown unit (expected ns, us, ms, s, m, h): '" + v + "'");
        }
    }

    /** The configuration this filter applies. */
    public InboundDeadlines deadlines() {
        return deadlines;
    }

    /**
     * The context this filter gave {@code request}, or {@link Context#background()} if it has
     * none; for code on other threads (an async servlet's worker), which does not see the request
     * thread's {@link Context#current()}:
     * {@code try (Scope s = DeadlineFilter.context(request).attach()) { ... }}.
     */
    public static Context context(ServletRequest request) {
        Object c = Objects.requireNonNull(request, "request").getAttribute(CONTEXT_ATTRIBUTE);
        return c instanceof Context ? (Context) c : Context.background();
    }

    /**
     * Whether the request's deadline is the one its caller asked for: this filter gave it its
     * context, trusts incoming headers, the request has a usable deadline header and it asked for
     * less than the server's {@linkplain InboundDeadlines#maxTimeout() maximum}. False when the
     * server's own bound (the maximum, the default timeout) made the deadline. Reads the header
     * again: for the rare request whose deadline passed, not for every request.
     */
    static boolean callerSetDeadline(HttpServletRequest request) {
        Object c = request.getAttribute(DEADLINES_ATTRIBUTE);
        return c instanceof InboundDeadlines && ((InboundDeadlines) c).callerDecides(request::getHeader);
    }

    /**
     * Runs the rest of the chain under the request's context; see the class comment.
     *
     * @throws IOException if the chain throws it
     * @throws ServletException if the chain throws it
     */
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Object existing = request.getAttribute(CONTEXT_ATTRIBUTE);
        if (existing instanceof Context) { // a nested dispatch of a request this filter already serves
            try (Scope s = ((Context) existing).attach()) {
                chain.doFilter(request, response);
            }
            return;
        }
        if (!(request instanceof HttpServletRequest) || !(response instanceof HttpServletResponse)) {
            chain.doFilter(request, response); // no headers to read, no status to answer with
            return;
        }
        InboundDeadlines config = deadlines;
        CancelHandle handle = config.start(((HttpServletRequest) request)::getHeader);
        Context context = handle.context();
        if (context.isDone()) {
            handle.cancel();
            ((HttpServletResponse) response).setStatus(config.expiredStatus());
            return;
        }
        boolean asyncOwnsIt = false;
        try {
            request.setAttribute(CONTEXT_ATTRIBUTE, context);
            request.setAttribute(DEADLINES_ATTRIBUTE, config);
            try (Scope s = context.attach()) {
                chain.doFilter(request, response);
            }
            asyncOwnsIt = request.isAsyncStarted() && cancelWhenAsyncEnds(request, handle);
        } finally {
            if (!asyncOwnsIt) {
                handle.cancel();
            }
        }
    }

    /**
     * Hands the cancelling to the async cycle; false if it has already ended. The container fires
     * {@code onComplete} only after the dispatch that started the cycle returned (Servlet 6.1,
     * {@code AsyncContext.complete}), so a listener added here hears it.
     */
    private boolean cancelWhenAsyncEnds(ServletRequest request, CancelHandle handle) {
        return backstop.listen(request, new Canceller(handle));
    }

    /**
     * Cancels the request's context when its async cycle ends: at the container's events, or the
     * backstop's if the container never sends one.
     */
    private final class Canceller extends AsyncBackstop.Entry {
        private final CancelHandle handle;

        Canceller(CancelHandle handle) {
            this.handle = handle;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            if (firstEnd()) {
                handle.cancel();
            }
        }

        @Override
        public void onError(AsyncEvent event) {
            if (firstEnd()) {
                handle.cancel(event.getThrowable()); // the client went away, or the async work failed
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            if (firstEnd()) {
                handle.cancel();
            }
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            backstop.onStartAsync(event, this); // a new cycle drops the listeners of the last one: stay for it
        }

        @Override
        void giveBack() {
            handle.cancel(new IllegalStateException("the container never reported the end of the request's async cycle"));
            AsyncBackstop.countLost(lost, "DeadlineFilter", "cancelled the request's context");
        }
    }

    @Override
    public String toString() {
        return "DeadlineFilter[" + deadlines + "]";
    }
}
