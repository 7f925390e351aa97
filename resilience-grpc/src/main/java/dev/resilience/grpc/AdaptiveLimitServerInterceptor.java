package dev.resilience.grpc;

import dev.resilience.context.DeadlineExceededException;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.Permit;
import dev.resilience.core.RequestNotPermittedException;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

/**
 * A gRPC server interceptor that puts an {@link AdaptiveLimiter} in front of the handlers of unary
 * calls, so a service sheds load before its queues grow: a call over the limit is closed at once,
 * without starting the handler, with {@code RESOURCE_EXHAUSTED} and the trailer
 * {@code grpc-retry-pushback-ms}.
 *
 * <pre>{@code
 * AdaptiveLimitServerInterceptor limits = AdaptiveLimitServerInterceptor.builder()
 *         .defaultLimiter(AdaptiveLimiter.builder("grpc").algorithm(LimitAlgorithm.vegas(20, 5, 200)).build())
 *         .service("shop.Search", AdaptiveLimiter.builder("search").algorithm(LimitAlgorithm.vegas(10, 2, 100)).build())
 *         .build();
 * server = NettyServerBuilder.forPort(8443)
 *         .addService(ServerInterceptors.intercept(shop, ResilienceServerInterceptor.create(), limits)) // limits first
 *         .build().start();
 * }</pre>
 *
 * <p><b>Groups.</b> Each call is counted against one limiter, found in this order: the
 * {@linkplain Builder#classifier classifier}'s answer if it gives one, else the limiter of the
 * call's full method name ({@link Builder#method}, e.g. {@code shop.Search/Find}), else that of its
 * service ({@link Builder#service}, e.g. {@code shop.Search}), else the
 * {@linkplain Builder#defaultLimiter default}; with none of these the call is not limited. The
 * limiters are the user's, built up front: one instance per group, whose
 * {@link AdaptiveLimiter#limit()} and {@link AdaptiveLimiter#inFlight()} are the group's state. Only
 * unary calls are limited (as concurrency-limits does): a stream's lifetime is not a round trip,
 * and holding a slot for it would starve the unary calls; streaming calls pass through.
 *
 * <p><b>Deadlines first.</b> A call whose deadline has already passed when it reaches this
 * interceptor (it waited in the server's executor queue longer than its caller would wait) is
 * closed with {@code DEADLINE_EXCEEDED}, or {@code CANCELLED} if gRPC already cancelled it, without
 * a limiter slot and without starting the handler. The deadline is the one grpc-java read from the
 * {@code grpc-timeout} header into the call's {@code io.grpc.Context}; this interceptor reads no
 * header. Its place relative to {@link ResilienceServerInterceptor} does not matter for this, but
 * outermost is cheapest: a rejected call then gets no context at all.
 * {@code ServerInterceptors.intercept(service, a, b)} runs {@code b} first, so list it last, as
 * above.
 *
 * <p><b>What the limiter learns.</b> The permit is taken before the handler starts and ends
 * exactly once: when the call is closed (the round trip, on the limiter's ticker, from the start to
 * {@code close}; the sample is taken before the close is passed on, so the limiter has it before the
 * client has its answer), when the handler's {@code startCall} or a listener callback throws (the exception
 * goes to {@link Permit#onFailure}: a timeout or refusal is a drop, anything else no sample), or
 * when the call is cancelled (no sample: the client left, or its deadline passed). A call closed
 * with one of {@link Builder#dropOn} (default {@code DEADLINE_EXCEEDED}, {@code UNAVAILABLE},
 * {@code RESOURCE_EXHAUSTED}: what a handler answers when a dependency timed out or refused it) is
 * a drop (the limit goes down); any other status is a latency sample.
 *
 * <p><b>The client's own deadline teaches the limiter nothing.</b> The deadline on the call's
 * {@code io.grpc.Context} when this interceptor runs is taken as the client's ({@code grpc-timeout}):
 * install this interceptor outermost, before any interceptor that sets a deadline of the server's
 * own. A call closed with a drop status after that deadline passed, a call cancelled at it, and a
 * handler that threw after it passed or with an exception that says the deadline made it fail (the
 * context's {@link DeadlineExceededException}, or a {@link RequestNotPermittedException} because a
 * wait would pass the deadline) give the permit back without a sample (concurrency-limits'
 * interceptor likewise ignores {@code DEADLINE_EXCEEDED}); all of this only for a call whose client
 * sent a deadline that binds it: without one, or with one that a {@link ResilienceServerInterceptor}
 * inside this interceptor cut to its {@linkplain ResilienceServerInterceptor.Builder#maxTimeout
 * maximum}, the deadline is the server's own, and these count as drops. The
 * round trips of the calls that complete still show a queue building up. This keeps a client from pushing the limit down with
 * very short deadlines through these paths, not through all: a handler that answers a refusal
 * caused by the short deadline with {@code RESOURCE_EXHAUSTED} or {@code UNAVAILABLE} before the
 * deadline passed still counts as a drop. A status that is not a drop after the deadline passed
 * is a latency sample, as before.
 *
 * <p><b>Rejections.</b> {@code RESOURCE_EXHAUSTED} ("server concurrency limit reached"), as the
 * toolkit maps every local limit ({@link GrpcStatuses#toStatus}); concurrency-limits answers
 * {@code UNAVAILABLE} by default, which clients read as "the server is down" (a breaker may open).
 * The trailer {@code grpc-retry-pushback-ms} carries {@link Builder#retryAfter} in milliseconds
 * (default 1000): gRPC's retry design (A6) has clients with a retry policy wait that long before
 * retrying. gRPC has no {@code Retry-After}.
 *
 * <p><b>Cost.</b> Per limited call: the permit (one small object), a forwarding call, a
 * forwarding listener and, for a call with a client deadline, a gRPC context that carries the call
 * to a {@link ResilienceServerInterceptor} inside while the call starts; no lock. A rejection allocates only its trailers (gRPC's {@link Metadata}
 * is mutable, so it cannot be shared). The classifier, if any, is user code called once per call:
 * if it throws, the call fails as it would in any interceptor that throws (no permit was taken);
 * null means "no opinion".
 */
