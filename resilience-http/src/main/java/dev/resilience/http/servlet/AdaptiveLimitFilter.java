package dev.resilience.http.servlet;

import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.internal.Checks;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.Permit;
import dev.resilience.core.RequestNotPermittedException;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * A servlet filter that puts an {@link AdaptiveLimiter} in front of the handlers, so a service sheds
 * load before its queues grow: a request over the limit is answered at once, without running the
 * rest of the chain, with {@code 503 Service Unavailable} and a {@code Retry-After} header.
 *
 * <pre>{@code
 * AdaptiveLimitFilter limits = AdaptiveLimitFilter.builder()
 *         .defaultLimiter(AdaptiveLimiter.builder("http").algorithm(LimitAlgorithm.vegas(20, 5, 200)).build())
 *         .route("/search", AdaptiveLimiter.builder("search").algorithm(LimitAlgorithm.vegas(10, 2, 100)).build())
 *         .build();
 * servletContext.addFilter("deadlines", new DeadlineFilter()).addMappingForUrlPatterns(null, false, "/*");
 * servletContext.addFilter("limits", limits).addMappingForUrlPatterns(null, false, "/*"); // after the deadlines
 * }</pre>
 *
 * <p>The limiters are objects, so the filter is registered as an instance (as above, or with
 * Spring's {@code FilterRegistrationBean}); it has no {@code web.xml} form.
 *
 * <p><b>Groups.</b> Each request is counted against one limiter, found in this order: the
 * {@linkplain Builder#classifier classifier}'s answer if it gives one, else the limiter of the
 * longest {@linkplain Builder#route route} prefix that matches the request's path within the
 * application ({@code getServletPath() + getPathInfo()}, whole segments only: {@code /search}
 * matches {@code /search} and {@code /search/books}, not {@code /searching}), else the
 * {@linkplain Builder#defaultLimiter default limiter}; with none of these the request is not
 * limited. The limiters are the user's, built up front: one instance per group (several routes may
 * share one), whose {@link AdaptiveLimiter#limit()} and {@link AdaptiveLimiter#inFlight()} are the
 * group's state.
 *
 * <p><b>Deadlines first.</b> Install it after {@link DeadlineFilter}, which reads the caller's
 * deadline header once and answers a request whose deadline passed before it arrived (default
 * 504) without reaching this filter. This filter reads no header: it takes the request's context
 * from {@link DeadlineFilter#context(ServletRequest)}, and a request whose context is already done
 * when it gets here (its deadline passed on the way in) is answered {@code 504 Gateway Timeout},
 * without a limiter slot and without running the handler: nobody waits for its answer, and it must
 * not take a slot from a request that someone does wait for. Without a {@code DeadlineFilter} in
 * front, requests have no deadline and only the limit applies.
 *
 * <p><b>What the limiter learns.</b> The permit is taken just before the rest of the chain runs and
 * returned exactly once when the response is complete: when the chain returns, or, for a request
 * that went asynchronous ({@code startAsync}), when its async cycle ends. The round trip is the
 * handler's latency on the limiter's ticker. The call counts as a <em>drop</em> (a sign of
 * overload that lowers the limit) when the response status is one of {@link Builder#dropOn}
 * (default 503 and 504: what a handler answers when a dependency refused it or timed out), when the
 * request's deadline passed while it ran, or when the async cycle timed out; a handler that throws
 * hands its exception to {@link Permit#onFailure} (a timeout or refusal is a drop, anything else no
 * sample); an async error without a timeout (the client went away) gives the permit back without a
 * sample. <b>Except for the caller's own deadline</b>: when the request's deadline is the one its
 * caller asked for (a trusted header, shorter than the server's {@code max-timeout}), a request that
 * ran out of it (whatever the status, an async timeout included), or failed with an exception that
 * says the deadline made it fail (the context's {@link DeadlineExceededException}, or a
 * {@link RequestNotPermittedException} because a wait would pass the deadline), gives the permit
 * back without a sample (concurrency-limits' gRPC interceptor likewise ignores
 * {@code DEADLINE_EXCEEDED}); the latency of the requests that complete still shows a queue
 * building up. This keeps a caller from pushing the limit down with very short deadlines through
 * these paths, not through all: a handler that turns such a refusal into a 503 of its own still
 * counts as a drop, so do not trust deadlines from callers you do not trust
 * ({@link dev.resilience.http.InboundDeadlines.Builder#trustIncoming}). The server's own deadline (its
 * default or maximum timeout) passing is a drop. Any other completed response is a latency sample.
 * Only the original dispatch
 * ({@link DispatcherType#REQUEST}) takes a permit: forwards, includes, error and async dispatches of
 * a request pass through.
 *
 * <p><b>When the container loses the end of an async cycle.</b> Tomcat 11 was seen to fire no
 * {@code AsyncListener} event at all for a request whose client left as its async response began
 * (README, {@code resilience-http}); the permit would then be held for good, and enough such
 * requests would hold the whole limit. So the filter also watches each asynchronous request
 * itself: every 5 seconds it asks the container about it ({@code AsyncContext.getTimeout()}),
 * and once two answers in a row say the request is over ({@code IllegalStateException}: Tomcat's
 * answer once a request has ended and was recycled; it fires {@code onComplete} before that) while
 * no event came, the permit is given back without a sample, {@link #lostAsyncCycles()} counts it
 * and the first one is logged at {@code WARNING} (logger {@code dev.resilience.http.servlet.lost};
 * the message names no request data). So a lost end holds the permit for 5 to 11 seconds after
 * the request ended. Time alone never ends it: a request may run past its async timeout (Tomcat
 * does not time out an async dispatch while it runs; a stream may have no timeout) and keeps its
 * permit. Only a request the container has ended is seen this way: one it keeps without ever
 * telling a listener (an async stream without a timeout whose client left, whose application does
 * not complete it after the failed write) still holds its permit; and an application listener
 * whose {@code onError} blocks for more than 5 seconds makes a request look lost (Tomcat then says
 * "over" to other threads), so it is given back without its sample and counted. One daemon
 * thread, shared by the filters of the class loader, does the watching while asynchronous requests
 * are in flight and for a minute after; it visits them once a second.
 *
 * <p><b>Rejections.</b> Status 503 with {@code Retry-After: <seconds>} ({@link Builder#retryAfter},
 * default 1 s) and no body: RFC 9110 defines {@code Retry-After} for 503, and the toolkit's own HTTP
 * clients honour it. 503 rather than concurrency-limits' default 429: the limit protects the
 * server's capacity, it is not the caller's quota.
 *
 * <p><b>Cost.</b> Per limited request: the permit (one small object, see
 * {@link AdaptiveLimiter#tryAcquire()}), and for an asynchronous request one listener; no lock. A
 * rejection allocates nothing. The classifier, if any, is user code called once per request: it may
 * throw (the container answers as for any filter that throws; no permit was taken) or return null
 * (the routes and the default decide).
 */
@SuppressWarnings("exports") // its API is the Servlet API's (module jakarta.servlet, optional): a user of this class has it
public final class AdaptiveLimitFilter implements Filter {

    /** The header that tells a rejected caller when to come back. */
    public static final String RETRY_AFTER = "Retry-After";
    /** The status of a request rejected over the limit. */
    public static final int REJECTED_STATUS = 503;
    /** The status of a request whose context is done when it reaches this filter. */
    public static final int EXPIRED_STATUS = 504;

    /**
     * What a drop is reported as: a timeout, which every {@link AdaptiveLimiter} counts as a drop.
     * Shared and never thrown, so reporting a drop allocates nothing.
     */
    private static final TimeoutException DROP = new TimeoutException("dropped (status or deadline)");

    private final Function<? super HttpServletRequest, ? extends AdaptiveLimiter> classifier;
    /** Route prefixes without a trailing slash, longest first; {@code ""} is the root. */
    private final String[] prefixes;
    private final AdaptiveLimiter[] routeLimiters;
    private final AdaptiveLimiter defaultLimiter;
    private final long retryAfterSeconds;
    private final String retryAfterValue;
    /** Whether a status counts as a drop, by status (100 to 599). */
    private final boolean[] drops;
    private final AsyncBackstop backstop;
    private final AtomicLong lost = new AtomicLong();

    private AdaptiveLimitFilter(Builder b) {
        this.classifier = b.classifier;
        List<Route> routes = new ArrayList<>(b.routes);
        routes.sort(Comparator.comparingInt((Route r) -> r.prefix.length()).reversed());
        this.prefixes = new String[routes.size()];
        this.routeLimiters = new AdaptiveLimiter[routes.size()];
        for (int i = 0; i < routes.size(); i++) {
            prefixes[i] = routes.get(i).prefix;
            routeLimiters[i] = routes.get(i).limiter;
        }
        this.defaultLimiter = b.defaultLimiter;
        long nanos = b.retryAfterNanos < 0 ? 1_000_000_000L : b.retryAfterNanos;
        this.retryAfterSeconds = (nanos + 999_999_999L) / 1_000_000_000L;
        this.retryAfterValue = Long.toString(retryAfterSeconds);
        IntPredicate dropOn = b.dropOn == null ? s -> s == 503 || s == 504 : b.dropOn;
        this.backstop = b.backstop == null ? AsyncBackstop.SHARED : b.backstop;
        this.drops = new boolean[600];
        for (int s = 100; s < drops.length; s++) {
            drops[s] = dropOn.test(s);
        }
    }

    /**
     * Starts building a filter; at least one of a default limiter, a route or a classifier must be
     * set. Every setting may be set once.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the rest of the chain under a permit of the request's limiter, or answers at once; see
     * the class comment.
     *
     * @throws IOException if the chain throws it
     * @throws ServletException if the chain throws it
     */
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request.getDispatcherType() != DispatcherType.REQUEST || !(request instanceof HttpServletRequest)
                || !(response instanceof HttpServletResponse)) {
            chain.doFilter(request, response);
            return;
        }
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse resp = (HttpServletResponse) response;
        AdaptiveLimiter limiter = limiterFor(req);
        if (limiter == null) {
            chain.doFilter(request, response);
            return;
        }
        Context context = DeadlineFilter.context(req);
        if (context.isDone()) {
            resp.setStatus(EXPIRED_STATUS);
            return;
        }
        Permit permit = limiter.tryAcquire();
        if (!permit.isPermitted()) {
            resp.setStatus(REJECTED_STATUS);
            resp.setHeader(RETRY_AFTER, retryAfterValue);
            return;
        }
        boolean asyncOwnsIt = false;
        try {
            chain.doFilter(request, response);
            asyncOwnsIt = req.isAsyncStarted() && endWhenAsyncEnds(req, resp, permit, context, limiter);
            if (!asyncOwnsIt) {
                end(permit, req, resp.getStatus(), context);
            }
        } catch (Throwable e) {
            if (!asyncOwnsIt) {
                fail(permit, req, e, context);
            }
            throw e;
        }
    }

    /**
     * Ends a permit whose request failed with {@code e} (or, if null, whose async cycle timed out):
     * no sample when the caller's own deadline caused it, else {@link Permit#onFailure} (a timeout
     * or refusal is a drop, anything else no sample).
     */
    private static void fail(Permit permit, HttpServletRequest req, Throwable e, Context context) {
        if ((context.err() instanceof DeadlineExceededException || AdaptiveLimiter.failedByDeadline(e))
                && DeadlineFilter.callerSetDeadline(req)) {
            permit.release(); // the caller's own deadline: no sample, as in end()
        } else {
            permit.onFailure(e == null ? DROP : e);
        }
    }


    /** The request's limiter, or null if it is not limited. */
    private AdaptiveLimiter limiterFor(HttpServletRequest req) {
        if (classifier != null) {
            AdaptiveLimiter l = classifier.apply(req);
            if (l != null) {
                return l;
            }
        }
        if (prefixes.length > 0) {
            String servletPath = req.getServletPath();
            String pathInfo = req.getPathInfo();
            for (int i = 0; i < prefixes.length; i++) {
                if (matches(prefixes[i], servletPath == null ? "" : servletPath, pathInfo)) {
                    return routeLimiters[i];
                }
            }
        }
        return defaultLimiter;
    }

    /**
     * Whether {@code prefix} (no trailing slash; {@code ""} for the root) is a whole-segment prefix
     * of {@code servletPath + pathInfo}, without building that string.
     */
    static boolean matches(String prefix, String servletPath, String pathInfo) {
        int n = prefix.length();
        int sl = servletPath.length();
        if (n <= sl) {
            if (!servletPath.startsWith(prefix)) {
                return false;
            }
            if (n < sl) {
                return servletPath.charAt(n) == '/';
            }
            return pathInfo == null || pathInfo.isEmpty() || pathInfo.charAt(0) == '/';
        }
        if (pathInfo == null || !prefix.startsWith(servletPath)) {
            return false;
        }
        int rest = n - sl;
        if (pathInfo.length() < rest || !pathInfo.regionMatches(0, prefix, sl, rest)) {
            return false;
        }
        return pathInfo.length() == rest || pathInfo.charAt(rest) == '/';
    }

    /** Ends a permit whose response is complete with {@code status}. */
    private void end(Permit permit, HttpServletRequest req, int status, Context context) {
        if ((status >= 0 && status < drops.length && drops[status]) || context.err() instanceof DeadlineExceededException) {
            fail(permit, req, null, context); // a drop, unless the caller's own deadline ran out
        } else {
            permit.onSuccess();
        }
    }

    /**
     * Hands the permit to the async cycle; false if it has already ended. The container fires
     * {@code onComplete} only after the dispatch that started the cycle returned, so a listener
     * added here hears it (as in {@link DeadlineFilter}).
     */
    private boolean endWhenAsyncEnds(HttpServletRequest req, HttpServletResponse resp, Permit permit,
            Context context, AdaptiveLimiter limiter) {
        return backstop.listen(req, new Returner(permit, req, resp, context, limiter));
    }

    /**
     * How many asynchronous requests this filter gave the permit back for because the container
     * never told it their async cycle ended (see the class comment). Zero on a container that
     * keeps the Servlet contract.
     *
     * @return the count since the filter was built
     */
    public long lostAsyncCycles() {
        return lost.get();
    }

    /**
     * Ends an asynchronous request's permit when its async cycle ends; only the first end counts:
     * the container's events, or the backstop's if the container never sends one.
     */
    private final class Returner extends AsyncBackstop.Entry {
        private final Permit permit;
        private final HttpServletRequest request;
        private final HttpServletResponse response;
        private final Context context;
        private final AdaptiveLimiter limiter;

        Returner(Permit permit, HttpServletRequest request, HttpServletResponse response, Context context,
                AdaptiveLimiter limiter) {
            this.request = request;
            this.permit = permit;
            this.response = response;
            this.context = context;
            this.limiter = limiter;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            if (firstEnd()) {
                end(permit, request, response.getStatus(), context);
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            if (firstEnd()) {
                fail(permit, request, null, context); // the handler did not answer in time: overload, unless the caller's deadline passed
            }
        }

        @Override
        public void onError(AsyncEvent event) {
            if (!firstEnd()) {
                return;
            }
            Throwable t = event.getThrowable();
            if (t == null) {
                permit.release();
            } else {
                fail(permit, request, t, context); // the client went away (IOException): no sample
            }
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            backstop.onStartAsync(event, this); // a new cycle drops the listeners of the last one: stay for it
        }

        @Override
        void giveBack() {
            permit.release();
            AsyncBackstop.countLost(lost, "AdaptiveLimitFilter", "gave back the permit of limiter '" + limiter.name() + "'");
        }
    }

    /** The {@code Retry-After} of a rejection, in whole seconds. */
    public Duration retryAfter() {
        return Duration.ofSeconds(retryAfterSeconds);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AdaptiveLimitFilter[");
        for (int i = 0; i < prefixes.length; i++) {
            sb.append(prefixes[i].isEmpty() ? "/" : prefixes[i]).append("->").append(routeLimiters[i].name()).append(", ");
        }
        return sb.append("default=").append(defaultLimiter == null ? "none" : defaultLimiter.name())
                .append(classifier == null ? "" : ", classifier")
                .append(", retryAfter=").append(retryAfterSeconds).append("s]").toString();
    }

    private static final class Route {
        final String prefix;
        final AdaptiveLimiter limiter;

        Route(String prefix, AdaptiveLimiter limiter) {
            this.prefix = prefix;
            this.limiter = limiter;
        }
    }

    /** Builds an {@link AdaptiveLimitFilter}; settings are checked when set, each may be set once. */
    public static final class Builder {
        private Function<? super HttpServletRequest, ? extends AdaptiveLimiter> classifier;
        private final List<Route> routes = new ArrayList<>();
        private AdaptiveLimiter defaultLimiter;
        private long retryAfterNanos = -1;
        private IntPredicate dropOn;
        private AsyncBackstop backstop;

        private Builder() {
        }

        /** For tests: the backstop that watches the filter's async cycles, instead of the shared one. */
        Builder backstop(AsyncBackstop backstop) {
            this.backstop = Objects.requireNonNull(backstop, "backstop");
            return this;
        }

        /**
         * The limiter of every request that no classifier answer and no route claims. Default: none
         * (such requests are not limited).
         *
         * @param limiter the limiter
         * @return this builder
         * @throws NullPointerException if {@code limiter} is null
         * @throws IllegalStateException if already set
         */
        public Builder defaultLimiter(AdaptiveLimiter limiter) {
            Checks.once(this.defaultLimiter == null, "defaultLimiter");
            this.defaultLimiter = Objects.requireNonNull(limiter, "limiter");
            return this;
        }

        /**
         * Requests whose path within the application starts with the whole segments of
         * {@code pathPrefix} go to {@code limiter}; the longest matching prefix wins. Several routes
         * may share a limiter (one group).
         *
         * @param pathPrefix starts with {@code /}; a trailing {@code /} is ignored ({@code /} alone
         *     matches every path)
         * @param limiter the group's limiter
         * @return this builder
         * @throws NullPointerException if an argument is null
         * @throws IllegalArgumentException if {@code pathPrefix} does not start with {@code /}, or
         *     has a route already
         */
        public Builder route(String pathPrefix, AdaptiveLimiter limiter) {
            Objects.requireNonNull(pathPrefix, "pathPrefix");
            Objects.requireNonNull(limiter, "limiter");
            if (!pathPrefix.startsWith("/")) {
                throw new IllegalArgumentException("pathPrefix must start with '/': '" + pathPrefix + "'");
            }
            String p = pathPrefix.endsWith("/") ? pathPrefix.substring(0, pathPrefix.length() - 1) : pathPrefix;
            for (Route r : routes) {
                if (r.prefix.equals(p)) {
                    throw new IllegalArgumentException("pathPrefix has a route already: '" + pathPrefix + "'");
                }
            }
            routes.add(new Route(p, limiter));
            return this;
        }

        /**
         * A function that picks a request's limiter (for example by a header or the method), asked
         * before the routes: null means "no opinion" (the routes, then the default decide). It is
         * called on every request on the container's thread: keep it fast, and return limiters
         * built up front, not a new one per request.
         *
         * @param classifier the function
         * @return this builder
         * @throws NullPointerException if {@code classifier} is null
         * @throws IllegalStateException if already set
         */
        public Builder classifier(Function<? super HttpServletRequest, ? extends AdaptiveLimiter> classifier) {
            Checks.once(this.classifier == null, "classifier");
            this.classifier = Objects.requireNonNull(classifier, "classifier");
            return this;
        }

        /**
         * When a rejected caller should come back, sent as {@code Retry-After} in whole seconds
         * (rounded up); default 1 s.
         *
         * @param retryAfter the delay
         * @return this builder
         * @throws NullPointerException if {@code retryAfter} is null
         * @throws IllegalArgumentException if it is zero or negative
         * @throws IllegalStateException if already set
         */
        public Builder retryAfter(Duration retryAfter) {
            Checks.once(this.retryAfterNanos < 0, "retryAfter");
            this.retryAfterNanos = Checks.positiveNanos(retryAfter, "retryAfter");
            return this;
        }

        /**
         * Which response statuses count as a drop (overload: the limit goes down) rather than a
         * latency sample; default 503 and 504. Asked once per status from 100 to 599 when the
         * filter is built, never per request.
         *
         * @param dropOn true for the statuses that are drops
         * @return this builder
         * @throws NullPointerException if {@code dropOn} is null
         * @throws IllegalStateException if already set
         */
        public Builder dropOn(IntPredicate dropOn) {
            Checks.once(this.dropOn == null, "dropOn");
            this.dropOn = Objects.requireNonNull(dropOn, "dropOn");
            return this;
        }

        /**
         * Builds the filter.
         *
         * @return the filter
         * @throws IllegalStateException if no default limiter, route or classifier was set (the
         *     filter would limit nothing)
         */
        public AdaptiveLimitFilter build() {
            if (defaultLimiter == null && routes.isEmpty() && classifier == null) {
                throw new IllegalStateException("nothing to limit: set a defaultLimiter, a route or a classifier");
            }
            return new AdaptiveLimitFilter(this);
        }
    }
}
