package dev.resilience.grpc;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Deadline;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * A unary call run through a policy. The application's one request message is kept until
 * {@code halfClose}; then the policy runs, and each attempt it makes ({@link #get()}) is a fresh
 * call on the channel below, under the context the policy gives it. The first outcome (the policy's
 * result, the application's {@code cancel}, or the end of the run's context) is the only one the
 * application's listener hears, exactly once: headers, the message (once requested), the close.
 *
 * <p>The run has a context of its own, a child of the caller's with the call's effective deadline
 * (the earliest of ours, the call options' and {@code io.grpc.Context}'s). Cancelling it is how the
 * call ends everything in flight: attempts (each hooked to its own context, a descendant of the
 * run's) cancel their calls, and the policy's waits (backoff, a limiter's wait) end.
 *
 * <p>No locks: the outcome is claimed by one compare-and-set, its delivery by another.
 */
final class GuardedCall<ReqT, RespT> extends ClientCall<ReqT, RespT>
        implements Supplier<CompletionStage<Object>>, BiConsumer<Object, Throwable>, Runnable {

    /** grpc-java's header for the number of earlier attempts of a retried call. */
    static final Metadata.Key<String> PREVIOUS_ATTEMPTS =
            Metadata.Key.of("grpc-previous-rpc-attempts", Metadata.ASCII_STRING_MARSHALLER);

    private static final VarHandle OUTCOME;
    private static final VarHandle DELIVERED;
    private static final VarHandle ATTEMPTS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            OUTCOME = l.findVarHandle(GuardedCall.class, "outcome", Outcome.class);
            DELIVERED = l.findVarHandle(GuardedCall.class, "delivered", int.class);
            ATTEMPTS = l.findVarHandle(GuardedCall.class, "attempts", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ResilienceClientInterceptor.Guard guard;
    private final MethodDescriptor<ReqT, RespT> method;
    /** The application's options without their executor, their deadline already no later than ours. */
    private final CallOptions options;
    /** The deadline of the application's own options, before ours was put on them; or null. */
    private final io.grpc.Deadline ownDeadline;
    private final Channel next;
    private final Context ours;
    /** The application's io.grpc.Context: every attempt's call is made under it. */
    private final io.grpc.Context grpc;
    private final Executor executor;

    // The application's side: ClientCall methods other than request() are not called concurrently.
    private volatile Listener<RespT> listener;
    private Metadata headers;
    private ReqT request;
    private boolean hasRequest;
    private boolean halfClosed;
    private Boolean compression;

    // The run: set by halfClose before the policy starts.
    private volatile CancelHandle runHandle;
    private volatile Registration runWatch;
    private volatile ClientCall<ReqT, RespT> lastCall;

    private volatile Outcome outcome;
    private volatile int delivered;
    private volatile boolean requested;
    private volatile int attempts;

    GuardedCall(ResilienceClientInterceptor.Guard guard, MethodDescriptor<ReqT, RespT> method, CallOptions options,
            io.grpc.Deadline ownDeadline, Channel next, Context ours, io.grpc.Context grpc) {
        this.guard = guard;
        this.method = method;
        // Attempts run on the channel's own executor, not the application's: a blocking stub's
        // executor runs tasks only while its caller waits, so a hedge's losing attempt closing after
        // the winner was delivered would never be heard (and its breaker permit never settled).
        // The outcome is still delivered through the application's executor (below).
        this.options = options.getExecutor() == null ? options : options.withExecutor(null);
        this.ownDeadline = ownDeadline;
        this.next = next;
        this.ours = ours;
        this.grpc = grpc;
        this.executor = options.getExecutor();
    }

    // ---------------------------------------------------------------- the application's call

    @Override
    public void start(Listener<RespT> responseListener, Metadata headers) {
        Objects.requireNonNull(responseListener, "responseListener");
        Objects.requireNonNull(headers, "headers");
        if (listener != null) {
            throw new IllegalStateException("Already started");
        }
        this.headers = headers;
        this.listener = responseListener;
        tryDeliver(); // cancelled before start
    }

    @Override
    public void request(int numMessages) {
        if (numMessages < 0) {
            throw new IllegalArgumentException("numMessages must not be negative: " + numMessages);
        }
        if (numMessages > 0 && !requested) {
            requested = true;
            tryDeliver();
        }
    }

    @Override
    public void sendMessage(ReqT message) {
        checkStarted();
        if (halfClosed) {
            throw new IllegalStateException("call was half-closed");
        }
        if (outcome != null) {
            return; // cancelled or failed already: nothing will be sent
        }
        if (hasRequest) {
            finish(failure(Status.INTERNAL.withDescription(
                    "a unary call sends one request message; " + method.getFullMethodName() + " was sent more")));
            return;
        }
        request = message;
        hasRequest = true;
    }

    @Override
    public void halfClose() {
        checkStarted();
        if (halfClosed) {
            throw new IllegalStateException("call already half-closed");
        }
        halfClosed = true;
        if (outcome != null) {
            return;
        }
        if (!hasRequest) {
            finish(failure(Status.INTERNAL.withDescription(
                    "a unary call sends one request message; " + method.getFullMethodName() + " was sent none")));
            return;
        }
        begin();
    }

    @Override
    public void cancel(String message, Throwable cause) {
        Status status = Status.CANCELLED;
        if (message != null) {
            status = status.withDescription(message);
        }
        if (cause != null) {
            status = status.withCause(cause);
        }
        Outcome cancelled = failure(status);
        if (!finish(cancelled)) {
            // An outcome may be waiting for request(): the cancel wins, as on grpc-java's own calls.
            Listener<RespT> l = listener;
            if (l != null && DELIVERED.compareAndSet(this, 0, 1)) {
                dispatch(l, cancelled);
            }
        }
    }

    @Override
    public boolean isReady() {
        return outcome == null;
    }

    @Override
    public void setMessageCompression(boolean enabled) {
        compression = enabled;
    }

    @Override
    public Attributes getAttributes() {
        ClientCall<ReqT, RespT> c = lastCall;
        return c == null ? Attributes.EMPTY : c.getAttributes();
    }

    private void checkStarted() {
        if (listener == null) {
            throw new IllegalStateException("Not started");
        }
    }

    // ---------------------------------------------------------------- the run

    /** Starts the policy under the run's context. */
    private void begin() {
        CancelHandle r = newRun();
        if (grpc != io.grpc.Context.ROOT) {
            // the application's io.grpc.Context (a handler's, whose client left) ends the run too, not
            // only its deadline: otherwise every attempt would fail CANCELLED at once and be retried
            GrpcContexts.FromGrpc link = GrpcContexts.follow(grpc, r);
            r.context().onDone(link::release, GrpcContexts.DIRECT);
        }
        Context runContext = r.context();
        runHandle = r;
        Registration watch = runContext.onDone(this, GrpcContexts.DIRECT); // this.run(): the run ended first
        runWatch = watch;
        if (outcome != null) { // ours was done already (the watch fired at once), or a cancel raced in
            watch.remove();
            r.cancel(); // finish() may have run before runHandle was set: end the run here either way
            return;
        }
        CompletionStage<Object> stage;
        try (Scope s = runContext.attach()) {
            stage = guard.callAsync(this);
        } catch (Throwable t) { // a policy must not throw; the call completes all the same
            finish(failure(t));
            return;
        }
        if (stage == null) {
            finish(failure(Status.INTERNAL.withDescription("the policy returned no stage")));
            return;
        }
        try {
            stage.whenComplete(this);
        } catch (Throwable t) {
            finish(failure(t));
        }
    }

    /**
     * A child of ours with the call's effective deadline. Ours is on the options already; a deadline
     * of the application's own options or of its {@code io.grpc.Context} that is earlier becomes the
     * child's own, so the policy's waits (a retry's backoff) respect it too. Only those two are
     * compared with ours: the options' deadline, made from ours, would tie with it by chance and
     * give every call a needless timer.
     */
    private CancelHandle newRun() {
        io.grpc.Deadline d = ownDeadline;
        io.grpc.Deadline g = grpc.getDeadline();
        if (g != null && (d == null || g.isBefore(d))) {
            d = g;
        }
        if (d == null) {
            return ours.withCancel();
        }
        long oursRemaining = ours.remainingNanos();
        long now = System.nanoTime();
        long remaining = d.timeRemaining(TimeUnit.NANOSECONDS);
        if (remaining >= oursRemaining) {
            return ours.withCancel();
        }
        // a passed deadline is due now, as in GrpcContexts.derive (one far in the past on a test
        // ticker of gRPC's would otherwise lie beyond what a Deadline takes)
        return ours.withDeadline(Deadline.at(now + Math.max(0L, remaining), Ticker.system()));
    }

    /** The run's context ended before the policy did: the call fails with the context's status. */
    @Override
    public void run() {
        CancelHandle r = runHandle;
        ContextDoneException e = r == null ? null : r.context().err();
        finish(failure(e != null ? GrpcStatuses.toStatus(e) : Status.CANCELLED.withDescription("call ended")));
    }

    /** One attempt: a fresh call below, under the context current now (the policy's choice). */
    @Override
    public CompletionStage<Object> get() {
        if (outcome != null) { // a retry scheduled before the call ended
            return CompletableFuture.failedFuture(
                    new StatusRuntimeException(Status.CANCELLED.withDescription("the call has ended")));
        }
        CancelHandle r = runHandle;
        Context attemptContext = Context.current();
        if (attemptContext == Context.background()) {
            attemptContext = r.context(); // a policy that hopped threads without the context: the run's
        }
        if (attemptContext.isDone()) {
            return CompletableFuture.failedFuture(attemptContext.err());
        }
        // the options carry the earliest deadline but io.grpc.Context's, which grpc-java applies itself
        CallOptions attemptOptions = attemptContext == r.context() ? options
                : ResilienceClientInterceptor.withDeadlineOf(options, attemptContext);
        ClientCall<ReqT, RespT> call;
        io.grpc.Context previous = grpc.attach();
        try {
            call = next.newCall(method, attemptOptions);
        } catch (Throwable t) {
            return CompletableFuture.failedFuture(t);
        } finally {
            grpc.detach(previous);
        }
        lastCall = call;
        Attempt<RespT> attempt = new Attempt<>(this, attemptContext, call);
        Metadata attemptHeaders = new Metadata();
        attemptHeaders.merge(headers); // each attempt its own copy: the transport writes into it
        int earlier = (int) ATTEMPTS.getAndAdd(this, 1);
        if (earlier > 0) {
            attemptHeaders.put(PREVIOUS_ATTEMPTS, Integer.toString(earlier));
        }
        try {
            call.start(attempt, attemptHeaders);
            call.request(2); // two, so that a second response is noticed, as grpc-java's stubs do
            if (compression != null) {
                call.setMessageCompression(compression);
            }
            call.sendMessage(request);
            call.halfClose();
        } catch (Throwable t) { // a marshaller or a call below threw: this attempt fails with it
            try {
                call.cancel("the attempt failed to start", t);
            } catch (Throwable ignored) {
                // the call is unusable either way
            }
            attempt.future.completeExceptionally(t);
            return attempt.future;
        }
        attempt.watch(); // only now: the call may be cancelled from another thread from here on
        return attempt.future;
    }

    /** The policy's outcome. */
    @Override
    public void accept(Object value, Throwable error) {
        if (error != null) {
            finish(failure(error));
        } else if (value instanceof Attempt) {
            Attempt<?> a = (Attempt<?>) value;
            finish(new Outcome(Status.OK, a.headers, a.message, a.trailers));
        } else {
            finish(failure(Status.INTERNAL.withDescription("the policy completed the call with "
                    + (value == null ? "no response" : "a value that is not its response: " + value.getClass().getName()))));
        }
    }

    // ---------------------------------------------------------------- the outcome

    /** Claims the outcome; returns false if there was one already. Ends everything in flight. */
    private boolean finish(Outcome o) {
        if (!OUTCOME.compareAndSet(this, null, o)) {
            return false;
        }
        Registration watch = runWatch;
        if (watch != null) {
            watch.remove();
        }
        CancelHandle r = runHandle;
        if (r != null) {
            r.cancel(); // attempts still in flight (a hedge, the one the application cancelled) end
        }
        tryDeliver();
        return true;
    }

    /** Delivers the outcome once the listener is there and, for a response, one was requested. */
    private void tryDeliver() {
        Outcome o = outcome;
        if (o == null) {
            return;
        }
        Listener<RespT> l = listener;
        if (l == null || o.message != null && !requested) {
            return;
        }
        if (DELIVERED.compareAndSet(this, 0, 1)) {
            dispatch(l, o);
        }
    }

    /**
     * On the call's executor (a blocking stub's waits for it there: it wakes only for a task run
     * through it), or without an executor, on this thread. Attempts' callbacks run on the channel's
     * executor, never the application's, so there is always a hop when the application named one.
     */
    private void dispatch(Listener<RespT> l, Outcome o) {
        if (executor == null) {
            deliver(l, o);
        } else {
            Delivery.run(executor, () -> deliver(l, o));
        }
    }

    @SuppressWarnings("unchecked")
    private void deliver(Listener<RespT> l, Outcome o) {
        Delivery.deliver(l, o.headers, (RespT) o.message, o.status, o.trailers);
    }

    private static Outcome failure(Status status) {
        return new Outcome(status, null, null, new Metadata());
    }

    private static Outcome failure(Throwable error) {
        Throwable t = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        Metadata trailers = null;
        if (t instanceof StatusRuntimeException) {
            trailers = ((StatusRuntimeException) t).getTrailers();
        } else if (t instanceof StatusException) {
            trailers = ((StatusException) t).getTrailers();
        }
        return new Outcome(GrpcStatuses.toStatus(t), null, null, trailers == null ? new Metadata() : trailers);
    }

    /** What the application's listener is told. */
    private static final class Outcome {
        final Status status;
        final Metadata headers;
        final Object message;
        final Metadata trailers;

        Outcome(Status status, Metadata headers, Object message, Metadata trailers) {
            this.status = status;
            this.headers = headers;
            this.message = message;
            this.trailers = trailers;
        }
    }

    /**
     * One attempt's call: its listener, its outcome as a stage (completed with itself on success, a
     * {@link StatusRuntimeException} on failure, the context's exception if the attempt's context
     * ended it), and its hook into the attempt's context, which cancels the call when the context
     * ends.
     */
    static final class Attempt<RespT> extends Listener<RespT> implements Runnable {
        private final GuardedCall<?, RespT> owner;
        private final Context context;
        private final ClientCall<?, RespT> call;
        final CompletableFuture<Object> future = new CompletableFuture<>();
        // written by the call's serialized callbacks, read after the future completes
        Metadata headers;
        RespT message;
        Metadata trailers;
        private boolean extra;
        private volatile Registration watch;
        private volatile boolean closed;
        private volatile ContextDoneException cancelledFor;

        Attempt(GuardedCall<?, RespT> owner, Context context, ClientCall<?, RespT> call) {
            this.owner = owner;
            this.context = context;
            this.call = call;
        }

        void watch() {
            Registration w = context.onDone(this, GrpcContexts.DIRECT); // fires at once if done already
            watch = w;
            if (closed) {
                w.remove();
            }
        }

        /** The attempt's context ended: cancel its call. */
        @Override
        public void run() {
            ContextDoneException e = context.err();
            cancelledFor = e;
            call.cancel(e instanceof DeadlineExceededException ? "context deadline exceeded" : "context cancelled", e);
        }

        @Override
        public void onHeaders(Metadata h) {
            headers = h;
        }

        @Override
        public void onMessage(RespT m) {
            if (message == null && !extra) {
                message = m;
            } else if (!extra) {
                extra = true;
                call.cancel("More than one value received for unary call", null);
            }
        }

        @Override
        public void onClose(Status status, Metadata t) {
            closed = true;
            Registration w = watch;
            if (w != null) {
                w.remove();
            }
            ContextDoneException why = cancelledFor;
            if (why != null && status.getCode() == Status.Code.CANCELLED) {
                // we cancelled it: the attempt fails with the context's exception, as any task of
                // the toolkit does (a breaker excludes a cancellation, a retry does not retry it)
                future.completeExceptionally(why);
            } else if (extra) {
                future.completeExceptionally(new StatusRuntimeException(
                        Status.INTERNAL.withDescription("More than one value received for unary call"), t));
            } else if (!status.isOk()) {
                future.completeExceptionally(new StatusRuntimeException(status, t));
            } else if (message == null) {
                future.completeExceptionally(new StatusRuntimeException(
                        Status.INTERNAL.withDescription("No value received for unary call"), t));
            } else {
                trailers = t;
                future.complete(this);
            }
        }
    }
}