public final class AdaptiveLimitServerInterceptor implements ServerInterceptor {

    /** The trailer that tells a client with a retry policy how long to wait before retrying (gRPC A6). */
    public static final Metadata.Key<String> RETRY_PUSHBACK =
            Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

    /** The status of a call rejected over the limit. */
    private static final Status REJECTED = Status.RESOURCE_EXHAUSTED.withDescription("server concurrency limit reached");
    private static final Status EXPIRED = Status.DEADLINE_EXCEEDED
            .withDescription("deadline passed before the call could start");
    private static final Status CANCELLED = Status.CANCELLED.withDescription("cancelled before the call could start");
    /** The listener of a call closed here: it has nothing to hear. */
    private static final ServerCall.Listener<Object> NOOP = new ServerCall.Listener<>() { };
    /** What a drop is reported as: a timeout, which every limiter counts as a drop. Shared, never thrown. */
    private static final TimeoutException DROP = new TimeoutException("dropped (status or deadline)");
    /**
     * The limited call whose interceptors and handler are starting, in the gRPC context attached
     * while they start, so that a {@link ResilienceServerInterceptor} inside can say that its maximum
     * cut the client's deadline ({@link #clientDeadlineCut()}). A context, not a thread-local: it
     * belongs to this call, and a call another server starts on the same thread (in-process, on a
     * direct executor) starts from a context of its own.
     */
    private static final io.grpc.Context.Key<LimitedCall<?, ?>> STARTING = io.grpc.Context.key("dev.resilience.grpc.limited-call");

    private final BiFunction<? super MethodDescriptor<?, ?>, ? super Metadata, ? extends AdaptiveLimiter> classifier;
    /** By full method name and by service name (the two cannot collide: only a method name has a '/'). */
    private final Map<String, AdaptiveLimiter> byName;
    private final AdaptiveLimiter defaultLimiter;
    private final long retryAfterMillis;
    private final String pushback;
    /** Whether a status code counts as a drop, by {@link Status.Code#value()}. */
    private final boolean[] drops;

    private AdaptiveLimitServerInterceptor(Builder b) {
        this.classifier = b.classifier;
        this.byName = new HashMap<>(b.byName);
        this.defaultLimiter = b.defaultLimiter;
        this.retryAfterMillis = b.retryAfterMillis < 0 ? 1000 : b.retryAfterMillis;
        this.pushback = Long.toString(retryAfterMillis);
        Set<Status.Code> dropOn = b.dropOn == null
                ? EnumSet.of(Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED)
                : b.dropOn;
        int max = 0;
        for (Status.Code c : Status.Code.values()) {
            max = Math.max(max, c.value());
        }
        this.drops = new boolean[max + 1];
        for (Status.Code c : dropOn) {
            drops[c.value()] = true;
        }
    }

