package dev.resilience.http.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import dev.resilience.core.Backoff;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Retry;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.http.HttpPolicy;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The classic client's handler against a loopback server that is slow, fails, throttles and records headers. */
class ResilienceExecHandlerTest {

    /** A response as the caller saw it. */
    record Result(int status, String body) {
    }

    private LoopbackServer server;
    /** One connection per route: a retry that kept its predecessor's connection would wait forever. */
    private PoolingHttpClientConnectionManager pool;
    private CloseableHttpClient http;

    @BeforeEach
    void start() throws IOException {
        server = new LoopbackServer();
        pool = PoolingHttpClientConnectionManagerBuilder.create().setMaxConnPerRoute(1).setMaxConnTotal(1).build();
    }

    @AfterEach
    void stop() {
        try {
            // A connection whose attempt was aborted (a per-attempt timeout) is discarded by the thread
            // that aborted it, which may finish just after the caller has its exception (seen once on JDK 25).
            long end = System.nanoTime() + 5_000_000_000L;
            while (pool.getTotalStats().getLeased() != 0 && System.nanoTime() - end < 0) {
                Thread.yield();
            }
            assertEquals(0, pool.getTotalStats().getLeased(), "every connection went back to the pool");
        } finally {
            if (http != null) {
                http.close(CloseMode.IMMEDIATE);
            }
            pool.close(CloseMode.IMMEDIATE);
            server.close();
        }
    }

    private CloseableHttpClient client(HttpPolicy policy) {
        http = ResilienceExecHandler.install(HttpClients.custom().setConnectionManager(pool)
                .setConnectionManagerShared(true), policy).build();
        return http;
    }

    private static HttpPolicy retrying(int attempts) {
        return HttpPolicy.builder("apache").retry(attempts, Backoff.fixed(Duration.ofMillis(1))).build();
    }

    private Result send(ClassicHttpRequest request) throws IOException {
        return send(request, HttpClientContext.create());
    }

    private Result send(ClassicHttpRequest request, HttpClientContext context) throws IOException {
        return http.execute(request, context, r -> new Result(r.getCode(),
                r.getEntity() == null ? "" : EntityUtils.toString(r.getEntity(), StandardCharsets.UTF_8)));
    }

    private HttpGet get(String path) {
        return new HttpGet(server.uri(path));
    }

    @Test
    void aPolicyThatHedgesIsRefusedAtOnce() {
        HttpPolicy hedging = HttpPolicy.builder("h")
                .add(dev.resilience.core.Hedge.builder("g").delay(Duration.ofMillis(10)).build()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResilienceExecHandler.of(hedging));
        assertTrue(e.getMessage().contains("hedges"), e.getMessage());
    }

