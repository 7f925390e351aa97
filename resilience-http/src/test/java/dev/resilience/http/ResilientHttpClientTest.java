package dev.resilience.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.core.Backoff;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Fallback;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryListener;
import dev.resilience.core.Timeout;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.core.TimeoutListener;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against a real JDK HttpServer on loopback that fails, throttles and records deadline headers. */
class ResilientHttpClientTest {

    private HttpServer server;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final List<String> deadlines = new CopyOnWriteArrayList<>();
    /** Counted down when a request reaches /slow, before its handler sleeps. */
    private final java.util.concurrent.CountDownLatch slowArrived = new java.util.concurrent.CountDownLatch(1);
    private final HttpClient http = HttpClient.newHttpClient();
    private URI base;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool()); // a slow request must not hold up the next
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** /ok, /flaky (503 + Retry-After: 0 twice, then 200), /down (always 503), /throttled (429 once). */
    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        int n = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        deadlines.add(String.valueOf(exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT)));
        int status;
        switch (path) {
            case "/flaky":
                status = n <= 2 ? 503 : 200;
                break;
            case "/down":
                status = 503;
                break;
            case "/throttled":
                status = n <= 1 ? 429 : 200;
                break;
            case "/slow-once":
                if (n == 1) {
                    pause(10_000); // the first attempt is slow (far over a stall of this machine); the retry is not
                }
                status = 200;
                break;
            case "/far-future":
                status = 503;
                exchange.getResponseHeaders().add("Retry-After", DateTimeFormatter.RFC_1123_DATE_TIME.format(
                        ZonedDateTime.now(ZoneOffset.UTC).plusYears(500)));
                break;
            case "/slow":
                slowArrived.countDown();
                try {
                    Thread.sleep(2_000); // the simulated slow dependency, not a test waiting
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                status = 200;
                break;
            default:
                status = 200;
        }
        if (status != 200 && !exchange.getResponseHeaders().containsKey("Retry-After")) {
            exchange.getResponseHeaders().add("Retry-After", "0");
        }
        byte[] body = ("hit " + n).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    /** The simulated dependency's own slowness, not a test waiting for a condition. */
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private HttpRequest get(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).build();
    }

    private ResilientHttpClient retrying() {
        return ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1))).build();
    }

    @Test
    void retriesFailingStatusesUntilSuccess() throws Exception {
        HttpResponse<String> r = retrying().send(get("/flaky"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("hit 3", r.body());
        assertEquals(3, hits.get("/flaky").get());
        HttpResponse<String> t = retrying().send(get("/throttled"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, t.statusCode(), "429 is retried after its Retry-After");
    }

    @Test
    void whenRetriesRunOutTheCallerGetsTheLastResponse() throws Exception {
        HttpResponse<String> r = retrying().send(get("/down"), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
        assertEquals("hit 3", r.body());
    }

    @Test
    void nonIdempotentMethodsAreNotRetriedUnlessAsked() throws Exception {
        HttpRequest post = HttpRequest.newBuilder(base.resolve("/flaky")).POST(HttpRequest.BodyPublishers.noBody())
                .build();
        assertEquals(503, retrying().send(post, HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(1, hits.get("/flaky").get());
        ResilientHttpClient bold = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .retryNonIdempotent().build();
        assertEquals(200, bold.send(post, HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void deadlineTravelsAsGrpcTimeoutAndRequestTimeout() throws Exception {
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            retrying().send(get("/ok"), HttpResponse.BodyHandlers.ofString());
        }
        long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
        assertTrue(sent > 0 && sent <= Duration.ofSeconds(2).toNanos(), deadlines.get(0));
        retrying().send(get("/ok"), HttpResponse.BodyHandlers.ofString());
        assertEquals("null", deadlines.get(1), "no deadline, no header");
    }

    @Test
    void cancellingTheCallersContextCancelsTheAsyncExchangeInFlight() throws Exception {
        ResilientHttpClient client = ResilientHttpClient.builder(http)
                .retry(3, Backoff.fixed(Duration.ZERO)).build(); // no deadline anywhere: only the cancel can end it
        java.util.concurrent.ScheduledExecutorService canceller = Executors.newSingleThreadScheduledExecutor();
        try {
            CancelHandle h2 = Context.background().withCancel();
            java.util.concurrent.CompletableFuture<HttpResponse<String>> f;
            try (Scope s = h2.attach()) {
                f = client.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString());
            }
            // cancelled once the exchange is in flight at the server (not after a fixed delay, which a
            // stalled machine could outrun before the request even arrived)
            assertTrue(slowArrived.await(5, TimeUnit.SECONDS), "the request reached the server");
            long start2 = System.nanoTime();
            canceller.execute(h2::cancel);
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> f.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof dev.resilience.context.ContextCancelledException, String.valueOf(e.getCause()));
            assertTrue(System.nanoTime() - start2 < Duration.ofMillis(1500).toNanos(), "async: did not wait either");
            assertEquals(1, hits.get("/slow").get(), "the caller's end is not retried");
        } finally {
            canceller.shutdownNow();
        }
    }

    @Test
    void cancellingTheReturnedFutureFreesTheSlotAtOnce() throws Exception {
        dev.resilience.core.Bulkhead bulkhead = dev.resilience.core.Bulkhead.builder("one").maxConcurrent(1).build();
        ResilientHttpClient client = ResilientHttpClient.builder(http).bulkhead(bulkhead).build(); // no context, no deadline
        java.util.concurrent.CompletableFuture<HttpResponse<String>> f =
                client.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString());
        assertTrue(slowArrived.await(5, TimeUnit.SECONDS), "the request reached the server");
        assertEquals(1, bulkhead.inUse());
        assertTrue(f.cancel(false));
        // the slot comes back with the cancel, not when the 2 s answer arrives
        assertEquals(0, bulkhead.inUse(), "the slot came back at once");
        assertEquals(200, client.sendAsync(get("/ok"), HttpResponse.BodyHandlers.ofString())
                .get(5, TimeUnit.SECONDS).statusCode(), "the one slot is free for the next request");
    }

    @Test
    void endingTheReturnedFutureDuringABackoffEndsTheRetries() throws Exception {
        for (String how : List.of("cancel", "complete", "fail")) {
            hits.clear();
            // a client of its own each time: no connection of an exchange an earlier round aborted
            HttpClient own = HttpClient.newHttpClient();
            ResilientHttpClient client = ResilientHttpClient.builder(own).retry(5, Backoff.fixed(Duration.ofMillis(200)))
                    .build();
            java.util.concurrent.CompletableFuture<HttpResponse<String>> f =
                    client.sendAsync(get("/down"), HttpResponse.BodyHandlers.ofString());
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (hits.getOrDefault("/down", new AtomicInteger()).get() < 1 && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            boolean ended = how.equals("cancel") ? f.cancel(false)
                    : how.equals("complete") ? f.complete(null) // as completeOnTimeout does
                    : f.completeExceptionally(new java.util.concurrent.TimeoutException("as orTimeout does"));
            assertTrue(ended, how + ": the future was done already: " + f);
            int seen = hits.get("/down").get();
            pause(700); // three more backoffs' worth: a retry that went on would have reached the server by now
            assertTrue(hits.get("/down").get() <= seen + 1, how + ": at most the attempt already on its way: "
                    + hits.get("/down"));
        }
    }

    @Test
    void slowServerIsCutOffAtTheTimeout() {
        // 500 ms: time for the request to reach the server (its header is checked) on a stalled machine
        ResilientHttpClient client = ResilientHttpClient.builder(http).timeout(Duration.ofMillis(500)).build();
        long start = System.nanoTime();
        assertThrows(TimeoutExceededException.class, () -> client.send(get("/slow"), HttpResponse.BodyHandlers.ofString()));
        assertTrue(System.nanoTime() - start < Duration.ofMillis(1500).toNanos(), "did not wait for the 2 s response");
        long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
        assertTrue(sent > 0 && sent <= Duration.ofMillis(500).toNanos(), "the attempt's deadline went downstream");
    }

    @Test
    void theTimeoutIsReportedAsOursNotAsTheJdksEveryTime() {
        // The JDK's client fires its timers on whole milliseconds, truncating, so a request timeout equal
        // to the remaining deadline could end the send up to 1 ms before the deadline passed: the caller
        // then saw the JDK's HttpTimeoutException, not the policy's (a CI run failed on it).
        // Many short timeouts make each sub-millisecond phase likely.
        ResilientHttpClient client = ResilientHttpClient.builder(http).timeout(Duration.ofMillis(20)).build();
        for (int i = 0; i < 40; i++) {
            TimeoutExceededException e = assertThrows(TimeoutExceededException.class,
                    () -> client.send(get("/slow"), HttpResponse.BodyHandlers.ofString()), "attempt " + i);
            assertTrue(e.getCause() instanceof java.net.http.HttpTimeoutException, "the JDK's own end is the cause: " + e.getCause());
            java.util.concurrent.ExecutionException async = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> client.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString()).get(5, TimeUnit.SECONDS));
            assertTrue(async.getCause() instanceof TimeoutExceededException, "async attempt " + i + ": " + async.getCause());
        }
    }

    @Test
    void breakerOpensOnFailingStatusesAndRefuses() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("http").build();
        ResilientHttpClient guarded = ResilientHttpClient.builder(http).circuitBreaker(breaker).build();
        for (int i = 0; i < 6; i++) {
            assertEquals(503, guarded.send(get("/down"), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertThrows(CallNotPermittedException.class, () -> guarded.send(get("/down"), HttpResponse.BodyHandlers.ofString()));
        assertEquals(6, hits.get("/down").get(), "the refused request never left");
    }

    @Test
    void whenTheBreakerTheFailuresOpenedRefusesTheNextRetryTheCallerGetsTheServersAnswer() throws Exception {
        for (boolean async : new boolean[] {false, true}) {
            hits.clear();
            CircuitBreaker breaker = CircuitBreaker.builder("opens-after-two").consecutiveFailures(2).build();
            ResilientHttpClient client = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                    .circuitBreaker(breaker).build();
            HttpResponse<String> r = async
                    ? client.sendAsync(get("/down"), HttpResponse.BodyHandlers.ofString()).get(5, TimeUnit.SECONDS)
                    : client.send(get("/down"), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, r.statusCode(), "async " + async + ": the server's answer, not the refusal of attempt 3");
            assertEquals("hit 2", r.body());
            assertEquals(2, hits.get("/down").get(), "the third attempt was refused: never sent");
            assertEquals(CircuitBreaker.State.OPEN, breaker.state());
            // the next call has no answer of its own: it gets the refusal
            assertThrows(CallNotPermittedException.class, () -> client.send(get("/down"), HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void asyncSendRetriesToo() throws Exception {
        HttpResponse<String> r = retrying().sendAsync(get("/flaky"), HttpResponse.BodyHandlers.ofString()).get();
        assertEquals(200, r.statusCode());
        assertEquals(3, hits.get("/flaky").get());
        assertEquals(503, retrying().sendAsync(get("/down"), HttpResponse.BodyHandlers.ofString()).get().statusCode());
    }

    @Test
    void retryAfterParsesSecondsAndHttpDates() {
        assertEquals(Duration.ofSeconds(5), ResilientHttpClient.retryAfter(response("5")).orElseThrow());
        String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
        Duration d = ResilientHttpClient.retryAfter(response(inTenSeconds)).orElseThrow();
        assertTrue(d.compareTo(Duration.ofSeconds(8)) > 0 && d.compareTo(Duration.ofSeconds(11)) < 0, d.toString());
        assertTrue(ResilientHttpClient.retryAfter(response("soon")).isEmpty());
        assertTrue(ResilientHttpClient.retryAfter(response("-3")).isEmpty());
        assertTrue(ResilientHttpClient.retryAfter(response("")).isEmpty());
    }

    @Test
    void bothRetryAfterFormsAreCappedAtOneDay() {
        Instant now = Instant.parse("2026-11-30T00:00:00Z");
        Duration day = Duration.ofSeconds(86_400);
        assertEquals(day, HttpPolicy.retryAfter("86401", now).orElseThrow());
        assertEquals(day, HttpPolicy.retryAfter("99999999999999999999999", now).orElseThrow(), "no overflow");
        assertEquals(Duration.ofSeconds(5), HttpPolicy.retryAfter("0000005", now).orElseThrow(), "leading zeros");
        String farFuture = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plus(Duration.ofDays(500 * 365)).atZone(ZoneOffset.UTC));
        assertEquals(day, HttpPolicy.retryAfter(farFuture, now).orElseThrow());
        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.minusSeconds(60).atZone(ZoneOffset.UTC));
        assertEquals(Duration.ZERO, HttpPolicy.retryAfter(past, now).orElseThrow());
        assertEquals(Duration.ofSeconds(90), HttpPolicy.retryAfter(
                DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(90).atZone(ZoneOffset.UTC)), now).orElseThrow());
    }

    @Test
    void aHostileRetryAfterDateEndsTheRetriesInsteadOfSleeping() throws Exception {
        List<RetryListener.GiveUp> gaveUp = new CopyOnWriteArrayList<>();
        ResilientHttpClient client = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .retryListener(new RetryListener() {
                    @Override
                    public void onGiveUp(Retry retry, int attempts, GiveUp reason) {
                        gaveUp.add(reason);
                    }
                }).build();
        long start = System.nanoTime();
        HttpResponse<String> r = client.send(get("/far-future"), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode(), "the caller gets the server's answer");
        assertEquals(1, hits.get("/far-future").get());
        assertEquals(List.of(RetryListener.GiveUp.DELAY_TOO_LONG), gaveUp);
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
        // async too
        assertEquals(503, client.sendAsync(get("/far-future"), HttpResponse.BodyHandlers.ofString())
                .get(5, TimeUnit.SECONDS).statusCode());
        // a longer maxRetryDelay still never sleeps past the context's deadline
        ResilientHttpClient patient = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .maxRetryDelay(Duration.ofDays(2)).build();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = h.attach()) {
            assertEquals(503, patient.send(get("/far-future"), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
    }

    @Test
    void aSlowAttemptIsRetriedAndTheSecondSucceeds() throws Exception {
        ResilientHttpClient client = ResilientHttpClient.builder(http).retry(2, Backoff.fixed(Duration.ofMillis(1)))
                .timeout(Duration.ofSeconds(1)).build();
        long start = System.nanoTime();
        HttpResponse<String> r = client.send(get("/slow-once"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("hit 2", r.body());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "did not wait for the slow attempt");
    }

    @Test
    void aSlowAsyncAttemptIsRetriedToo() throws Exception {
        ResilientHttpClient client = ResilientHttpClient.builder(http).retry(2, Backoff.fixed(Duration.ofMillis(1)))
                .timeout(Duration.ofSeconds(1)).build();
        HttpResponse<String> r = client.sendAsync(get("/slow-once"), HttpResponse.BodyHandlers.ofString())
                .get(5, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals(2, hits.get("/slow-once").get());
    }

    @Test
    void retryAndTimeoutEventsReachTheirListeners() throws Exception {
        List<Throwable> retried = new CopyOnWriteArrayList<>();
        List<Timeout> timedOut = new CopyOnWriteArrayList<>();
        ResilientHttpClient client = ResilientHttpClient.builder(http).name("payments")
                .retry(3, Backoff.fixed(Duration.ofMillis(1))).timeout(Duration.ofSeconds(1))
                .retryListener(new RetryListener() {
                    @Override
                    public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                        retried.add(failure);
                    }
                })
                .timeoutListener(new TimeoutListener() {
                    @Override
                    public void onTimeout(Timeout timeout) {
                        timedOut.add(timeout);
                    }
                }).build();
        assertEquals(200, client.send(get("/slow-once"), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(1, retried.size());
        assertTrue(retried.get(0) instanceof TimeoutExceededException, String.valueOf(retried.get(0)));
        assertEquals(1, timedOut.size());
        assertEquals("payments", timedOut.get(0).name());
        assertEquals(client.timeout().orElseThrow(), timedOut.get(0));
        assertEquals("payments", client.retry().orElseThrow().name());
        assertEquals(200, client.send(get("/flaky"), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(3, retried.size(), "two 503s retried");
        assertTrue(retried.get(1) instanceof HttpStatusException);
    }

    @Test
    void theClientsOwnLimiterAndBulkheadNeverCountAsBreakerFailures() throws Exception {
        CircuitBreaker breaker = CircuitBreaker.builder("http").build();
        RateLimiter limiter = RateLimiter.builder("http").interval(Duration.ofHours(1)).burst(1)
                .maxWait(Duration.ZERO).build();
        Bulkhead bulkhead = Bulkhead.builder("http").maxConcurrent(1).maxWait(Duration.ZERO).build();
        ResilientHttpClient client = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .circuitBreaker(breaker).rateLimiter(limiter).bulkhead(bulkhead).build();
        assertEquals(200, client.send(get("/ok"), HttpResponse.BodyHandlers.ofString()).statusCode());
        for (int i = 0; i < 10; i++) {
            assertThrows(RequestNotPermittedException.class, () -> client.send(get("/ok"), HttpResponse.BodyHandlers.ofString()));
        }
        assertEquals(0, breaker.counts().totalFailures(), breaker.counts().toString());
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());

        ResilientHttpClient crowded = ResilientHttpClient.builder(http).circuitBreaker(breaker).bulkhead(bulkhead).build();
        dev.resilience.core.Permit held = bulkhead.tryAcquire();
        assertTrue(held.isPermitted(), "another caller holds the only slot");
        try {
            for (int i = 0; i < 10; i++) {
                assertThrows(RequestNotPermittedException.class,
                        () -> crowded.send(get("/ok"), HttpResponse.BodyHandlers.ofString()));
            }
        } finally {
            held.release();
        }
        assertEquals(0, breaker.counts().totalFailures(), breaker.counts().toString());
        assertEquals(0, breaker.counts().consecutiveFailures());
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertEquals(1, hits.get("/ok").get(), "refused requests never left");
    }

    @Test
    void addingToTheDefaultExclusionsKeepsThem() {
        CircuitBreaker breaker = CircuitBreaker.builder("b")
                .isExcluded(CircuitBreaker.defaultExclusions().or(e -> e instanceof IllegalArgumentException)).build();
        for (int i = 0; i < 10; i++) {
            assertThrows(IllegalArgumentException.class, () -> breaker.call(() -> {
                throw new IllegalArgumentException("a client error");
            }));
            assertThrows(InterruptedException.class, () -> breaker.call(() -> {
                throw new InterruptedException("the caller left");
            }));
        }
        assertEquals(0, breaker.counts().totalFailures());
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void aFallbackCanReplaceAFinalFailingStatus() throws Exception {
        ResilientHttpClient client = ResilientHttpClient.builder(http).retry(2, Backoff.fixed(Duration.ofMillis(1)))
                .throwOnFailingStatus().build();
        ResilientHttpClient patient = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .throwOnFailingStatus().build();
        List<Integer> seen = new CopyOnWriteArrayList<>();
        Fallback<String> cached = Fallback.<String>on(HttpStatusException.class, IOException.class).to(e -> {
            seen.add(((HttpStatusException) e).statusCode());
            return "cached";
        });
        assertEquals("cached", cached.call(() -> client.send(get("/down"), HttpResponse.BodyHandlers.ofString()).body()));
        assertEquals(List.of(503), seen);
        assertEquals(2, hits.get("/down").get(), "retried first, then fell back");
        assertEquals("cached", cached.callAsync(() -> client.sendAsync(get("/down"), HttpResponse.BodyHandlers.ofString())
                .thenApply(HttpResponse::body)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals("hit 3", cached.call(() -> patient.send(get("/flaky"), HttpResponse.BodyHandlers.ofString()).body()),
                "a success is not replaced");
    }

    @Test
    void theSmallerOfTheRequestTimeoutAndTheDeadlineWins() throws Exception {
        ResilientHttpClient client = ResilientHttpClient.builder(http).build();
        HttpRequest shortRequest = HttpRequest.newBuilder(base.resolve("/ok")).timeout(Duration.ofMillis(300)).build();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(30)); Scope s = h.attach()) {
            client.send(shortRequest, HttpResponse.BodyHandlers.ofString());
        }
        long sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(0));
        assertTrue(sent > 0 && sent <= Duration.ofMillis(300).toNanos(), "the request's 300 ms: " + deadlines.get(0));
        HttpRequest longRequest = HttpRequest.newBuilder(base.resolve("/ok")).timeout(Duration.ofSeconds(30)).build();
        try (CancelHandle h = Context.background().withTimeout(Duration.ofMillis(400)); Scope s = h.attach()) {
            client.send(longRequest, HttpResponse.BodyHandlers.ofString());
        }
        sent = DeadlineHeaders.parseGrpcTimeout(deadlines.get(1));
        assertTrue(sent > 0 && sent <= Duration.ofMillis(400).toNanos(), "the deadline's 400 ms: " + deadlines.get(1));
    }

    @Test
    void throwingListenersOfTheClientChangeNothing() throws Exception {
        ResilientHttpClient client = ResilientHttpClient.builder(http).retry(3, Backoff.fixed(Duration.ofMillis(1)))
                .timeout(Duration.ofSeconds(1))
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
                }).build();
        assertEquals("hit 2", client.send(get("/slow-once"), HttpResponse.BodyHandlers.ofString()).body(),
                "timed out, retried, answered");
        assertEquals(503, client.send(get("/down"), HttpResponse.BodyHandlers.ofString()).statusCode(), "gave up as usual");
        assertEquals(503, client.sendAsync(get("/down"), HttpResponse.BodyHandlers.ofString()).get(5, TimeUnit.SECONDS)
                .statusCode());
    }

    @Test
    void theBodyOfARetriedResponseIsClosed() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        HttpResponse.BodyHandler<java.io.InputStream> tracking = info -> HttpResponse.BodySubscribers.mapping(
                HttpResponse.BodySubscribers.ofInputStream(), in -> new java.io.FilterInputStream(in) {
                    @Override
                    public void close() throws IOException {
                        closed.incrementAndGet();
                        super.close();
                    }
                });
        HttpResponse<java.io.InputStream> r = retrying().send(get("/flaky"), tracking);
        assertEquals(200, r.statusCode());
        assertEquals(2, closed.get(), "the two 503s that were retried gave their connections back");
        try (java.io.InputStream body = r.body()) {
            assertEquals("hit 3", new String(body.readAllBytes(), StandardCharsets.UTF_8), "the caller's body is open");
        }
    }

    @Test
    void theBodyPublisherOfARetriedResponseIsCancelled() throws Exception {
        // BodyHandlers.ofPublisher(): a body nobody subscribes to keeps its connection
        AtomicInteger cancelled = new AtomicInteger();
        HttpResponse.BodyHandler<java.util.concurrent.Flow.Publisher<List<java.nio.ByteBuffer>>> tracking =
                info -> HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofPublisher(),
                        publisher -> subscriber -> publisher.subscribe(new java.util.concurrent.Flow.Subscriber<>() {
                            @Override
                            public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
                                subscriber.onSubscribe(new java.util.concurrent.Flow.Subscription() {
                                    @Override
                                    public void request(long n) {
                                        subscription.request(n);
                                    }

                                    @Override
                                    public void cancel() {
                                        cancelled.incrementAndGet();
                                        subscription.cancel();
                                    }
                                });
                            }

                            @Override
                            public void onNext(List<java.nio.ByteBuffer> item) {
                                subscriber.onNext(item);
                            }

                            @Override
                            public void onError(Throwable throwable) {
                                subscriber.onError(throwable);
                            }

                            @Override
                            public void onComplete() {
                                subscriber.onComplete();
                            }
                        }));
        HttpResponse<java.util.concurrent.Flow.Publisher<List<java.nio.ByteBuffer>>> r = retrying().send(get("/flaky"), tracking);
        assertEquals(200, r.statusCode());
        assertEquals(2, cancelled.get(), "the two 503s that were retried had their bodies dropped");
        java.util.concurrent.CompletableFuture<String> body = new java.util.concurrent.CompletableFuture<>();
        HttpResponse.BodySubscriber<String> reader = HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
        r.body().subscribe(reader);
        reader.getBody().whenComplete((v, e) -> body.complete(e == null ? v : e.toString()));
        assertEquals("hit 3", body.get(5, TimeUnit.SECONDS), "the caller's body is untouched");
        assertEquals(2, cancelled.get());
    }

    @Test
    void aTypedRetryAroundAPlainClientUsesTheSameRetryAfterParsing() throws Exception {
        Retry retry = Retry.builder("plain").maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(1)))
                .retryOnResult(HttpResponse.class, r -> r.statusCode() == 503)
                .delayHint(HttpResponse.class, (r, e) -> r == null ? null : ResilientHttpClient.retryAfter(r).orElse(null))
                .build();
        HttpResponse<?> r = retry.call(() -> http.send(get("/flaky"), HttpResponse.BodyHandlers.ofString()));
        assertEquals(200, r.statusCode());
        assertEquals(3, hits.get("/flaky").get());
    }

    private static HttpResponse<String> response(String retryAfter) {
        HttpHeaders headers = HttpHeaders.of(Map.of("Retry-After", List.of(retryAfter)), (a, b) -> true);
        return new HttpResponse<>() {
            @Override
            public int statusCode() {
                return 503;
            }

            @Override
            public HttpRequest request() {
                return null;
            }

            @Override
            public java.util.Optional<HttpResponse<String>> previousResponse() {
                return java.util.Optional.empty();
            }

            @Override
            public HttpHeaders headers() {
                return headers;
            }

            @Override
            public String body() {
                return "";
            }

            @Override
            public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
                return java.util.Optional.empty();
            }

            @Override
            public URI uri() {
                return URI.create("http://127.0.0.1/");
            }

            @Override
            public HttpClient.Version version() {
                return HttpClient.Version.HTTP_1_1;
            }
        };
    }
}
