package dev.resilience.http.apache;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Registration;
import dev.resilience.http.HttpPolicy;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.apache.hc.client5.http.async.AsyncExecCallback;
import org.apache.hc.client5.http.async.AsyncExecChain;
import org.apache.hc.client5.http.async.AsyncExecRuntime;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncDataConsumer;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.support.BasicRequestBuilder;

/**
 * One request of the async client through the policy: the policy calls {@link #get()} once per
 * attempt, and {@link #accept} hears its final outcome.
 *
 * <p>The caller's callback gets exactly one response (or one failure), once: a response that will
 * not be retried (a success; a failing one when no retry can follow) goes to it as it arrives, and
 * the exchange is committed to that attempt; a failing response the policy may retry is held back
 * whole (up to {@link Attempts#MAX_BUFFERED_BODY}) and replayed to the callback if the policy ends
 * with it. Each attempt has its own exec runtime and cancellable, so ending one (its context done,
 * the caller's future cancelled) never touches another, and its connection is released or discarded
 * when its exchange ends.
 */
final class AsyncExchange implements Supplier<CompletionStage<AsyncOutcome>>, BiConsumer<AsyncOutcome, Throwable> {

    private static final VarHandle COMMITTED;

    static {
        try {
            COMMITTED = MethodHandles.lookup().findVarHandle(AsyncExchange.class, "committed", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final byte[] NO_BODY = new byte[0];

    /** Asks a held-back body's consumer for nothing: the whole body is handed over at once. */
    private static final CapacityChannel UNLIMITED = increment -> { };

    private final HttpRequest request;
    private final AsyncEntityProducer entity;
    private final AsyncExecChain.Scope scope;
    private final AsyncExecChain chain;
    private final AsyncExecCallback callback;
    private final Context caller;
    private final HttpPolicy policy;
    /** The entity can be produced again (or there is none): the policy may retry the request. */
    private final boolean repeatable;
    /** The policy may retry this request: failing responses are held back. */
    private final boolean mayRetry;

    /** 1 once the callback belongs to one outcome (an attempt's response, a replay, a failure). */
    private volatile int committed;
    /** Attempts started; the policy starts them one after another. */
    private volatile int attempts;
    private volatile Throwable previousFailure;
    /** The client context's own request configuration (null: the client's default), restored at the end. */
    private final RequestConfig savedConfig;
    private volatile boolean configBounded;

    AsyncExchange(HttpRequest request, AsyncEntityProducer entity, AsyncExecChain.Scope scope, AsyncExecChain chain,
            AsyncExecCallback callback, HttpPolicy policy) {
        this.request = request;
        this.entity = entity;
        this.scope = scope;
        this.chain = chain;
        this.callback = callback;
        this.caller = Context.current();
        this.policy = policy;
        this.repeatable = entity == null || entity.isRepeatable();
        String method = request.getMethod();
        // a retry added with HttpPolicy.Builder.add counts too; a null method fails in start(), to the callback
        this.mayRetry = repeatable && method != null && policy.mayRetry(method);
        this.savedConfig = scope.clientContext.getRequestConfig();
    }

    void start() {
        try {
            policy.executeAsync(request.getMethod(), repeatable, this, AsyncOutcome.RESPONSES).whenComplete(this);
        } catch (Throwable e) { // the callback must hear of it, whatever a policy threw (an Error, a checked one past the signature)
            if (commit()) {
                callback.failed(asException(e));
            }
        }
    }

    /** Starts one attempt under the current (the attempt's) context. */
    @Override
    public CompletionStage<AsyncOutcome> get() {
        Context ctx = Context.current();
        int n = attempts + 1;
        attempts = n;
        if (committed != 0) { // a response went to the callback: only a policy not asking HttpPolicy gets here
            return CompletableFuture.failedFuture(new Attempts.Stop(new CancellationException("another attempt answered")));
        }
        if (!repeatable && n > 1) { // only a policy of the user's calls it again: the policy runs it once
            return CompletableFuture.failedFuture(new Attempts.Stop(Attempts.notRepeatable(previousFailure)));
        }
        if (cancelledByCaller()) {
            return CompletableFuture.failedFuture(new Attempts.Stop(new CancellationException("Request execution cancelled")));
        }
        ctx.throwIfDone();
        // Later attempts start from the caller's request: the chain below adds headers to the one it is given.
        HttpRequest attempt = n == 1 ? request : BasicRequestBuilder.copy(scope.originalRequest).build();
        long remaining = ctx.remainingNanos();
        if (remaining != Long.MAX_VALUE) {
            Attempts.propagate(attempt, remaining);
            bound(remaining);
        }
        if (n > 1 && entity != null) {
            entity.releaseResources(); // a repeatable entity starts over
        }
        return new Attempt(ctx, n).start(attempt);
    }

    /** The attempts' request configuration: timeouts cut to the remaining time; the caller's is restored at the end. */
    private void bound(long remaining) {
        RequestConfig base = savedConfig != null ? savedConfig : RequestConfig.DEFAULT;
        RequestConfig config = Attempts.bounded(base, remaining);
        if (config != base || configBounded) {
            scope.clientContext.setRequestConfig(config);
            configBounded = true;
        }
    }

    private void restoreConfig() {
        if (configBounded) {
            scope.clientContext.setRequestConfig(savedConfig);
        }
    }

    private boolean cancelledByCaller() {
        return scope.cancellableDependency != null && scope.cancellableDependency.isCancelled();
    }

    private boolean commit() {
        if (COMMITTED.compareAndSet(this, 0, 1)) {
            restoreConfig();
            return true;
        }
        return false;
    }

    /** The policy's final outcome: replay a held-back response, or report a failure, unless an attempt answered. */
    @Override
    public void accept(AsyncOutcome outcome, Throwable error) {
        if (error != null) {
            Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (e instanceof Attempts.Stop) {
                e = ((Attempts.Stop) e).outcome();
            }
            if (commit()) {
                callback.failed(asException(e));
            }
            return;
        }
        if (outcome.delivered || !commit()) {
            return;
        }
        replay(outcome);
    }

    /** Hands a held-back response to the callback as if it were arriving now. */
    private void replay(AsyncOutcome outcome) {
        try {
            AsyncDataConsumer consumer = callback.handleResponse(outcome.head, outcome.details);
            if (consumer != null && outcome.details != null) {
                consumer.updateCapacity(UNLIMITED);
                if (outcome.length > 0) {
                    consumer.consume(ByteBuffer.wrap(outcome.body, 0, outcome.length));
                }
                consumer.streamEnd(outcome.trailers);
            }
        } catch (Throwable e) { // the user's consumer: an Error or a checked exception past the signature too
            callback.failed(asException(e));
            return;
        }
        callback.completed();
    }

    /** What Apache's callbacks take: an {@code Exception}, an {@code Error} wrapped in an {@code ExecutionException}. */
    static Exception asException(Throwable t) {
        return t instanceof Exception ? (Exception) t : new ExecutionException(t);
    }

    /** Why an attempt that failed with {@code cause} ended, as the policy should see it. */
    private Throwable attemptFailure(Context ctx, Exception cause) {
        previousFailure = cause;
        ContextDoneException done = Attempts.doneException(ctx);
        if (done != null) {
            return done; // the context ended the exchange: its own exception, not the abort's
        }
        if (cancelledByCaller()) {
            return new Attempts.Stop(cause); // the caller stopped: neither retried nor the server's failure
        }
        return cause;
    }

    /** A failure of the exchange after its response went to the callback: the caller's context's, if that ended it. */
    private Exception deliveredFailure(Exception cause) {
        ContextDoneException done = Attempts.doneException(caller);
        return done != null ? done : cause;
    }

    /**
     * One attempt: the exchange's callback and, while a failing response is held back, its body's
     * consumer. The I/O reactor calls it one event at a time; the end of its context may come from
     * any thread, so its state moves by compare-and-set.
     */
    private final class Attempt implements AsyncExecCallback, AsyncDataConsumer, Runnable {
        private static final int LIVE = 0;
        private static final int HOLDING = 1;
        private static final int DELIVERING = 2;
        private static final int DONE = 3;
        private static final int ABANDONED = 4;

        private final Context ctx;
        private final int number;
        private final Operations cancellable = new Operations();
        private final AsyncExecRuntime runtime;
        private final CompletableFuture<AsyncOutcome> stage = new CompletableFuture<>();
        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Attempt.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private volatile int state;
        private volatile Registration onDone;

        // the held-back response; the I/O reactor's thread only
        private HttpResponse head;
        private EntityDetails details;
        private byte[] body;
        private int length;
        private List<? extends Header> trailers;
        /** Where the body goes once it is passed through: the callback's consumer. */
        private AsyncDataConsumer passed;

        Attempt(Context ctx, int number) {
            this.ctx = ctx;
            this.number = number;
            this.runtime = scope.execRuntime.fork();
        }

        CompletionStage<AsyncOutcome> start(HttpRequest attempt) {
            AsyncExecChain.Scope attemptScope = new AsyncExecChain.Scope(scope.exchangeId, scope.route,
                    scope.originalRequest, cancellable, scope.clientContext, runtime, scope.scheduler, scope.execCount);
            CancellableDependency future = scope.cancellableDependency;
            if (future != null) {
                future.setDependency(cancellable); // the caller's future.cancel() reaches it
                if (future.isCancelled()) {
                    // The client's future checks, then sets: a cancel in between would not reach this attempt.
                    cancellable.cancel();
                }
            }
            onDone = ctx.onDone(this, Runnable::run);
            if (state != LIVE) {
                return stage; // the context ended first: run() completed the attempt; nothing leased
            }
            if (cancellable.isCancelled()) {
                // The caller cancelled before this attempt (during a backoff, say): fail it here, before
                // the chain below leases a connection only to cancel it.
                failed(new CancellationException("the request was cancelled before this attempt"));
                return stage;
            }
            try {
                chain.proceed(attempt, entity, attemptScope, this);
            } catch (Throwable e) { // the client's interceptors, whatever they throw: the attempt is cleaned up
                failed(asException(e));
            }
            return stage;
        }

        /** The attempt's context ended: abort the exchange, unless its response went to the callback. */
        @Override
        public void run() {
            int s = state;
            while (s == LIVE || s == HOLDING) {
                if (STATE.compareAndSet(this, s, ABANDONED)) {
                    cancellable.cancel();
                    runtime.discardEndpoint();
                    ContextDoneException done = Attempts.doneException(ctx);
                    previousFailure = done;
                    stage.completeExceptionally(done != null ? done : new CancellationException("attempt abandoned"));
                    return;
                }
                s = state;
            }
        }

        /** The caller's context ended while the body went to the callback: abort; the chain reports the failure. */
        private void abortDelivery() {
            if (state == DELIVERING) {
                cancellable.cancel();
                runtime.discardEndpoint();
            }
        }

        /** This attempt's response goes to the callback: from now on only the caller's context may end it. */
        private boolean claimDelivery(int from) {
            if (!STATE.compareAndSet(this, from, DELIVERING)) {
                return false;
            }
            if (!commit()) { // another attempt answered (attempts side by side)
                state = ABANDONED;
                cancellable.cancel();
                runtime.discardEndpoint();
                stage.completeExceptionally(new Attempts.Stop(new CancellationException("another attempt answered")));
                return false;
            }
            onDone.remove();
            onDone = caller.onDone(this::abortDelivery, Runnable::run);
            return true;
        }

        @Override
        public AsyncDataConsumer handleResponse(HttpResponse response, EntityDetails entityDetails)
                throws HttpException, IOException {
            if (state != LIVE) {
                return null; // abandoned: what still arrives is dropped
            }
            boolean failing = HttpPolicy.isFailingStatus(response.getCode());
            boolean tooLong = entityDetails != null && entityDetails.getContentLength() > Attempts.MAX_BUFFERED_BODY;
            if (failing && mayRetry && !tooLong) {
                if (!STATE.compareAndSet(this, LIVE, HOLDING)) {
                    return null;
                }
                head = response;
                details = entityDetails;
                if (entityDetails == null) {
                    body = NO_BODY;
                    return null; // no body: completed() follows
                }
                long declared = entityDetails.getContentLength();
                body = new byte[declared >= 0 ? (int) declared : 1024];
                return this;
            }
            if (!claimDelivery(LIVE)) {
                return null;
            }
            try {
                return callback.handleResponse(response, entityDetails);
            } finally {
                // The policy sees it: a failing one is counted, and not retried (it is the caller's now).
                stage.complete(AsyncOutcome.delivered(response));
            }
        }

        @Override
        public void handleInformationResponse(HttpResponse response) throws HttpException, IOException {
            int s = state;
            if (s == DELIVERING || s == LIVE && committed == 0) {
                callback.handleInformationResponse(response);
            }
        }

        @Override
        public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
            if (passed != null) {
                passed.updateCapacity(capacityChannel);
            } else {
                capacityChannel.update(Integer.MAX_VALUE);
            }
        }

        @Override
        public void consume(ByteBuffer src) throws IOException {
            if (passed != null) {
                passed.consume(src);
                return;
            }
            if (state != HOLDING) {
                src.position(src.limit()); // abandoned: dropped
                return;
            }
            int n = src.remaining();
            if (length + n > Attempts.MAX_BUFFERED_BODY) {
                passOn(src);
                return;
            }
            if (length + n > body.length) {
                body = Arrays.copyOf(body, Math.min(Attempts.MAX_BUFFERED_BODY, Math.max(length + n, 2 * body.length)));
            }
            src.get(body, length, n);
            length += n;
        }

        /** The body outgrew the buffer: the response goes to the callback after all, and is not retried. */
        private void passOn(ByteBuffer src) throws IOException {
            if (!claimDelivery(HOLDING)) {
                src.position(src.limit());
                return;
            }
            try {
                AsyncDataConsumer consumer = callback.handleResponse(head, details);
                passed = consumer != null ? consumer : DROP;
                passed.consume(ByteBuffer.wrap(body, 0, length));
                body = null;
                passed.consume(src);
            } catch (HttpException e) {
                throw new IOException(e);
            } finally {
                stage.complete(AsyncOutcome.delivered(head)); // counted if failing, never retried
            }
        }

        @Override
        public void streamEnd(List<? extends Header> trailers) throws HttpException, IOException {
            if (passed != null) {
                passed.streamEnd(trailers);
            } else {
                this.trailers = trailers;
            }
        }

        @Override
        public void releaseResources() {
            AsyncDataConsumer p = passed;
            if (p != null) {
                p.releaseResources();
            }
        }

        @Override
        public void completed() {
            int s = state;
            if (s == DELIVERING && STATE.compareAndSet(this, DELIVERING, DONE)) {
                onDone.remove();
                runtime.releaseEndpoint();
                callback.completed();
            } else if (s == HOLDING && STATE.compareAndSet(this, HOLDING, DONE)) {
                onDone.remove();
                runtime.releaseEndpoint(); // the connection goes back to the pool before any retry
                stage.complete(AsyncOutcome.heldBack(head, details, body, length, trailers));
            } else if (s == LIVE && STATE.compareAndSet(this, LIVE, DONE)) {
                onDone.remove();
                runtime.releaseEndpoint();
                stage.completeExceptionally(new IOException("the exchange ended without a response"));
            } else {
                runtime.discardEndpoint(); // abandoned: whatever it finished is not wanted
            }
        }

        @Override
        public void failed(Exception cause) {
            runtime.discardEndpoint();
            int s = state;
            if (s == DELIVERING && STATE.compareAndSet(this, DELIVERING, DONE)) {
                onDone.remove();
                callback.failed(deliveredFailure(cause));
            } else if ((s == LIVE || s == HOLDING) && STATE.compareAndSet(this, s, DONE)) {
                Registration r = onDone;
                if (r != null) {
                    r.remove();
                }
                stage.completeExceptionally(attemptFailure(ctx, cause));
            }
        }

        @Override
        public String toString() {
            return "attempt " + number + " of " + scope.exchangeId;
        }
    }

    /**
     * What cancels one attempt: the cancellable the chain below registers its operations with (the
     * connection's lease, its connect, the exchange). Cancelling it cancels every operation
     * registered, not only the last one, and an operation registered after the cancel is cancelled
     * at once. Apache's own {@code ComplexCancellable} keeps the last only, and the connect step
     * registers the lease when {@code acquireEndpoint} returns: when the new connection is made on
     * an I/O thread and the exchange starts there first, the finished lease replaces the exchange,
     * and a cancel then leaves the request running (seen as a cancelled call that still completed).
     */
    static final class Operations implements CancellableDependency {
        private final ConcurrentLinkedQueue<Cancellable> registered = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean cancelled = new AtomicBoolean();

        @Override
        public void setDependency(Cancellable operation) {
            registered.add(operation);
            if (cancelled.get() && registered.remove(operation)) { // exactly one of this and cancel() takes it
                operation.cancel();
            }
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get();
        }

        @Override
        public boolean cancel() {
            if (!cancelled.compareAndSet(false, true)) {
                return false;
            }
            for (Cancellable c; (c = registered.poll()) != null; ) {
                c.cancel();
            }
            return true;
        }
    }

    /** Takes a passed-on body the callback has no consumer for. */
    private static final AsyncDataConsumer DROP = new AsyncDataConsumer() {
        @Override
        public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
            capacityChannel.update(Integer.MAX_VALUE);
        }

        @Override
        public void consume(ByteBuffer src) {
            src.position(src.limit());
        }

        @Override
        public void streamEnd(List<? extends Header> trailers) {
        }

        @Override
        public void releaseResources() {
        }
    };
}