    @Test
    void theDeadlineTravelsAsGrpcTimeoutAndIsAbsentWithoutOne() throws Exception {
        client(HttpPolicy.none());
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            assertEquals(200, send(get("/ok")).status());
        }
        long sent = DeadlineHeaders.parseGrpcTimeout(server.deadlines.get(0));
        assertTrue(sent > Duration.ofSeconds(1).toNanos() && sent <= Duration.ofSeconds(2).toNanos(), server.deadlines.get(0));
        assertEquals(200, send(get("/ok")).status());
        assertEquals("null", server.deadlines.get(1), "no deadline, no header");
    }

    @Test
    void failingStatusesAreRetriedOnOneConnectionAndTheLastResponseIsKept() throws Exception {
        client(retrying(3));
        assertEquals(new Result(200, "hit 3"), send(get("/flaky")));
        assertEquals(3, server.hits("/flaky"));
        assertEquals(new Result(503, "hit 3"), send(get("/down")), "retries ran out: the caller gets the last response");
        assertEquals(3, server.hits("/down"));
        assertEquals(new Result(200, "hit 2"), send(get("/throttled")), "429 is retried too");
        assertEquals(1, Set.copyOf(server.ports).size(), "one connection throughout: each retried short body was read");
    }

    @Test
    void aRetriedResponseWhoseBodyIsLongOrSlowIsNotReadItsConnectionIsClosed() throws Exception {
        client(retrying(2));
        List<String> paths = List.of("/stall-503-chunked", "/stall-503-long", "/stall-503-short");
        for (String path : paths) {
            long start = System.nanoTime();
            assertEquals(new Result(200, "hit 2"), send(get(path)), path);
            long took = System.nanoTime() - start;
            // the 503's body trickles for 4.5 s: reading it to its end (or to its announced length) would take that long
            assertTrue(took < Duration.ofMillis(2_500).toNanos(), path + " took " + took / 1_000_000 + " ms");
            assertEquals(0, pool.getTotalStats().getLeased(), path + ": no connection stays leased");
        }
        for (int i = 0; i < paths.size(); i++) {
            assertNotEquals(server.ports.get(2 * i), server.ports.get(2 * i + 1),
                    paths.get(i) + ": the retry went on a new connection, the 503's was closed");
        }
    }

    @Test
    void retryAfterIsHonoured() throws Exception {
        client(retrying(2));
        long start = System.nanoTime();
        assertEquals(new Result(200, "hit 2"), send(get("/later")));
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(900).toNanos(), "waited the server's 1 s");
    }

    @Test
    void postIsRetriedOnlyWhenThePolicySaysSo() throws Exception {
        client(retrying(3));
        HttpPost post = new HttpPost(server.uri("/flaky"));
        post.setEntity(new StringEntity("order", ContentType.TEXT_PLAIN));
        assertEquals(503, send(post).status());
        assertEquals(1, server.hits("/flaky"));
        http.close(CloseMode.IMMEDIATE);
        client(HttpPolicy.builder("apache").retry(3, Backoff.fixed(Duration.ofMillis(1))).retryNonIdempotent().build());
        assertEquals(new Result(200, "hit 3"), send(post));
        assertEquals(3, server.hits("/flaky"));
        assertEquals(List.of("order", "order"), server.bodies.subList(1, 3), "the body went each time");
    }

    /** A POST whose body is a stream: it cannot be sent twice. */
    private HttpPost postOnce(String path) {
        HttpPost post = new HttpPost(server.uri(path));
        post.setEntity(new InputStreamEntity(new ByteArrayInputStream("once".getBytes(StandardCharsets.UTF_8)),
                ContentType.TEXT_PLAIN));
        return post;
    }

    @Test
    void aBodyThatCannotBeSentTwiceGetsOneAttemptAndItsOutcomeCountedByTheBreaker() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("apache").isSuccessful(e -> !HttpPolicy.isFailure(e)).build();
        client(HttpPolicy.builder("apache").retry(3, Backoff.fixed(Duration.ofMillis(1))).retryNonIdempotent()
                .circuitBreaker(breaker).build());
        assertEquals(new Result(503, "hit 1"), send(postOnce("/down")));
        assertEquals(1, server.hits("/down"));
        IOException e = assertThrows(IOException.class, () -> send(postOnce("/drop-once")));
        assertFalse(e instanceof InterruptedIOException, "the I/O error reaches the caller unchanged: " + e);
        assertEquals(1, server.hits("/drop-once"));
        assertEquals(2, breaker.counts().totalFailures(), "the 503 and the I/O error are failures: " + breaker.counts());
        assertEquals(0, breaker.counts().totalSuccesses(), breaker.counts().toString());
    }

    @Test
    void aRetryAddedToThePolicyRetriesButNeverResendsABodyThatCannotBeSentTwice() throws Exception {
        Retry added = Retry.builder("added").maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(1)))
                .retryOn(HttpPolicy::isRetryable).build();
        client(HttpPolicy.builder("apache").add(added).build());
        assertEquals(new Result(200, "hit 3"), send(get("/flaky")), "retried, each retried response freed");
        assertEquals(new Result(503, "hit 1"), send(postOnce("/down")));
        assertEquals(1, server.hits("/down"), "one attempt: the stream was sent once");
        assertEquals("once", server.bodies.get(server.bodies.size() - 1), "and whole");
    }

    @Test
    void anIoFailureIsRetried() throws Exception {
        client(retrying(2));
        assertEquals(new Result(200, "hit 2"), send(get("/drop-once")));
        assertEquals(2, server.hits("/drop-once"));
    }

    @Test
    void theCallersDeadlineAbortsASlowExchangePromptly() throws Exception {
        client(retrying(3));
        long start = System.nanoTime();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(300)); Scope s = h.attach()) {
            assertThrows(DeadlineExceededException.class, () -> send(get("/slow")));
        }
        assertTrue(System.nanoTime() - start < Duration.ofMillis(1_500).toNanos(), "did not wait for the 2 s answer");
        assertEquals(1, server.hits("/slow"), "the caller's deadline is not retried");
        assertEquals(new Result(200, "hit 1"), send(get("/ok")), "the aborted connection's slot is free again");
    }

    @Test
    void thePerAttemptTimeoutCutsASlowAttemptAndTheRetryAnswers() throws Exception {
        client(HttpPolicy.builder("apache").retry(2, Backoff.fixed(Duration.ofMillis(1)))
                .timeout(Duration.ofSeconds(1)).build());
        long start = System.nanoTime();
        assertEquals(new Result(200, "hit 2"), send(get("/slow-once")));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "did not wait for the slow attempt (10 s)");
        long first = DeadlineHeaders.parseGrpcTimeout(server.deadlines.get(0));
        assertTrue(first > 0 && first <= Duration.ofSeconds(1).toNanos(), "each attempt's own deadline went out");
        client(HttpPolicy.builder("apache").timeout(Duration.ofMillis(300)).build());
        assertThrows(TimeoutExceededException.class, () -> send(get("/slow")));
    }

    @Test
    void eachAttemptsRequestConfigIsBoundedAndTheCallersIsRestored() throws Exception {
        RequestConfig own = RequestConfig.custom().setResponseTimeout(Timeout.ofSeconds(30))
                .setConnectionRequestTimeout(Timeout.ofMilliseconds(100)).build();
        RequestConfig bounded = Attempts.bounded(own, Duration.ofMillis(250).toNanos());
        assertEquals(Timeout.ofMilliseconds(251), bounded.getResponseTimeout(), "1 ms of slack: none fires early");
        assertEquals(Timeout.ofMilliseconds(100), bounded.getConnectionRequestTimeout(), "a shorter one is kept");
        assertSame(own, Attempts.bounded(own, Duration.ofMinutes(5).toNanos()), "nothing longer: nothing new");
        assertEquals(Timeout.ofMilliseconds(2), Attempts.bounded(own, 1).getResponseTimeout(),
                "rounded up, plus the slack: never zero, which would mean no timeout at all");
        RequestConfig pooled = RequestConfig.custom().setConnectionRequestTimeout(Timeout.ofSeconds(30)).build();
        assertEquals(Timeout.ofMilliseconds(251), Attempts.bounded(pooled, Duration.ofMillis(250).toNanos())
                .getConnectionRequestTimeout(), "the pool's wait counts wall-clock ms: it gets the slack too");
        assertNull(Attempts.bounded(RequestConfig.DEFAULT, 1).getResponseTimeout(),
                "an unset timeout stays unset: the connection manager's may be shorter");
        RequestConfig none = RequestConfig.custom().setResponseTimeout(Timeout.DISABLED).build();
        assertEquals(Timeout.ofMilliseconds(251), Attempts.bounded(none, Duration.ofMillis(250).toNanos())
                .getResponseTimeout(), "no timeout at all is bounded too");
        assertEquals(Timeout.ofMilliseconds(Long.MAX_VALUE / 1_000_000L + 2), Attempts.bounded(none, Long.MAX_VALUE)
                .getResponseTimeout(), "the farthest deadline does not wrap");

        client(HttpPolicy.none());
        HttpClientContext context = HttpClientContext.create();
        context.setRequestConfig(own);
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            assertEquals(200, send(get("/ok"), context).status());
        }
        assertSame(own, context.getRequestConfig(), "the caller's configuration is back");
    }

    @Test
    void anOpenBreakerKeepsRequestsFromTheServer() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("apache").build();
        client(HttpPolicy.builder("apache").circuitBreaker(breaker).build());
        for (int i = 0; i < 6; i++) {
            assertEquals(503, send(get("/down")).status());
        }
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertThrows(CallNotPermittedException.class, () -> send(get("/down")));
        assertEquals(6, server.hits("/down"), "the refused request never left");
    }

    @Test
    void theClientsOwnRetriesAreOffSoAttemptsAreNotDoubled() throws Exception {
        // The client's own retries, made quick, on: install() turns them off all the same.
        http = ResilienceExecHandler.install(HttpClients.custom().setConnectionManager(pool)
                .setConnectionManagerShared(true).setRetryStrategy(ResilienceAsyncExecHandlerTest.quickRetries()),
                retrying(3)).build();
        assertEquals(503, send(get("/down")).status());
        assertEquals(3, server.hits("/down"), "three attempts, each sent once");
        http.close(CloseMode.IMMEDIATE);
        // Added by hand without turning the client's retries off: each attempt is retried again below.
        http = HttpClients.custom().setConnectionManager(pool).setConnectionManagerShared(true)
                .setRetryStrategy(ResilienceAsyncExecHandlerTest.quickRetries())
                .addExecInterceptorFirst(ResilienceExecHandler.NAME, ResilienceExecHandler.of(retrying(3))).build();
        assertEquals(503, send(get("/down")).status());
        assertEquals(6, server.hits("/down") - 3, "doubled");
    }

    @Test
    void abortingTheRequestAbortsTheAttemptStartsNoOtherAndIsNotABreakerFailure() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("apache").build(); // by default every exception is a failure
        client(HttpPolicy.builder("apache").retry(3, Backoff.fixed(Duration.ofMillis(1))).circuitBreaker(breaker)
                .build());
        HttpGet slow = get("/slow");
        Thread aborter = new Thread(() -> {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (server.hits("/slow") == 0 && System.nanoTime() < until) {
                LockSupport.parkNanos(1_000_000L); // a poll with a bound: the request reached the server
            }
            slow.cancel();
        });
        aborter.start();
        long start = System.nanoTime();
        assertThrows(IOException.class, () -> send(slow));
        aborter.join();
        assertTrue(System.nanoTime() - start < Duration.ofMillis(1_500).toNanos(), "did not wait for the 2 s answer");
        assertEquals(1, server.hits("/slow"), "no retry after the caller aborted");
        assertEquals(0, breaker.counts().totalFailures(), "the caller stopping says nothing of the server");
        assertEquals(1, breaker.counts().totalExclusions(), breaker.counts().toString());
        assertFalse(Thread.currentThread().isInterrupted(), "nobody interrupted the caller");
    }

    @Test
    void abortingTheRequestDuringABackoffEndsItAtOnce() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("apache").build();
        java.util.concurrent.CountDownLatch backingOff = new java.util.concurrent.CountDownLatch(1);
        client(HttpPolicy.builder("apache").retry(3, Backoff.fixed(Duration.ofMillis(1))).circuitBreaker(breaker)
                .retryListener(new dev.resilience.core.RetryListener() {
                    @Override
                    public void onRetry(dev.resilience.core.Retry retry, int attempt, long delayNanos, Throwable failure) {
                        backingOff.countDown(); // the 503 is back and its 5 s Retry-After is the backoff
                    }
                }).build());
        HttpGet later = get("/much-later"); // 503 with Retry-After: 5
        long[] abortedAt = new long[1];
        Thread aborter = new Thread(() -> {
            try {
                backingOff.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            abortedAt[0] = System.nanoTime();
            later.cancel();
        });
        aborter.start();
        java.io.InterruptedIOException e = assertThrows(java.io.InterruptedIOException.class, () -> send(later));
        long ended = System.nanoTime();
        aborter.join();
        assertEquals("Request aborted", e.getMessage());
        assertTrue(ended - abortedAt[0] < Duration.ofSeconds(2).toNanos(),
                "ended with the abort, not 5 s later: " + (ended - abortedAt[0]) / 1_000_000 + " ms");
        assertEquals(1, server.hits("/much-later"), "no retry after the caller aborted");
        assertEquals(1, breaker.counts().totalFailures(), "the 503 only: the abort says nothing of the server");
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void abortingTheRequestOnceItsResponseIsTheCallersAbortsReadingTheBody() throws Exception {
        client(retrying(3));
        HttpGet trickle = get("/trickle"); // "first ", then the rest 2 s later
        long[] afterAbort = new long[1];
        IOException failure = http.execute(trickle, HttpClientContext.create(), r -> {
            java.io.InputStream in = r.getEntity().getContent();
            assertEquals("first ", new String(in.readNBytes(6), StandardCharsets.UTF_8));
            trickle.cancel(); // as a watchdog aborts a long download, with the plain client
            long start = System.nanoTime();
            try {
                in.readAllBytes();
                return null;
            } catch (IOException e) {
                return e;
            } finally {
                afterAbort[0] = System.nanoTime() - start;
            }
        });
        assertTrue(failure != null, "the body's exchange was aborted, not read on to its end");
        assertTrue(afterAbort[0] < Duration.ofMillis(1_500).toNanos(), "at once, not after the 2 s rest of the body");
    }

    @Test
    void aContextAlreadyDoneSendsNothing() throws Exception {
        client(retrying(3));
        CancelHandle h = Context.background().withCancel();
        h.cancel();
        try (Scope s = h.context().attach()) {
            assertThrows(ContextCancelledException.class, () -> send(get("/ok")));
        }
        assertEquals(0, server.hits("/ok"));
    }

    @Test
    void theHandlerExposesItsPolicyAndChecksItsArguments() {
        HttpPolicy policy = retrying(2);
        assertSame(policy, ResilienceExecHandler.of(policy).policy());
        assertThrows(NullPointerException.class, () -> ResilienceExecHandler.of(null));
        assertThrows(NullPointerException.class, () -> ResilienceExecHandler.install(null, policy));
        URI unused = server.uri("/");
        assertTrue(unused.getPort() > 0);
    }
}
