package dev.resilience.http;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.HeaderTimeout;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * How a server turns an incoming request's deadline header into the request's {@link Context}: the
 * one policy the servlet filter ({@code dev.resilience.http.servlet.DeadlineFilter}) and the JDK
 * {@code HttpServer} filter ({@code dev.resilience.http.jdkserver.DeadlineFilter}) share. Immutable.
 *
 * <pre>{@code
 * InboundDeadlines deadlines = InboundDeadlines.builder()
 *         .maxTimeout(Duration.ofSeconds(10))      // no caller gets more than 10 s
 *         .defaultTimeout(Duration.ofSeconds(5))   // a caller that says nothing gets 5 s
 *         .build();
 * try (CancelHandle request = deadlines.start(exchange.getRequestHeaders()::getFirst)) {
 *     if (request.context().isDone()) { ... answer deadlines.expiredStatus(), do not run the handler ... }
 *     try (Scope s = request.attach()) { handle(exchange); }   // Context.current().remaining()
 * }
 * }</pre>
 *
 * <p><b>Headers.</b> {@code grpc-timeout} if the request has one, else Envoy's
 * {@code x-envoy-expected-rq-timeout-ms} ({@link DeadlineHeaders}). A malformed or hostile value
 * never throws: it counts as absent and is logged at {@code DEBUG} on the logger
 * {@code dev.resilience.http.inbound} (header name, reason, and at most 32 characters of the value
 * with anything but printable ASCII replaced; nothing else of the request).
 *
 * <p><b>Trust.</b> By default incoming headers are trusted, as they should be between internal
 * services. A service at the edge, reachable by clients it does not control, should
 * {@linkplain Builder#trustIncoming(boolean) ignore them} (as Finagle and Linkerd advise): a client
 * could otherwise make the server give up at once, or work far longer than it should. Whatever the
 * trust, {@link Builder#maxTimeout} bounds the time a caller can ask for, and
 * {@link Builder#defaultTimeout} applies when there is no (usable or trusted) header.
 *
 * <p><b>The context.</b> {@link #start} derives the request's context from
 * {@link Context#background()}, never from whatever context the server's thread may still have
 * attached: a request inherits nothing from the previous one. With no deadline it is still
 * cancellable, so the filters can end it when the response completes or the client goes away.
 */
public final class InboundDeadlines {

    private static final System.Logger LOG = System.getLogger("dev.resilience.http.inbound");
    private static final InboundDeadlines DEFAULTS = builder().build();
    /** How much of a rejected header value a log line may show. */
    private static final int MAX_LOGGED_CHARS = 32;

    private final boolean trustIncoming;
    /** Bound on any deadline in nanoseconds, or -1 for none. */
    private final long maxNanos;
    /** Deadline without a usable header in nanoseconds, or -1 for none. */
    private final long defaultNanos;
    private final int expiredStatus;
    private final Ticker ticker;

    private InboundDeadlines(Builder b) {
        this.trustIncoming = b.trustIncoming == null || b.trustIncoming;
        this.maxNanos = b.maxNanos;
        this.defaultNanos = b.defaultNanos;
        this.expiredStatus = b.expiredStatus < 0 ? 504 : b.expiredStatus;
        this.ticker = b.ticker == null ? Ticker.system() : b.ticker;
    }

    /**
     * The defaults: incoming headers trusted, no server maximum, no default timeout, 504 for a
     * request whose deadline has passed on arrival.
     */
    public static InboundDeadlines defaults() {
        return DEFAULTS;
    }

    /** Starts building a configuration; every setting is optional and may be set once. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the context of one incoming request: a child of {@link Context#background()} with the
     * request's deadline, which is the header's timeout (if trusted and valid) bounded by
     * {@link #maxTimeout()}, else {@link #defaultTimeout()}, else none. The caller must cancel the
     * handle when the request is over (the response completed, or the client went away).
     *
     * <p>If the returned context is already done, the caller's deadline passed before the request
     * arrived (for example {@code grpc-timeout: 0m}): answer {@link #expiredStatus()} and do not
     * run the handler; nobody waits for its answer.
     *
     * @param header looks up the first value of a request header by its lower-case name, null if
     *     absent (servlet: {@code request::getHeader}; JDK: {@code exchange.getRequestHeaders()::getFirst});
     *     not called at all when incoming headers are not trusted
     * @return the request's cancellable context
     */
    public CancelHandle start(Function<String, String> header) {
        Objects.requireNonNull(header, "header");
        long nanos = defaultNanos;
        if (trustIncoming) {
            long fromHeader = read(header, true);
            if (fromHeader >= 0) {
                nanos = maxNanos >= 0 && fromHeader > maxNanos ? maxNanos : fromHeader;
            }
        }
        Context root = Context.background();
        return nanos < 0 ? root.withCancel() : root.withTimeout(Duration.ofNanos(nanos), ticker);
    }

    /**
     * The timeout the request's headers ask for in nanoseconds, or -1 if none is usable; the order
     * of {@link DeadlineHeaders#read}, keeping the raw value for the log line.
     */
    private static long read(Function<String, String> header, boolean logRejected) {
        String raw = header.apply(DeadlineHeaders.GRPC_TIMEOUT);
        HeaderTimeout t;
        if (raw != null) {
            t = DeadlineHeaders.decodeGrpcTimeout(raw);
        } else {
            raw = header.apply(DeadlineHeaders.ENVOY_EXPECTED_TIMEOUT_MS);
            if (raw == null) {
                return -1L;
            }
            t = DeadlineHeaders.decodeEnvoyTimeoutMs(raw);
        }
        if (t.isPresent()) {
            return t.nanos();
        }
        if (logRejected) {
            logRejected(t, raw);
        }
        return -1L;
    }

    /**
     * Whether the deadline {@link #start} gives a request with these headers is the one its caller
     * asked for: incoming headers are trusted, one is usable, and it asks for less than
     * {@link #maxTimeout()} (at the maximum or above, the server's own bound decides). An adaptive
     * limit learns nothing from a request that ran out of its caller's deadline
     * ({@code AdaptiveLimitFilter}); this reads the headers again, for that rare request only.
     *
     * @param header looks up the first value of a request header by its lower-case name, as for
     *     {@link #start}
     * @return whether the caller's deadline bounds the request
     */
    public boolean callerDecides(Function<String, String> header) {
        Objects.requireNonNull(header, "header");
        if (!trustIncoming) {
            return false;
        }
        long asked = read(header, false); // logged once already, by start
        return asked >= 0 && (maxNanos < 0 || asked < maxNanos);
    }

    private static void logRejected(HeaderTimeout t, String raw) {
        try {
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "ignored " + t.header() + " header (" + t.error() + "): "
                        + printable(raw));
            }
        } catch (RuntimeException ignored) {
            // a broken logging backend must not fail the request
        }
    }

    /**
     * At most {@value #MAX_LOGGED_CHARS} characters of {@code value}, quoted, with anything but
     * printable ASCII replaced by {@code ?}, and the full length when cut.
     */
    static String printable(String value) {
        int n = Math.min(value.length(), MAX_LOGGED_CHARS);
        StringBuilder sb = new StringBuilder(n + 24).append('\'');
        for (int i = 0; i < n; i++) {
            char ch = value.charAt(i);
            sb.append(ch >= 0x20 && ch < 0x7f ? ch : '?');
        }
        sb.append('\'');
        if (value.length() > n) {
            sb.append("... (").append(value.length()).append(" chars)");
        }
        return sb.toString();
    }

    /** Whether incoming deadline headers are read; default true. */
    public boolean trustIncoming() {
        return trustIncoming;
    }

    /** The bound on any request's deadline, if set. */
    public Optional<Duration> maxTimeout() {
        return maxNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(maxNanos));
    }

    /** The deadline of a request without a usable (or trusted) header, if set. */
    public Optional<Duration> defaultTimeout() {
        return defaultNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(defaultNanos));
    }

    /** The status answered to a request whose deadline passed before it arrived; default 504. */
    public int expiredStatus() {
        return expiredStatus;
    }

    @Override
    public String toString() {
        return "InboundDeadlines[trustIncoming=" + trustIncoming
                + ", maxTimeout=" + (maxNanos < 0 ? "none" : Duration.ofNanos(maxNanos))
                + ", defaultTimeout=" + (defaultNanos < 0 ? "none" : Duration.ofNanos(defaultNanos))
                + ", expiredStatus=" + expiredStatus + "]";
    }

    /** Builds {@link InboundDeadlines}; each setting may be set once and is checked when set. */
    public static final class Builder {
        private Boolean trustIncoming;
        private long maxNanos = -1;
        private long defaultNanos = -1;
        private int expiredStatus = -1;
        private Ticker ticker;

        private Builder() {
        }

        /**
         * Whether to honour the deadline headers of incoming requests; default true, for services
         * called by other internal services. At an untrusted edge set false: the headers are then
         * not even read, and only {@link #defaultTimeout} gives requests a deadline.
         *
         * @throws IllegalStateException if already set
         */
        public Builder trustIncoming(boolean trustIncoming) {
            Checks.once(this.trustIncoming == null, "trustIncoming");
            this.trustIncoming = trustIncoming;
            return this;
        }

        /**
         * The server's maximum for what a header asks for: a longer timeout is cut to this. A request
         * without a usable header (absent, malformed, or not trusted) gets {@link #defaultTimeout}
         * instead, not this: set both to bound every request. Default: none (a trusted header's
         * timeout is taken as it is).
         *
         * @throws NullPointerException if {@code maxTimeout} is null
         * @throws IllegalArgumentException if it is zero or negative
         * @throws IllegalStateException if already set
         */
        public Builder maxTimeout(Duration maxTimeout) {
            Checks.once(this.maxNanos < 0, "maxTimeout");
            this.maxNanos = Checks.positiveNanos(maxTimeout, "maxTimeout");
            return this;
        }

        /**
         * The deadline of a request that carries no usable header, or whose header is not trusted.
         * Default: none (such a request has no deadline, though it is still cancelled when it ends).
         * Must not exceed {@link #maxTimeout}.
         *
         * @throws NullPointerException if {@code defaultTimeout} is null
         * @throws IllegalArgumentException if it is zero or negative
         * @throws IllegalStateException if already set
         */
        public Builder defaultTimeout(Duration defaultTimeout) {
            Checks.once(this.defaultNanos < 0, "defaultTimeout");
            this.defaultNanos = Checks.positiveNanos(defaultTimeout, "defaultTimeout");
            return this;
        }

        /**
         * The status answered, without running the handler, to a request whose deadline passed
         * before it arrived; default 504 (Gateway Timeout, what Envoy answers in that case).
         *
         * @throws IllegalArgumentException unless 200 to 599: a 1xx status cannot end a response
         * @throws IllegalStateException if already set
         */
        public Builder expiredStatus(int expiredStatus) {
            Checks.once(this.expiredStatus < 0, "expiredStatus");
            if (expiredStatus < 200 || expiredStatus > 599) {
                throw new IllegalArgumentException("expiredStatus must be a final HTTP status, 200 to 599: "
                        + expiredStatus);
            }
            this.expiredStatus = expiredStatus;
            return this;
        }

        /**
         * The clock the request deadlines are measured on; default {@link Ticker#system()}.
         *
         * @throws NullPointerException if {@code ticker} is null
         * @throws IllegalStateException if already set
         */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Builds the configuration.
         *
         * @throws IllegalArgumentException if {@link #defaultTimeout} exceeds {@link #maxTimeout}
         */
        public InboundDeadlines build() {
            if (maxNanos >= 0 && defaultNanos > maxNanos) {
                throw new IllegalArgumentException("defaultTimeout must not exceed maxTimeout: "
                        + Duration.ofNanos(defaultNanos) + " > " + Duration.ofNanos(maxNanos));
            }
            return new InboundDeadlines(this);
        }
    }
}
