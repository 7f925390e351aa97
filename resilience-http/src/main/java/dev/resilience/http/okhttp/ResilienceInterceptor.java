package dev.resilience.http.okhttp;

import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.core.RefusedException;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.http.HttpPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * OkHttp 5 with the toolkit's policies and deadlines: an application interceptor that runs each
 * call through an {@link HttpPolicy} (retry, breaker, rate limiter, per-attempt timeout, bulkhead)
 * and carries the caller's {@link Context} deadline.
 *
 * <pre>{@code
 * OkHttpClient client = new OkHttpClient.Builder()
 *         .addInterceptor(ResilienceInterceptor.of(payments))      // an application interceptor
 *         .build();
 * try (CancelHandle call = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach();
 *      Response r = client.newCall(request).execute()) {
 *     ...                                                          // 2 s for all attempts and backoffs
 * }
 * }</pre>
 *
 * <p><b>Registration.</b> Add it with {@code addInterceptor}, never {@code addNetworkInterceptor}:
 * a retry calls {@code chain.proceed} again, which OkHttp allows only for application interceptors,
 * and only there can the timeouts be changed. Registered as a network interceptor it throws
 * {@link IllegalStateException} on the first call.
 *
 * <p><b>Outcomes.</b> They are classified by the policy, the same way for every client of this
 * module: connection errors, 5xx and 429 are failures that the retry may retry and the breaker
 * counts; when retrying stops on a failing status the caller gets that last response (close it as
 * usual). Only idempotent methods are retried unless the policy says
 * {@link HttpPolicy.Builder#retryNonIdempotent() retryNonIdempotent}; {@code Retry-After} on a 503
 * or 429 replaces the backoff. A retried response is closed before the next attempt, so its
 * connection goes back to the pool.
 *
 * <p><b>Exceptions.</b> OkHttp lets an interceptor throw only {@link IOException}s (on the
 * {@code enqueue} path anything else escapes to the dispatcher thread), so the policies' outcomes
 * arrive as:
 * <ul>
 * <li>the attempt's own {@code IOException}, unchanged (a connection failure, a
 *     {@code SocketTimeoutException}, {@code "Canceled"} when the call was cancelled);
 * <li>{@link RefusedIOException} for a refusal of the breaker, rate limiter or bulkhead (the
 *     request was not sent);
 * <li>{@link InterruptedIOException} when the caller's context ended (its cause the
 *     {@code DeadlineExceededException} or {@code ContextCancelledException}), when the last
 *     attempt ran out of its per-attempt timeout (cause {@code TimeoutExceededException}), or when
 *     the thread was interrupted in a backoff (the interrupt flag is set again);
 * <li>any other exception of a policy as the cause of a plain {@code IOException}.
 * </ul>
 * Errors pass unchanged. A call cancelled by its owner ({@link Call#cancel()}) is neither retried
 * nor counted by the breaker. OkHttp gives an interceptor no word of {@code cancel()}: an attempt in
 * flight fails at once (OkHttp aborts its exchange), but a backoff between attempts (up to
 * {@code maxRetryDelay}, 30 s by default, for a {@code Retry-After}) runs to its end before the
 * cancel is seen. To end a call at once wherever it is, cancel the caller's context instead.
 *
 * <p><b>Deadlines.</b> The caller's context is the one tagged on the call or its request
 * ({@code Request.Builder.tag(Context.class, ctx)}), else {@link Context#current()} of the thread
 * running the interceptor: the caller's thread for {@link Call#execute()}, a dispatcher thread for
 * {@link Call#enqueue} (use {@link #enqueue(Call, Callback)} or tag the request). If that context
 * is done, nothing is sent. Each attempt sends the time it has left (the caller's deadline,
 * shortened by a per-attempt timeout) as a {@code grpc-timeout} header, and OkHttp's connect, read
 * and write timeouts are bounded by it. When the caller's context ends while the interceptor runs,
 * the call is cancelled at once.
 *
 * <p><b>Limits.</b> OkHttp cannot cancel one attempt without cancelling the whole call, so a
 * per-attempt timeout bounds an attempt through the connect, read and write timeouts: a server that
 * stops answering fails the attempt after the time it had left, and the retry goes on; a server
 * that trickles bytes slower than that keeps the attempt going. The body of the response that is
 * returned is read after the interceptor has returned: each read is still bounded by the time left
 * when the last attempt started, but the end of the context no longer cancels it. A hedging policy
 * does not fit (one OkHttp call carries one exchange at a time). OkHttp's own follow-ups happen
 * inside an attempt, below the interceptor: redirects, authentication, a repeat of a 503 that says
 * {@code Retry-After: 0}, and, with {@code retryOnConnectionFailure} (the default), a silent retry
 * on a fresh connection; turn that off to leave connection failures to the policy. OkHttp's
 * {@code callTimeout} still bounds the whole call, all attempts together, but is not sent in the
 * header: prefer a context deadline.
 *
 * <p><b>Cost.</b> Per call: one small object, one clock read (is the context done?) if it has a
 * deadline, and a cancellation callback if it can end (which arms the context's deadline timer).
 * Per attempt with a deadline: one clock read, the request copy that carries the header, and the
 * chain copies that carry the bounded timeouts (only those that change). Without a deadline an
 * attempt sends the request as it is. No locks.
 */
@SuppressWarnings("exports") // OkHttp's types in the API: the user brings OkHttp (an optional dependency of this module)
public final class ResilienceInterceptor implements Interceptor {

    private static final ResilienceInterceptor DEADLINE_ONLY = new ResilienceInterceptor(HttpPolicy.none());

    /** Reads OkHttp responses for the policy; stateless. */
    private static final HttpPolicy.Responses<Response> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(Response response) {
            return response.code();
        }

        @Override
        public String header(Response response, String name) {
            return response.header(name);
        }

        @Override
        public void discard(Response response) {
            response.close();
        }
    };

    private final HttpPolicy policy;

    private ResilienceInterceptor(HttpPolicy policy) {
        this.policy = policy;
    }

    /** An interceptor that runs every call through {@code policy} (which may be shared with other clients). */
    public static ResilienceInterceptor of(HttpPolicy policy) {
        return new ResilienceInterceptor(Objects.requireNonNull(policy, "policy"));
    }

    /** An interceptor without guards: it carries the deadline and cancels the call when the context ends. */
    public static ResilienceInterceptor of() {
        return DEADLINE_ONLY;
    }

    /** The policy the calls go through. */
    public HttpPolicy policy() {
        return policy;
    }

    /**
     * Enqueues {@code call} under the current context: the context is tagged on the call (unless its
     * request already carries one), so the interceptor sees its deadline on OkHttp's dispatcher
     * thread, and {@code callback} runs with it attached, so calls it makes inherit the deadline.
     *
     * <pre>{@code
     * ResilienceInterceptor.enqueue(client.newCall(request), callback);   // instead of call.enqueue(callback)
     * }</pre>
     */
    public static void enqueue(Call call, Callback callback) {
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(callback, "callback");
        Context current = Context.current();
        Context context = call.tag(Context.class, () -> current);
        call.enqueue(new ContextCallback(context, callback));
    }

    /**
     * Runs the call through the policy; see the class comment.
     *
     * @throws IOException the last attempt's failure, or a refusal, deadline or timeout mapped as the
     *     class comment says
     * @throws IllegalStateException if the interceptor was registered as a network interceptor
     */
    @Override
    public Response intercept(Chain chain) throws IOException {
        if (chain.connection() != null) {
            throw new IllegalStateException("ResilienceInterceptor retries with chain.proceed: register it with "
                    + "OkHttpClient.Builder.addInterceptor, not addNetworkInterceptor");
        }
        Call call = chain.call();
        Context tagged = call.tag(Context.class);
        Context caller = tagged != null ? tagged : Context.current();
        if (caller.isDone()) {
            throw interrupted(caller.err()); // nothing sent, nothing counted
        }
        Attempt attempt = new Attempt(chain, caller);
        Registration cancelWithContext = caller.onDone(attempt, Runnable::run);
        Response response = null;
        try (Scope scope = tagged != null ? tagged.attach() : null) {
            response = policy.execute(chain.request().method(), attempt, RESPONSES);
            return response;
        } catch (Exception e) {
            throw toIOException(e);
        } finally {
            cancelWithContext.remove();
            Response last = attempt.last;
            if (last != null && last != response) {
                last.close(); // an attempt's response that will reach nobody (a late one a timeout dropped)
            }
        }
    }

    /** The policy's outcome as OkHttp may carry it; see the class comment. */
    private static IOException toIOException(Exception e) {
        if (e instanceof IOException) {
            return (IOException) e;
        }
        if (e instanceof CallCanceled) {
            return (IOException) e.getCause();
        }
        if (e instanceof RefusedException) {
            return new RefusedIOException((RefusedException) e);
        }
        if (e instanceof ContextDoneException || e instanceof TimeoutExceededException) {
            return interrupted(e);
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return interrupted(e);
        }
        return new IOException(e);
    }

    private static InterruptedIOException interrupted(Exception cause) {
        InterruptedIOException e = new InterruptedIOException(cause.getMessage());
        e.initCause(cause);
        return e;
    }

    /** OkHttp's timeout in milliseconds for {@code nanos} left: rounded up, at least 1 (0 means none). */
    static int timeoutMillis(long nanos) {
        long millis = nanos / 1_000_000L + (nanos % 1_000_000L == 0 ? 0 : 1);
        return (int) Math.max(1L, Math.min(Integer.MAX_VALUE, millis));
    }

    /** {@code configured} (0: none) bounded by {@code millis}. */
    private static int bound(int configured, int millis) {
        return configured == 0 || configured > millis ? millis : configured;
    }

    /**
     * One call's attempts: each sends the request with the attempt's deadline. Also the callback that
     * cancels the call when the caller's context ends.
     */
    private static final class Attempt implements Callable<Response>, Runnable {
        private final Chain chain;
        private final Context caller;
        /** The last attempt's response; attempts run one after another, on one thread at a time. */
        Response last;

        Attempt(Chain chain, Context caller) {
            this.chain = chain;
            this.caller = caller;
        }

        @Override
        public Response call() throws Exception {
            Response previous = last;
            if (previous != null) {
                last = null;
                previous.close(); // OkHttp starts no exchange while the last response is open; idempotent
            }
            Chain c = chain;
            Request request = c.request();
            Context ctx = Context.current(); // the attempt's: the caller's, or a per-attempt timeout's child
            long remaining = ctx.remainingNanos(); // the one clock read; none without a deadline
            if (remaining == Long.MAX_VALUE) {
                ctx.throwIfDone(); // cancelled (no deadline, no clock read)
            } else {
                if (remaining == 0) {
                    ctx.throwIfDone(); // passed: a per-attempt timeout turns this into its own exception
                }
                request = request.newBuilder()
                        .header(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(remaining)).build();
                int millis = timeoutMillis(remaining);
                int connect = c.connectTimeoutMillis();
                int read = c.readTimeoutMillis();
                int write = c.writeTimeoutMillis();
                if (bound(connect, millis) != connect) {
                    c = c.withConnectTimeout(millis, TimeUnit.MILLISECONDS);
                }
                if (bound(read, millis) != read) {
                    c = c.withReadTimeout(millis, TimeUnit.MILLISECONDS);
                }
                if (bound(write, millis) != write) {
                    c = c.withWriteTimeout(millis, TimeUnit.MILLISECONDS);
                }
            }
            Response response;
            try {
                response = c.proceed(request);
            } catch (IOException e) {
                if (caller.isDone()) {
                    caller.throwIfDone(); // we cancelled the call: the caller's deadline or cancellation, not the server
                }
                if (chain.call().isCanceled()) {
                    throw new CallCanceled(e); // its owner cancelled it: another attempt would fail the same way
                }
                if (e instanceof InterruptedIOException && !(e instanceof java.net.SocketTimeoutException)
                        && Thread.currentThread().isInterrupted()) {
                    throw new CallCanceled(e); // the thread was interrupted: the caller stopping, not the server
                }
                throw e;
            }
            last = response;
            return response;
        }

        /** The caller's context ended: cancel the call (cheap and thread-safe, run inline). */
        @Override
        public void run() {
            chain.call().cancel();
        }
    }

    /**
     * Carries the {@code IOException} of a call its owner cancelled through the policy: an
     * {@link InterruptedException}, because that is what the policies treat as the caller stopping
     * (a retry does not retry it, a breaker does not count it); unwrapped again before OkHttp sees it.
     */
    private static final class CallCanceled extends InterruptedException {
        private static final long serialVersionUID = 1L;

        CallCanceled(IOException canceled) {
            super(canceled.getMessage());
            initCause(canceled);
        }

        @Override
        public Throwable fillInStackTrace() {
            return this;
        }
    }

    /** Runs a callback with the caller's context attached. */
    private static final class ContextCallback implements Callback {
        private final Context context;
        private final Callback callback;

        ContextCallback(Context context, Callback callback) {
            this.context = context;
            this.callback = callback;
        }

        @Override
        public void onFailure(Call call, IOException e) {
            try (Scope scope = context.attach()) {
                callback.onFailure(call, e);
            }
        }

        @Override
        public void onResponse(Call call, Response response) throws IOException {
            try (Scope scope = context.attach()) {
                callback.onResponse(call, response);
            }
        }
    }
}
