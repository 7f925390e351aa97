package dev.resilience.http.okhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import dev.resilience.core.Backoff;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryListener;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.core.TimeoutListener;
import dev.resilience.http.HttpPolicy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OkHttp through the interceptor against a real JDK HttpServer on loopback that is slow, fails,
 * throttles, drops connections and records the headers it receives.
 */
class ResilienceInterceptorTest {

    private static final Backoff QUICK = Backoff.fixed(Duration.ofMillis(1));

    private HttpServer server;
    private String base;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final List<String> deadlines = new CopyOnWriteArrayList<>();
    private final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
    /** Holds the slow endpoints until the test ends (the simulated slow dependency). */
    private final CountDownLatch release = new CountDownLatch(1);
    /** Counted down when a slow request has arrived at the server. */
    private final CountDownLatch slowArrived = new CountDownLatch(1);
    /** Whatever escaped to a dispatcher thread: OkHttp rethrows an interceptor's non-IOException there. */
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private ExecutorService dispatcherThreads;
    private OkHttpClient plain;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool()); // a slow request must not hold up the next
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
        dispatcherThreads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "okhttp-dispatcher-under-test");
                    t.setDaemon(true);
                    t.setUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
                    return t;
                });
        plain = new OkHttpClient.Builder()
                .dispatcher(new Dispatcher(dispatcherThreads))
                .connectionPool(new ConnectionPool())
                .retryOnConnectionFailure(false) // the policy retries, not OkHttp behind its back
                .build();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
        plain.connectionPool().evictAll();
        dispatcherThreads.shutdownNow();
        assertEquals(List.of(), uncaught, "nothing may escape to OkHttp's dispatcher threads");
    }

    /**
     * /ok; /flaky (503 twice, then 200); /errors (500 twice, then 200); /down (always 503);
     * /unavailable-now (503 + Retry-After: 0 twice, then 200); /throttled (429 + Retry-After: 1 once);
     * /later (503 + Retry-After: 120); /drop-once (the connection closed without an answer, then 200);
     * /slow (held until the test ends); /slow-once (the first request held).
     */
    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        int n = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        deadlines.add(String.valueOf(exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT)));
        clientPorts.add(exchange.getRemoteAddress().getPort());
        exchange.getRequestBody().readAllBytes();
        int status = 200;
        String retryAfter = null;
        switch (path) {
            case "/flaky":
                status = n <= 2 ? 503 : 200;
                break;
            case "/errors":
                status = n <= 2 ? 500 : 200;
                break;
            case "/down":
                status = 503;
                break;
            case "/unavailable-now":
                status = n <= 2 ? 503 : 200;
                retryAfter = "0";
                break;
            case "/throttled":
                status = n <= 1 ? 429 : 200;
                retryAfter = "1";
                break;
            case "/later":
                status = 503;
                retryAfter = "120";
                break;
            case "/drop-once":
                if (n == 1) {
                    throw new IOException("dropped: the server closes the connection without answering");
                }
                break;
            case "/slow":
                slowArrived.countDown();
                hold(Duration.ofSeconds(10));
                break;
            case "/slow-once":
                if (n == 1) {
                    hold(Duration.ofSeconds(10));
                }
                break;
            default:
                break;
        }
        if (status != 200 && retryAfter != null) {
            exchange.getResponseHeaders().add("Retry-After", retryAfter);
        }
        byte[] body = ("hit " + n).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    /** The slow dependency: answers when the test ends (or after {@code max}), whatever the client does. */
    private void hold(Duration max) {
        try {
            release.await(max.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    private Request get(String path) {
        return new Request.Builder().url(base + path).build();
    }

    private OkHttpClient client(HttpPolicy policy) {
        return plain.newBuilder().addInterceptor(ResilienceInterceptor.of(policy)).build();
    }

    private OkHttpClient retrying() {
        return client(HttpPolicy.builder("okhttp").retry(3, QUICK).build());
    }

    private static String body(Response r) throws IOException {
        return r.body().string();
    }

    private static long millisSince(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    // ------------------------------------------------------------------ deadline header

    @Test
    void theDeadlineTravelsAsGrpcTimeoutAndIsAbsentWithoutOne() throws Exception {
        OkHttpClient client = plain.newBuilder().addInterceptor(ResilienceInterceptor.of()).build();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            long before = h.context().remainingNanos();
            try (Response r = client.newCall(get("/ok")).execute()) {
                assertEquals(200, r.code());
            }
            long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
            assertTrue(sent > 0 && sent <= before, "sent " + deadlines.get(0) + ", had " + before + " ns");
        }
        try (Response r = client.newCall(get("/ok")).execute()) {
            assertEquals(200, r.code());
        }
        assertEquals("null", deadlines.get(1), "no deadline, no header");
    }

    @Test
    void eachAttemptSendsTheTimeItHasLeft() throws Exception {
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).timeout(Duration.ofMillis(500)).build());
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(5)); Scope s = h.attach();
             Response r = client.newCall(get("/flaky")).execute()) {
            assertEquals(200, r.code());
        }
        assertEquals(3, deadlines.size());
        for (String d : deadlines) {
            long sent = DeadlineHeaders.parseGrpcTimeout(d);
            assertTrue(sent > 0 && sent <= Duration.ofMillis(500).toNanos(), "the per-attempt 500 ms bounds it: " + d);
        }
    }

    // ------------------------------------------------------------------ statuses and retries

    @Test
    void a503IsRetriedAndEachRetriedResponseIsClosedSoTheConnectionIsReused() throws Exception {
        OkHttpClient client = retrying();
        try (Response r = client.newCall(get("/flaky")).execute()) {
            assertEquals(200, r.code());
            assertEquals("hit 3", body(r), "the caller's body is open and readable");
        }
        assertEquals(3, hits("/flaky"));
        assertEquals(1, clientPorts.stream().distinct().count(),
                "all three attempts went over one connection: each retried response gave it back " + clientPorts);
        assertEquals(1, client.connectionPool().connectionCount());
        assertEquals(1, client.connectionPool().idleConnectionCount(), "nothing holds the connection");
    }

    @Test
    void whenRetriesRunOutTheCallerGetsTheLast503() throws Exception {
        try (Response r = retrying().newCall(get("/down")).execute()) {
            assertEquals(503, r.code());
            assertEquals("hit 3", body(r));
        }
        assertEquals(1, plain.connectionPool().idleConnectionCount());
    }

    @Test
    void okHttpItselfRepeatsA503WithRetryAfterZeroOnceWithinAnAttempt() throws Exception {
        List<Throwable> retried = new CopyOnWriteArrayList<>();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).retryListener(new RetryListener() {
            @Override
            public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                retried.add(failure);
            }
        }).build());
        try (Response r = client.newCall(get("/unavailable-now")).execute()) {
            assertEquals(200, r.code());
        }
        assertEquals(3, hits("/unavailable-now"), "two 503s, then 200");
        assertEquals(1, retried.size(), "three requests, two attempts: OkHttp's own follow-up, below the "
                + "interceptor, repeated the first 503 within the first attempt " + retried);
    }

    @Test
    void a429WithRetryAfterSecondsIsRetriedAfterThatWait() throws Exception {
        long start = System.nanoTime();
        try (Response r = retrying().newCall(get("/throttled")).execute()) {
            assertEquals(200, r.code());
        }
        long waited = millisSince(start);
        assertEquals(2, hits("/throttled"));
        assertTrue(waited >= 900 && waited < 5_000, "Retry-After: 1 replaced the 1 ms backoff: " + waited + " ms");
    }

    @Test
    void aRetryAfterLongerThanMaxRetryDelayEndsTheRetriesWithThe503() throws Exception {
        List<RetryListener.GiveUp> gaveUp = new CopyOnWriteArrayList<>();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).maxRetryDelay(Duration.ofSeconds(5))
                .retryListener(new RetryListener() {
                    @Override
                    public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
                        gaveUp.add(reason);
                    }
                }).build());
        long start = System.nanoTime();
        try (Response r = client.newCall(get("/later")).execute()) {
            assertEquals(503, r.code());
            assertEquals("120", r.header("Retry-After"));
            assertEquals("hit 1", body(r));
        }
        assertTrue(millisSince(start) < 2_000);
        assertEquals(1, hits("/later"));
        assertEquals(List.of(RetryListener.GiveUp.DELAY_TOO_LONG), gaveUp);
    }

    @Test
    void a500IsNotRetriedForPostUnlessRetryNonIdempotent() throws Exception {
        Request post = new Request.Builder().url(base + "/errors")
                .post(RequestBody.create("{}", MediaType.get("application/json"))).build();
        try (Response r = retrying().newCall(post).execute()) {
            assertEquals(500, r.code());
        }
        assertEquals(1, hits("/errors"));
        OkHttpClient bold = client(HttpPolicy.builder("okhttp").retry(3, QUICK).retryNonIdempotent().build());
        try (Response r = bold.newCall(post).execute()) {
            assertEquals(200, r.code(), "500 again, then 200: the body was sent again each time");
        }
        assertEquals(3, hits("/errors"));
    }

    // ------------------------------------------------------------------ connection failures

    @Test
    void aDroppedConnectionIsRetried() throws Exception {
        try (Response r = retrying().newCall(get("/drop-once")).execute()) {
            assertEquals(200, r.code());
            assertEquals("hit 2", body(r));
        }
        assertEquals(2, hits("/drop-once"));
    }

    @Test
    void aPortWithNothingListeningIsRetriedThenItsFailureComesOut() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        List<Throwable> retried = new CopyOnWriteArrayList<>();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).retryListener(new RetryListener() {
            @Override
            public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                retried.add(failure);
            }
        }).build());
        Request nowhere = new Request.Builder().url("http://127.0.0.1:" + closedPort + "/").build();
        assertThrows(ConnectException.class, () -> client.newCall(nowhere).execute());
        assertEquals(2, retried.size(), String.valueOf(retried));
        retried.forEach(e -> assertInstanceOf(ConnectException.class, e));
    }

    // ------------------------------------------------------------------ deadlines, timeouts, cancellation

    @Test
    void theContextsDeadlineCancelsASlowCallPromptly() throws Exception {
        OkHttpClient client = retrying();
        long start = System.nanoTime();
        InterruptedIOException e;
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(300)); Scope s = h.attach()) {
            e = assertThrows(InterruptedIOException.class, () -> client.newCall(get("/slow")).execute());
        }
        long took = millisSince(start);
        assertInstanceOf(DeadlineExceededException.class, e.getCause(), String.valueOf(e));
        assertTrue(took >= 250 && took < 2_000, "ended at the deadline, not the server's 10 s: " + took + " ms");
        assertEquals(1, hits("/slow"), "the deadline is not retried");
    }

    @Test
    void cancellingTheContextCancelsTheCallInFlight() throws Exception {
        OkHttpClient client = retrying(); // OkHttp's default 10 s read timeout: only the cancellation can end it early
        long start = System.nanoTime();
        InterruptedIOException e;
        try (CancelHandle h = Context.background().withCancel(); Scope s = h.attach()) {
            CompletableFuture<Void> canceller = CompletableFuture.runAsync(() -> {
                try {
                    slowArrived.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
                h.cancel();
            });
            e = assertThrows(InterruptedIOException.class, () -> client.newCall(get("/slow")).execute());
            canceller.get(5, TimeUnit.SECONDS);
        }
        assertInstanceOf(ContextCancelledException.class, e.getCause(), String.valueOf(e));
        assertTrue(millisSince(start) < 3_000);
        assertEquals(1, hits("/slow"));
    }

    @Test
    void aPerAttemptTimeoutBoundsASlowAttemptAndTheRetrySucceeds() throws Exception {
        List<Throwable> retried = new CopyOnWriteArrayList<>();
        OkHttpClient client = plain.newBuilder().readTimeout(Duration.ZERO) // no timeout of its own
                .addInterceptor(ResilienceInterceptor.of(HttpPolicy.builder("okhttp").retry(2, QUICK)
                        .timeout(Duration.ofSeconds(1)).retryListener(new RetryListener() {
                            @Override
                            public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                                retried.add(failure);
                            }
                        }).build()))
                .build();
        long start = System.nanoTime();
        try (Response r = client.newCall(get("/slow-once")).execute()) {
            assertEquals(200, r.code());
            assertEquals("hit 2", body(r));
        }
        assertTrue(millisSince(start) < 5_000, "did not wait for the slow attempt (10 s): " + millisSince(start) + " ms");
        assertEquals(1, retried.size());
        TimeoutExceededException timedOut = assertInstanceOf(TimeoutExceededException.class, retried.get(0));
        assertInstanceOf(SocketTimeoutException.class, timedOut.getCause(), "the bounded read timeout ended it");
    }

    @Test
    void aLastAttemptThatTimesOutIsAnInterruptedIOExceptionCarryingTheTimeout() throws Exception {
        OkHttpClient client = client(HttpPolicy.builder("okhttp").timeout(Duration.ofMillis(200)).build());
        long start = System.nanoTime();
        InterruptedIOException e = assertThrows(InterruptedIOException.class,
                () -> client.newCall(get("/slow")).execute());
        assertInstanceOf(TimeoutExceededException.class, e.getCause(), String.valueOf(e));
        assertTrue(millisSince(start) < 2_000);
    }

    @Test
    void aShorterTimeoutOfTheClientIsKept() throws Exception {
        OkHttpClient client = plain.newBuilder().readTimeout(Duration.ofMillis(150))
                .addInterceptor(ResilienceInterceptor.of()).build();
        long start = System.nanoTime();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(5)); Scope s = h.attach()) {
            assertThrows(SocketTimeoutException.class, () -> client.newCall(get("/slow")).execute());
        }
        assertTrue(millisSince(start) < 2_000, "the client's 150 ms, not the deadline's 5 s");
    }

    @Test
    void aDoneContextSendsNothingAndCountsNothing() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("okhttp").build();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).circuitBreaker(breaker).build());
        CancelHandle cancelled = Context.background().withCancel();
        cancelled.cancel();
        try (Scope s = cancelled.attach()) {
            InterruptedIOException e = assertThrows(InterruptedIOException.class, () -> client.newCall(get("/ok")).execute());
            assertInstanceOf(ContextCancelledException.class, e.getCause());
        }
        try (CancelHandle expired = Context.background().withTimeout(Duration.ofNanos(1)); Scope s = expired.attach()) {
            InterruptedIOException e = assertThrows(InterruptedIOException.class, () -> client.newCall(get("/ok")).execute());
            assertInstanceOf(DeadlineExceededException.class, e.getCause());
        }
        assertEquals(0, hits("/ok"), "no request was sent");
        assertEquals(0, breaker.counts().requests(), breaker.counts().toString());
    }

    @Test
    void aCallCancelledByItsOwnerIsNeitherRetriedNorCounted() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("okhttp").build();
        List<Throwable> retried = new CopyOnWriteArrayList<>();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, Backoff.fixed(Duration.ofMillis(500)))
                .circuitBreaker(breaker).retryListener(new RetryListener() {
                    @Override
                    public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                        retried.add(failure);
                    }
                }).build());
        Call call = client.newCall(get("/slow"));
        CompletableFuture<Void> canceller = CompletableFuture.runAsync(() -> {
            try {
                slowArrived.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            call.cancel();
        });
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, call::execute);
        canceller.get(5, TimeUnit.SECONDS);
        assertFalse(e instanceof RefusedIOException || e instanceof InterruptedIOException, String.valueOf(e));
        assertTrue(millisSince(start) < 2_000, "no backoff after a cancellation");
        assertEquals(List.of(), retried);
        assertEquals(1, hits("/slow"));
        assertEquals(0, breaker.counts().totalFailures(), breaker.counts().toString());
    }

    // ------------------------------------------------------------------ guards

    @Test
    void theBreakerOpensAndLaterCallsFailFastWithoutReachingTheServer() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("okhttp").build();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").circuitBreaker(breaker).build());
        for (int i = 0; i < 6; i++) {
            try (Response r = client.newCall(get("/down")).execute()) {
                assertEquals(503, r.code());
            }
        }
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        for (int i = 0; i < 5; i++) {
            RefusedIOException e = assertThrows(RefusedIOException.class, () -> client.newCall(get("/down")).execute());
            CallNotPermittedException refusal = assertInstanceOf(CallNotPermittedException.class, e.refusal());
            assertEquals("okhttp", refusal.breaker());
            assertEquals(0, e.getStackTrace().length, "a refusal is cheap");
        }
        assertEquals(6, hits("/down"), "the refused calls never left");
    }

    @Test
    void whenTheBreakerTheFailuresOpenedRefusesTheNextRetryTheCallerGetsTheServersAnswer() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("okhttp").consecutiveFailures(2).build();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).circuitBreaker(breaker).build());
        int before = hits("/down");
        try (Response r = client.newCall(get("/down")).execute()) {
            assertEquals(503, r.code(), "the server's answer: a RefusedIOException would say nothing was sent");
        }
        assertTrue(hits("/down") > before, "the server was called");
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertThrows(RefusedIOException.class, () -> client.newCall(get("/down")).execute(), "the next call is refused");
    }

    @Test
    void theRateLimitersRefusalIsARefusedIOExceptionAndNoBreakerFailure() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("okhttp").build();
        RateLimiter limiter = RateLimiter.builder("okhttp").interval(Duration.ofHours(1)).burst(1)
                .maxWait(Duration.ZERO).build();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).circuitBreaker(breaker)
                .rateLimiter(limiter).build());
        try (Response r = client.newCall(get("/ok")).execute()) {
            assertEquals(200, r.code());
        }
        for (int i = 0; i < 10; i++) {
            RefusedIOException e = assertThrows(RefusedIOException.class, () -> client.newCall(get("/ok")).execute());
            assertInstanceOf(RequestNotPermittedException.class, e.refusal());
        }
        assertEquals(1, hits("/ok"));
        assertEquals(0, breaker.counts().totalFailures(), breaker.counts().toString());
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    // ------------------------------------------------------------------ enqueue

    /** Collects one asynchronous outcome. */
    private static final class Outcome implements Callback {
        final CompletableFuture<Response> result = new CompletableFuture<>();
        volatile Context contextInCallback;

        @Override
        public void onFailure(Call call, IOException e) {
            contextInCallback = Context.current();
            result.completeExceptionally(e);
        }

        @Override
        public void onResponse(Call call, Response response) {
            contextInCallback = Context.current();
            result.complete(response);
        }

        Throwable failure() throws Exception {
            try {
                result.get(5, TimeUnit.SECONDS).close();
                throw new AssertionError("expected a failure");
            } catch (java.util.concurrent.ExecutionException e) {
                return e.getCause();
            }
        }
    }

    @Test
    void enqueueCarriesTheCallersDeadlineToTheDispatcherThread() throws Exception {
        OkHttpClient client = retrying();
        Outcome outcome = new Outcome();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            ResilienceInterceptor.enqueue(client.newCall(get("/flaky")), outcome);
            try (Response r = outcome.result.get(5, TimeUnit.SECONDS)) {
                assertEquals(200, r.code());
                assertEquals("hit 3", body(r));
            }
            assertEquals(h.context(), outcome.contextInCallback, "the callback runs under the caller's context");
        }
        assertEquals(3, deadlines.size());
        for (String d : deadlines) {
            long sent = DeadlineHeaders.parseGrpcTimeout(d);
            assertTrue(sent > 0 && sent <= Duration.ofSeconds(2).toNanos(), d);
        }
    }

    @Test
    void aContextTaggedOnTheRequestWorksWithPlainEnqueue() throws Exception {
        OkHttpClient client = retrying();
        Outcome outcome = new Outcome();
        long start = System.nanoTime();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(300))) {
            Request tagged = new Request.Builder().url(base + "/slow").tag(Context.class, h.context()).build();
            client.newCall(tagged).enqueue(outcome);
            Throwable e = outcome.failure();
            assertInstanceOf(InterruptedIOException.class, e, String.valueOf(e));
            assertInstanceOf(DeadlineExceededException.class, e.getCause());
        }
        assertTrue(millisSince(start) < 2_000, "the tagged deadline cancelled the call");
        long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
        assertTrue(sent > 0 && sent <= Duration.ofMillis(300).toNanos(), deadlines.get(0));
    }

    @Test
    void asyncRefusalsArriveAtOnFailure() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("okhttp").build();
        breaker.forceOpen();
        OkHttpClient client = client(HttpPolicy.builder("okhttp").circuitBreaker(breaker).build());
        Outcome outcome = new Outcome();
        ResilienceInterceptor.enqueue(client.newCall(get("/ok")), outcome);
        RefusedIOException e = assertInstanceOf(RefusedIOException.class, outcome.failure());
        assertInstanceOf(CallNotPermittedException.class, e.refusal());
        Outcome done = new Outcome();
        CancelHandle cancelled = Context.background().withCancel();
        cancelled.cancel();
        try (Scope s = cancelled.attach()) {
            ResilienceInterceptor.enqueue(client.newCall(get("/ok")), done);
        }
        assertInstanceOf(ContextCancelledException.class, done.failure().getCause());
        assertEquals(0, hits("/ok"));
        // the check in stop(): nothing reached the dispatcher threads' uncaught-exception handler
    }

    // ------------------------------------------------------------------ hostile and misused

    @Test
    void throwingListenersChangeNothing() throws Exception {
        OkHttpClient client = client(HttpPolicy.builder("okhttp").retry(3, QUICK).timeout(Duration.ofSeconds(1))
                .retryListener(new RetryListener() {
                    @Override
                    public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                        throw new IllegalStateException("hostile");
                    }

                    @Override
                    public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
                        throw new AssertionError("hostile");
                    }
                })
                .timeoutListener(new TimeoutListener() {
                    @Override
                    public void onTimeout(Timeout timeout) {
                        throw new AssertionError("hostile");
                    }
                }).build());
        // The policies log (a sample of) the listener failures with stack traces: expected here, not printed.
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.resilience.core.listener");
        java.util.logging.Level level = log.getLevel();
        log.setLevel(java.util.logging.Level.OFF);
        try {
            try (Response r = client.newCall(get("/slow-once")).execute()) {
                assertEquals("hit 2", body(r), "timed out, retried, answered");
            }
            try (Response r = client.newCall(get("/down")).execute()) {
                assertEquals(503, r.code(), "gave up as usual");
            }
            Outcome outcome = new Outcome();
            ResilienceInterceptor.enqueue(client.newCall(get("/flaky")), outcome);
            try (Response r = outcome.result.get(5, TimeUnit.SECONDS)) {
                assertEquals(200, r.code());
            }
        } finally {
            log.setLevel(level);
        }
    }

    @Test
    void registeredAsANetworkInterceptorItFailsLoudly() {
        OkHttpClient misused = plain.newBuilder().addNetworkInterceptor(ResilienceInterceptor.of()).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> misused.newCall(get("/ok")).execute());
        assertTrue(e.getMessage().contains("addInterceptor"), e.getMessage());
    }

    @Test
    void timeoutsAreRoundedUpAndNeverZero() {
        assertEquals(1, ResilienceInterceptor.timeoutMillis(1));
        assertEquals(1, ResilienceInterceptor.timeoutMillis(1_000_000));
        assertEquals(2, ResilienceInterceptor.timeoutMillis(1_000_001));
        assertEquals(Integer.MAX_VALUE, ResilienceInterceptor.timeoutMillis(Long.MAX_VALUE - 1));
        assertNotNull(ResilienceInterceptor.of().policy());
        assertSame(ResilienceInterceptor.of(), ResilienceInterceptor.of(), "the deadline-only interceptor is shared");
        assertThrows(NullPointerException.class, () -> ResilienceInterceptor.of(null));
    }
}
