package dev.resilience.benchmarks.lab;

import dev.resilience.context.DeadlineHeaders;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The one HTTP client every setup sends through: a JDK {@code java.net.http.HttpClient} (HTTP/1.1)
 * wrapped to count each request handed to the JDK client as one attempt at the dependency (by the
 * second it was sent) and to stamp it with the lab-only header {@code x-lab-deadline}: the time at
 * which this attempt's caller stops waiting, that is now + the request's timeout. Every setup gives
 * each attempt a timeout (the remaining time of the call's deadline, or a shorter per-attempt
 * timeout), so the dependency can tell work done for a caller that already gave up.
 */
final class LabHttp extends HttpClient {

    /** The deadline passed before an attempt could be sent: nothing was sent. No stack trace. */
    static final class DeadlinePassed extends HttpTimeoutException {
        private static final long serialVersionUID = 1L;

        DeadlinePassed() {
            super("deadline passed before the attempt");
        }

        @Override
        public Throwable fillInStackTrace() {
            return this;
        }
    }

    /** A 5xx or 429, thrown by the peers' attempts so their retry and breaker see a failure. No stack trace. */
    static final class StatusException extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        StatusException(int status) {
            super("status " + status);
            this.status = status;
        }

        @Override
        public Throwable fillInStackTrace() {
            return this;
        }
    }

    /** Attempts sent by the current caller thread since {@link #resetCallAttempts()} (every setup sends on it). */
    private static final ThreadLocal<int[]> CALL_ATTEMPTS = ThreadLocal.withInitial(() -> new int[1]);

    private final HttpClient delegate;
    private final RunStats stats;
    private final URI uri;

    LabHttp(RunStats stats, URI uri) {
        this.delegate = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        this.stats = stats;
        this.uri = uri;
    }

    /** The dependency's address. */
    URI uri() {
        return uri;
    }

    /**
     * One attempt as the peers and the naive setup make it: a GET whose timeout is the call's
     * remaining time, or {@code perAttemptNanos} if shorter; a 5xx or 429 is thrown as a
     * {@link StatusException}; nothing is sent once the deadline has passed ({@link DeadlinePassed}).
     *
     * @throws IOException a connection error, the JDK client's timeout, a failing status, or the deadline
     * @throws InterruptedException if the caller thread is interrupted
     */
    HttpResponse<Void> attempt(long deadlineNanos, long perAttemptNanos) throws IOException, InterruptedException {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining < 1_000_000L) { // the JDK client times in milliseconds: under 1 ms nothing can be answered
            throw new DeadlinePassed();
        }
        HttpRequest request = HttpRequest.newBuilder(uri).GET()
                .timeout(Duration.ofNanos(Math.min(remaining, perAttemptNanos))).build();
        HttpResponse<Void> r = send(request, HttpResponse.BodyHandlers.discarding());
        int status = r.statusCode();
        if (status >= 500 || status == 429) {
            throw new StatusException(status);
        }
        return r;
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        return delegate.send(stamped(request), handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        return delegate.sendAsync(stamped(request), handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
            HttpResponse.PushPromiseHandler<T> pushPromiseHandler) {
        return delegate.sendAsync(stamped(request), handler, pushPromiseHandler);
    }

    static void resetCallAttempts() {
        CALL_ATTEMPTS.get()[0] = 0;
    }

    /** Attempts this thread sent since the last {@link #resetCallAttempts()}. */
    static int callAttempts() {
        return CALL_ATTEMPTS.get()[0];
    }

    private HttpRequest stamped(HttpRequest request) {
        long now = System.nanoTime();
        stats.attempt(now);
        CALL_ATTEMPTS.get()[0]++;
        long budget = budgetNanos(request);
        if (budget < 0) {
            return request;
        }
        return HttpRequest.newBuilder(request, (name, value) -> true)
                .header(LabServer.LAB_DEADLINE, Long.toString(now + budget)).build();
    }

    /**
     * The time the caller gives the request, or -1 for none: the {@code grpc-timeout} header when the
     * request carries one (the deadline it means; {@code HttpDeadlines} sets the JDK's own timeout 1 ms
     * past it, since 2026-12-04, because the JDK may fire up to 1 ms early), else the request's timeout
     * (the peers' setups, which set it to the time left).
     */
    private static long budgetNanos(HttpRequest request) {
        Optional<String> header = request.headers().firstValue(DeadlineHeaders.GRPC_TIMEOUT);
        if (header.isPresent()) {
            try {
                return DeadlineHeaders.parseGrpcTimeout(header.get());
            } catch (IllegalArgumentException malformed) {
                // not ours: fall back to the request's timeout
            }
        }
        return request.timeout().map(Duration::toNanos).orElse(-1L);
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