    /**
     * Starts building an interceptor; at least one of a default limiter, a method, a service or a
     * classifier must be set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the call under a permit of its limiter, or closes it at once; see the class comment.
     *
     * @return the handler's listener, wrapped so the permit ends with the call; a listener that
     *     does nothing for a call closed here
     */
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
            ServerCallHandler<ReqT, RespT> next) {
        MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
        if (method.getType() != MethodDescriptor.MethodType.UNARY) {
            return next.startCall(call, headers);
        }
        AdaptiveLimiter limiter = limiterFor(method, headers);
        if (limiter == null) {
            return next.startCall(call, headers);
        }
        io.grpc.Context grpc = io.grpc.Context.current();
        Deadline deadline = grpc.getDeadline();
        if (grpc.isCancelled() || (deadline != null && deadline.isExpired())) {
            call.close(deadline != null && deadline.isExpired() ? EXPIRED : CANCELLED, new Metadata());
            return noop();
        }
        Permit permit = limiter.tryAcquire();
        if (!permit.isPermitted()) {
            Metadata trailers = new Metadata();
            trailers.put(RETRY_PUSHBACK, pushback);
            call.close(REJECTED, trailers);
            return noop();
        }
        LimitedCall<ReqT, RespT> limited = new LimitedCall<>(call, permit, drops, deadline, STARTING.get(grpc));
        ServerCall.Listener<ReqT> listener;
        // Only a client deadline can be cut: without one, no context carries the call inward.
        io.grpc.Context starting = deadline == null ? grpc : grpc.withValue(STARTING, limited);
        io.grpc.Context previous = starting.attach();
        try {
            listener = next.startCall(limited, headers);
        } catch (Throwable e) {
            fail(permit, e, limited.deadline);
            throw e;
        } finally {
            starting.detach(previous);
        }
        if (listener == null) { // grpc-java fails the call
            permit.release();
            return null;
        }
        return new LimitedListener<>(listener, permit, limited.deadline);
    }

    /**
     * Tells the limited call being started, if any (and the limited calls of interceptors of this
     * kind around it), that the server's own maximum cut its client's deadline: the deadline that
     * binds is then the server's, and a failure it causes is a drop. Called by
     * {@link ResilienceServerInterceptor} while it starts the call, inside this interceptor.
     */
    static void clientDeadlineCut() {
        for (LimitedCall<?, ?> c = STARTING.get(); c != null; c = c.outer) { // every limit around it
            c.deadline = null;
        }
    }

    /**
     * Ends a permit whose handler threw {@code e}: no sample if the client's deadline binds the call
     * ({@code deadline} not null) and it has passed or the exception says a deadline made it fail,
     * else {@link Permit#onFailure} (a timeout or refusal is a drop, anything else no sample).
     * Without a client deadline, or with one the server's maximum cut, a deadline that made the call
     * fail is the server's own, so it is a drop, as the servlet filter decides.
     */
    static void fail(Permit permit, Throwable e, Deadline deadline) {
        if (deadline != null && (deadline.isExpired() || AdaptiveLimiter.failedByDeadline(e))) {
            permit.release(); // the client's own deadline: no sample
        } else {
            permit.onFailure(e);
        }
    }

    @SuppressWarnings("unchecked") // it ignores every message: any type will do
    private static <ReqT> ServerCall.Listener<ReqT> noop() {
        return (ServerCall.Listener<ReqT>) NOOP;
    }

    /** The call's limiter, or null if it is not limited. */
    private AdaptiveLimiter limiterFor(MethodDescriptor<?, ?> method, Metadata headers) {
        if (classifier != null) {
            AdaptiveLimiter l = classifier.apply(method, headers);
            if (l != null) {
                return l;
            }
        }
        if (!byName.isEmpty()) {
            AdaptiveLimiter l = byName.get(method.getFullMethodName());
            if (l != null) {
                return l;
            }
            String service = method.getServiceName();
            if (service != null) {
                l = byName.get(service);
                if (l != null) {
                    return l;
                }
            }
        }
        return defaultLimiter;
    }

    /** The {@code grpc-retry-pushback-ms} of a rejection. */
    public Duration retryAfter() {
        return Duration.ofMillis(retryAfterMillis);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AdaptiveLimitServerInterceptor[");
        byName.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(e.getKey()).append("->").append(e.getValue().name()).append(", "));
        return sb.append("default=").append(defaultLimiter == null ? "none" : defaultLimiter.name())
                .append(classifier == null ? "" : ", classifier")
                .append(", retryAfter=").append(retryAfterMillis).append("ms]").toString();
    }

    /** Ends the permit with the call's status when the handler closes it. */
    private static final class LimitedCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {
        private final Permit permit;
        private final boolean[] drops;
        /**
         * The client's deadline, or null (none, or cut by the server's maximum: set while the call
         * starts, before its handler runs).
         */
        volatile Deadline deadline;
        /** The limited call of an interceptor of this kind around this one, or null. */
        final LimitedCall<?, ?> outer;

        LimitedCall(ServerCall<ReqT, RespT> delegate, Permit permit, boolean[] drops, Deadline deadline,
                LimitedCall<?, ?> outer) {
            super(delegate);
            this.permit = permit;
            this.drops = drops;
            this.deadline = deadline;
            this.outer = outer;
        }

        /**
         * Ends the permit, then closes: the limiter has its sample before the client has its answer
         * (and a close that throws, on a call already closed, has ended the permit all the same).
         */
        @Override
        public void close(Status status, Metadata trailers) {
            int code = status == null ? -1 : status.getCode().value();
            if (code >= 0 && code < drops.length && drops[code]) {
                fail(permit, DROP, deadline); // a drop, unless the client's own deadline passed
            } else {
                permit.onSuccess();
            }
            super.close(status, trailers);
        }
    }

    /** Ends the permit when a callback throws, the call is cancelled, or (at the latest) completes. */
    private static final class LimitedListener<ReqT> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {
        private final Permit permit;
        /** The client's deadline, or null. */
        private final Deadline deadline;

        LimitedListener(ServerCall.Listener<ReqT> delegate, Permit permit, Deadline deadline) {
            super(delegate);
            this.permit = permit;
            this.deadline = deadline;
        }

        @Override
        public void onMessage(ReqT message) {
            try {
                super.onMessage(message);
            } catch (Throwable e) {
                fail(permit, e, deadline); // grpc-java closes the call itself, not through LimitedCall
                throw e;
            }
        }

        @Override
        public void onHalfClose() {
            try {
                super.onHalfClose();
            } catch (Throwable e) {
                fail(permit, e, deadline);
                throw e;
            }
        }

        @Override
        public void onReady() {
            try {
                super.onReady();
            } catch (Throwable e) {
                fail(permit, e, deadline);
                throw e;
            }
        }

        @Override
        public void onCancel() {
            try {
                super.onCancel();
            } finally {
                permit.release(); // the client left, or its deadline passed: no sample either way
            }
        }

        @Override
        public void onComplete() {
            try {
                super.onComplete();
            } finally {
                permit.release(); // no-op after close ended it; a safety net otherwise
            }
        }
    }

    /** Builds an {@link AdaptiveLimitServerInterceptor}; settings are checked when set, each may be set once. */
    public static final class Builder {
        private BiFunction<? super MethodDescriptor<?, ?>, ? super Metadata, ? extends AdaptiveLimiter> classifier;
        private final Map<String, AdaptiveLimiter> byName = new HashMap<>();
        private AdaptiveLimiter defaultLimiter;
        private long retryAfterMillis = -1;
        private Set<Status.Code> dropOn;

        private Builder() {
        }

        /**
         * The limiter of every unary call that no classifier answer, method or service claims.
         * Default: none (such calls are not limited).
         *
         * @param limiter the limiter
         * @return this builder
         * @throws NullPointerException if {@code limiter} is null
         * @throws IllegalStateException if already set
         */
        public Builder defaultLimiter(AdaptiveLimiter limiter) {
            once(defaultLimiter == null, "defaultLimiter");
            this.defaultLimiter = Objects.requireNonNull(limiter, "limiter");
            return this;
        }

        /**
         * The calls of every method of {@code serviceName} (e.g. {@code shop.Search}) go to
         * {@code limiter}, unless the method has a limiter of its own. Services and methods may
         * share a limiter (one group).
         *
         * @param serviceName the fully qualified service name
         * @param limiter the group's limiter
         * @return this builder
         * @throws NullPointerException if an argument is null
         * @throws IllegalArgumentException if {@code serviceName} is empty, contains {@code /}, or
         *     has a limiter already
         */
        public Builder service(String serviceName, AdaptiveLimiter limiter) {
            Objects.requireNonNull(serviceName, "serviceName");
            if (serviceName.isEmpty() || serviceName.indexOf('/') >= 0) {
                throw new IllegalArgumentException("serviceName must be a service's full name, without '/': '"
                        + serviceName + "'");
            }
            return put(serviceName, limiter, "serviceName");
        }

        /**
         * The calls of the method {@code fullMethodName} (e.g. {@code shop.Search/Find}, as
         * {@link MethodDescriptor#getFullMethodName()} gives it) go to {@code limiter}.
         *
         * @param fullMethodName {@code <service>/<method>}
         * @param limiter the group's limiter
         * @return this builder
         * @throws NullPointerException if an argument is null
         * @throws IllegalArgumentException if {@code fullMethodName} is not {@code <service>/<method>},
         *     or has a limiter already
         */
        public Builder method(String fullMethodName, AdaptiveLimiter limiter) {
            Objects.requireNonNull(fullMethodName, "fullMethodName");
            int slash = fullMethodName.indexOf('/');
            if (slash <= 0 || slash == fullMethodName.length() - 1 || fullMethodName.indexOf('/', slash + 1) >= 0) {
                throw new IllegalArgumentException("fullMethodName must be <service>/<method>: '" + fullMethodName + "'");
            }
            return put(fullMethodName, limiter, "fullMethodName");
        }

        private Builder put(String name, AdaptiveLimiter limiter, String what) {
            Objects.requireNonNull(limiter, "limiter");
            if (byName.containsKey(name)) {
                throw new IllegalArgumentException(what + " has a limiter already: '" + name + "'");
            }
            byName.put(name, limiter);
            return this;
        }

        /**
         * A function that picks a call's limiter from its method and headers (for example by a
         * tenant header), asked first: null means "no opinion" (methods, services, then the default
         * decide). It is called on every unary call: keep it fast, and return limiters built up
         * front, not a new one per call.
         *
         * @param classifier the function
         * @return this builder
         * @throws NullPointerException if {@code classifier} is null
         * @throws IllegalStateException if already set
         */
        public Builder classifier(
                BiFunction<? super MethodDescriptor<?, ?>, ? super Metadata, ? extends AdaptiveLimiter> classifier) {
            once(this.classifier == null, "classifier");
            this.classifier = Objects.requireNonNull(classifier, "classifier");
            return this;
        }

        /**
         * How long a rejected client should wait before retrying, sent as the trailer
         * {@code grpc-retry-pushback-ms} in whole milliseconds (rounded up); default 1 s.
         *
         * @param retryAfter the delay
         * @return this builder
         * @throws NullPointerException if {@code retryAfter} is null
         * @throws IllegalArgumentException if it is zero or negative, or more than a day
         * @throws IllegalStateException if already set
         */
        public Builder retryAfter(Duration retryAfter) {
            once(this.retryAfterMillis < 0, "retryAfter");
            Objects.requireNonNull(retryAfter, "retryAfter");
            if (retryAfter.isNegative() || retryAfter.isZero() || retryAfter.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("retryAfter must be positive and at most a day: " + retryAfter);
            }
            long millis = retryAfter.toMillis();
            this.retryAfterMillis = Duration.ofMillis(millis).equals(retryAfter) ? millis : millis + 1;
            return this;
        }

        /**
         * The status codes that count as a drop (overload: the limit goes down) when the handler
         * closes a call with one; default {@code DEADLINE_EXCEEDED}, {@code UNAVAILABLE},
         * {@code RESOURCE_EXHAUSTED}. Any other status is a latency sample.
         *
         * @param codes the codes (copied; may be empty: only a cancellation past the deadline and
         *     exceptions the limiter counts as drops lower the limit)
         * @return this builder
         * @throws NullPointerException if {@code codes} or one of them is null
         * @throws IllegalStateException if already set
         */
        public Builder dropOn(Set<Status.Code> codes) {
            once(this.dropOn == null, "dropOn");
            Objects.requireNonNull(codes, "codes");
            EnumSet<Status.Code> copy = EnumSet.noneOf(Status.Code.class);
            for (Status.Code c : codes) {
                copy.add(Objects.requireNonNull(c, "codes contains null"));
            }
            this.dropOn = copy;
            return this;
        }

        /**
         * Builds the interceptor.
         *
         * @return the interceptor
         * @throws IllegalStateException if no default limiter, method, service or classifier was set
         *     (it would limit nothing)
         */
        public AdaptiveLimitServerInterceptor build() {
            if (defaultLimiter == null && byName.isEmpty() && classifier == null) {
                throw new IllegalStateException(
                        "nothing to limit: set a defaultLimiter, a method, a service or a classifier");
            }
            return new AdaptiveLimitServerInterceptor(this);
        }

        private static void once(boolean unset, String what) {
            if (!unset) {
                throw new IllegalStateException(what + " was already set");
            }
        }
    }
}
