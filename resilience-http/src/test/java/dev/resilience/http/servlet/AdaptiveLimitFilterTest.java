package dev.resilience.http.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;


import dev.resilience.context.Context;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Ticker;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.RawHttp;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;


import org.apache.catalina.Wrapper;

import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The limit filter behind {@link DeadlineFilter} in a real embedded Tomcat 11 on a loopback port.
 * Routes: {@code /a} and {@code /b} (a fixed limit of 2 each), {@code /adapt} (AIMD from 10, halving
 * on a drop or a round trip over 1 s, on a manual ticker the handler advances), {@code /leak} (a
 * fixed limit of 64, for the permit accounting), anything else the default limiter (fixed 2); a
 * classifier sends requests with {@code x-group: b} to the limiter of {@code /b}.
 */
class AdaptiveLimitFilterTest {

    /** Async streams whose writes failed because the client had gone. */
    private static final AtomicInteger STREAM_BROKEN = new AtomicInteger();
    /** What the handlers threw, as the outermost filter caught it. */
    private static final AtomicInteger THROWN = new AtomicInteger();
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @TempDir
    static Path baseDir;
    private static LoopbackTomcat tomcat;
    private static int port;
    private static ExecutorService clients;
    private static ExecutorService asyncWorkers;

    private static final ManualTicker TICKER = new ManualTicker();
    private static final AdaptiveLimiter A = fixed("a", 2);
    private static final AdaptiveLimiter B = fixed("b", 2);
    private static final AdaptiveLimiter DEFAULT = fixed("default", 2);
    private static final AdaptiveLimiter LEAK = fixed("leak", 64);
    private static final AdaptiveLimiter ADAPT = AdaptiveLimiter.builder("adapt")
            .algorithm(LimitAlgorithm.aimd(10, 1, 10, 0.5, Duration.ofSeconds(1))).ticker(TICKER).build();

    /** Handler runs by first path segment. */
    private static final Map<String, AtomicInteger> HANDLED = new ConcurrentHashMap<>();
    /** Requests with {@code hold=1} count down {@code arrived} and wait for {@code release}. */
    private static volatile CountDownLatch arrived = new CountDownLatch(0);
    private static volatile CountDownLatch release = new CountDownLatch(0);

    private static AdaptiveLimiter fixed(String name, int limit) {
        return AdaptiveLimiter.builder(name)
                .algorithm(LimitAlgorithm.aimd(limit, limit, limit, 0.5, Duration.ofHours(1))).build();
    }

    @BeforeAll
    static void startTomcat() throws Exception {
        clients = Executors.newCachedThreadPool();
        asyncWorkers = Executors.newCachedThreadPool();
        tomcat = new LoopbackTomcat(baseDir);
        StandardContext app = tomcat.app;

        Wrapper work = Tomcat.addServlet(app, "work", new WorkServlet());
        work.setAsyncSupported(true);
        for (String path : new String[] {"/a/*", "/b/*", "/adapt/*", "/leak/*", "/other/*"}) {
            app.addServletMapping(path, "work");
        }
        Wrapper async = Tomcat.addServlet(app, "async", new AsyncServlet());
        async.setAsyncSupported(true);
        app.addServletMapping("/leak/async/*", "async");
        app.addServletMapping("/adapt/async/*", "async");

        tomcat.addFilter("catcher", new CatcherFilter(), "REQUEST");
        tomcat.addFilter("deadlines", new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(1)).build()),
                "REQUEST");
        tomcat.addFilter("queue", new QueueFilter(), "REQUEST");
        tomcat.addFilter("limits", AdaptiveLimitFilter.builder()
                .route("/a", A)
                .route("/b/", B)
                .route("/adapt", ADAPT)
                .route("/leak", LEAK)
                .defaultLimiter(DEFAULT)
                .classifier(AdaptiveLimitFilterTest::classify)
                .retryAfter(Duration.ofMillis(1500))
                .build(), "REQUEST", "ASYNC");
        port = tomcat.start();
    }

    @AfterAll
    static void stopTomcat() throws Exception {
        release.countDown();
        for (ExecutorService e : new ExecutorService[] {clients, asyncWorkers}) {
            if (e != null) {
                e.shutdownNow();
                assertTrue(e.awaitTermination(10, TimeUnit.SECONDS));
            }
        }
        if (tomcat != null) {
            tomcat.stop();
        }
    }

    @AfterEach
    void noPermitLeftBehind() {
        release.countDown();
        for (AdaptiveLimiter l : new AdaptiveLimiter[] {A, B, DEFAULT, LEAK, ADAPT}) {
            awaitTrue(() -> l.inFlight() == 0, "every permit of " + l + " came back");
        }
    }

    // ---------------------------------------------------------------- the server side

    /**
     * {@code hold=1}: waits for the test to release it; {@code status=N}: answers N;
     * {@code advance=ms}: advances the limiter's ticker; {@code throw=runtime|io|error|done|wouldpass};
     * {@code wait=deadline}: waits until the request's context is done, then answers 200;
     * {@code throw=done} then throws the context's exception; {@code throw=wouldpass} throws a rate
     * limiter's refusal because a wait would pass the deadline.
     */
    static final class WorkServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            count(req);
            if (req.getParameter("hold") != null) {
                arrived.countDown();
                await(release);
            }
            if (req.getParameter("advance") != null) {
                TICKER.advance(Duration.ofMillis(Long.parseLong(req.getParameter("advance"))));
            }
            if ("deadline".equals(req.getParameter("wait"))) {
                Context.current().waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            }
            String t = req.getParameter("throw");
            if ("runtime".equals(t)) {
                throw new IllegalStateException("provoked");
            } else if ("io".equals(t)) {
                throw new IOException("provoked");
            } else if ("error".equals(t)) {
                throw new AssertionError("provoked");
            } else if ("done".equals(t)) {
                Context.current().throwIfDone();
            } else if ("wouldpass".equals(t)) {
                throw new RequestNotPermittedException("outbound", RequestNotPermittedException.Reason.WOULD_PASS_DEADLINE,
                        "a wait would pass the deadline");
            }
            String status = req.getParameter("status");
            resp.setStatus(status == null ? 200 : Integer.parseInt(status));
            resp.setContentType("text/plain");
            resp.getWriter().write("ok");
        }
    }

    /**
     * Goes asynchronous; {@code mode}: {@code complete} (a worker answers), {@code timeout} (nobody
     * answers within 100 ms), {@code dispatch} (a worker dispatches to {@code /leak/x}, through the
     * filters again), {@code throw} (the servlet throws after starting), {@code stream} (a worker
     * writes until the client has gone).
     */
    static final class AsyncServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
            count(req);
            AsyncContext async = req.startAsync();
            switch (req.getParameter("mode")) {
                case "complete":
                    asyncWorkers.execute(() -> {
                        try {
                            async.getResponse().getWriter().write("async");
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        } finally {
                            async.complete();
                        }
                    });
                    break;
                case "timeout":
                    async.setTimeout(100);
                    break;
                case "dispatch":
                    asyncWorkers.execute(() -> async.dispatch("/leak/dispatched"));
                    break;
                case "throw":
                    throw new IllegalStateException("provoked after startAsync");
                default: // stream
                    // Tomcat 11 does not always tell the listeners of a failed write from this
                    // worker (it writes at once, likely before the dispatch that started the cycle
                    // has returned): in loops of such streams on 2026-12-02 no listener heard of the
                    // error in 2 of 9, 3 of 30 (JDK 25) and 2 of 30 (JDK 17) tries. Then the async
                    // timeout ends the cycle, and the permit comes back with it (after 20 s with the
                    // timeout this test had before; benchmarks/runs/2026-12-02-tomcat-early-disconnect-probe.txt).
                    async.setTimeout(2_000);
                    asyncWorkers.execute(() -> {
                        try {
                            ServletOutputStream out = async.getResponse().getOutputStream();
                            byte[] chunk = new byte[8192];
                            for (int i = 0; i < 10_000; i++) { // 80 MB: far more than loopback buffers hold
                                out.write(chunk);
                                out.flush();
                            }
                            async.complete();
                        } catch (IOException clientGone) {
                            STREAM_BROKEN.incrementAndGet(); // the container tells the AsyncListeners (onError, or at the timeout)
                        }
                    });
                    break;
            }
        }
    }

    /**
     * Between the deadline filter and the limit filter: with {@code x-test-queue: expire} it holds
     * the request until its deadline has passed, as a long queue in front of the handlers would.
     */
    static final class QueueFilter implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            if ("expire".equals(((HttpServletRequest) request).getHeader("x-test-queue"))) {
                DeadlineFilter.context(request).waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
            }
            chain.doFilter(request, response);
        }
    }

    /**
     * The outermost filter: answers 500 for what the handlers throw (after the limit filter has seen
     * it), so that Tomcat does not log the provoked failures.
     */
    static final class CatcherFilter implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) {
            try {
                chain.doFilter(request, response);
            } catch (IOException | ServletException | RuntimeException | Error e) {
                THROWN.incrementAndGet();
                ((HttpServletResponse) response).setStatus(500);
                if (request.isAsyncStarted()) {
                    request.getAsyncContext().complete();
                }
            }
        }
    }

    /** {@code x-group: b}: the limiter of {@code /b}; {@code x-group: boom}: a classifier that throws. */
    private static AdaptiveLimiter classify(HttpServletRequest req) {
        String group = req.getHeader("x-group");
        if ("boom".equals(group)) {
            throw new IllegalStateException("provoked in the classifier");
        }
        return "b".equals(group) ? B : null;
    }

    private static void count(HttpServletRequest req) {
        String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        String segment = path.split("/")[1];
        HANDLED.computeIfAbsent(segment, k -> new AtomicInteger()).incrementAndGet();
    }

    private static int handled(String segment) {
        AtomicInteger n = HANDLED.get(segment);
        return n == null ? 0 : n.get();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void awaitTrue(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + 10 * SECOND;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // polls; the bound is the deadline above
        }
    }

    /** Sends {@code n} requests to {@code path} that wait in the handler until {@link #release} opens. */
    private static List<Future<RawHttp.Response>> hold(int n, String path) throws InterruptedException {
        arrived = new CountDownLatch(n);
        release = new CountDownLatch(1);
        List<Future<RawHttp.Response>> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            held.add(clients.submit(() -> RawHttp.get(port, path + "?hold=1")));
        }
        assertTrue(arrived.await(10, TimeUnit.SECONDS), "the held requests reached the handler");
        return held;
    }

    private static void releaseAll(List<Future<RawHttp.Response>> held) throws Exception {
        release.countDown();
        for (Future<RawHttp.Response> f : held) {
            assertEquals(200, f.get(10, TimeUnit.SECONDS).status());
        }
    }

    // ---------------------------------------------------------------- the tests

    @Test
    void overTheLimitIsAnswered503WithRetryAfterWithoutRunningTheHandler() throws Exception {
        List<Future<RawHttp.Response>> held = hold(2, "/a/x");
        assertEquals(2, A.inFlight());
        int before = handled("a");
        for (int i = 0; i < 3; i++) {
            RawHttp.Response r = RawHttp.get(port, "/a/x");
            assertEquals(503, r.status());
            assertEquals("2", r.header("Retry-After"), "1.5 s, rounded up to whole seconds");
            assertEquals("", r.body());
        }
        assertEquals(before, handled("a"), "no rejected request reached the handler");
        assertEquals(2, A.inFlight(), "a rejection takes no slot");
        releaseAll(held);
        assertEquals(200, RawHttp.get(port, "/a/x").status(), "slots free again");
    }

    @Test
    void underTheLimitEveryRequestPasses() throws Exception {
        int before = handled("a");
        for (int i = 0; i < 20; i++) {
            RawHttp.Response r = RawHttp.get(port, "/a/x");
            assertEquals(200, r.status());
            assertNull(r.header("Retry-After"));
        }
        List<Future<RawHttp.Response>> held = hold(2, "/a/y"); // exactly the limit, concurrently
        releaseAll(held);
        assertEquals(before + 22, handled("a"));
    }

    @Test
    void saturatingOneRouteDoesNotRejectAnother() throws Exception {
        List<Future<RawHttp.Response>> held = hold(2, "/a/x");
        assertEquals(503, RawHttp.get(port, "/a/other").status());
        for (int i = 0; i < 5; i++) {
            assertEquals(200, RawHttp.get(port, "/b/x").status(), "route /b has its own limiter");
            assertEquals(200, RawHttp.get(port, "/other/x").status(), "the default limiter is its own too");
        }
        assertEquals(200, RawHttp.get(port, "/a/x", "x-group: b").status(), "the classifier's group, not the route's");
        assertEquals(0, B.inFlight());
        releaseAll(held);
    }

    @Test
    void anExpiredRequestIsShedWithoutASlotOrTheHandler() throws Exception {
        List<Future<RawHttp.Response>> held = hold(2, "/a/x");
        int beforeA = handled("a");
        int beforeB = handled("b");
        // expired on arrival: the deadline filter answers before the limit filter
        assertEquals(504, RawHttp.get(port, "/a/x", "grpc-timeout: 0m").status());
        // expired in a queue on the way in: the limit filter sheds it before asking the (full) limiter
        RawHttp.Response queued = RawHttp.get(port, "/a/x", "grpc-timeout: 50m", "x-test-queue: expire");
        assertEquals(504, queued.status(), "shed as expired, not refused as over the limit");
        assertNull(queued.header("Retry-After"));
        assertEquals(2, A.inFlight());
        // and on a route with room: still no slot, no handler
        int limitB = B.limit();
        assertEquals(504, RawHttp.get(port, "/b/x", "grpc-timeout: 50m", "x-test-queue: expire").status());
        assertEquals(0, B.inFlight());
        assertEquals(limitB, B.limit());
        assertEquals(beforeA, handled("a"));
        assertEquals(beforeB, handled("b"));
        releaseAll(held);
    }

    @Test
    void permitsAreNeverLeakedWhateverTheHandlerDoes() throws Exception {
        String[] paths = {
            "/leak/x", "/leak/x?status=503", "/leak/x?status=500", "/leak/x?throw=runtime", "/leak/x?throw=io",
            "/leak/x?throw=error", "/leak/async/x?mode=complete", "/leak/async/x?mode=timeout",
            "/leak/async/x?mode=dispatch", "/leak/async/x?mode=throw",
        };
        int[] expected = {200, 503, 500, 500, 500, 500, 200, 500, 200, 500};
        List<Future<RawHttp.Response>> all = new ArrayList<>();
        int thrown = THROWN.get();
        for (int round = 0; round < 4; round++) {
            for (String p : paths) {
                all.add(clients.submit(() -> RawHttp.get(port, p)));
            }
        }
        for (int i = 0; i < all.size(); i++) {
            assertEquals(expected[i % paths.length], all.get(i).get(20, TimeUnit.SECONDS).status(), paths[i % paths.length]);
        }
        awaitTrue(() -> LEAK.inFlight() == 0, "every permit came back: " + LEAK);
        assertEquals(thrown + 4 * 4, THROWN.get(), "the throwing handlers threw through the limit filter");

        // clients that go away: an async stream (the container's onError, or its async timeout when
        // Tomcat misses the error: see AsyncServlet) and a held synchronous handler
        int broken = STREAM_BROKEN.get();
        try (Socket s = RawHttp.open(port, "/leak/async/x?mode=stream")) {
            s.getInputStream().read(); // the stream has begun
            assertEquals(1, LEAK.inFlight());
        }
        awaitTrue(() -> STREAM_BROKEN.get() == broken + 1, "the stream's writes failed: it never completed");
        awaitTrue(() -> LEAK.inFlight() == 0, "the disconnected stream's permit came back");
        arrived = new CountDownLatch(1);
        release = new CountDownLatch(1);
        try (Socket s = RawHttp.open(port, "/leak/x?hold=1")) {
            assertTrue(arrived.await(10, TimeUnit.SECONDS));
        }
        release.countDown();
        awaitTrue(() -> LEAK.inFlight() == 0, "the held handler's permit came back");
        assertEquals(64, LEAK.limit());
    }

    @Test
    void theLimitGoesDownAsLatencyRisesAndOnDrops() throws Exception {
        assertEquals(10, ADAPT.limit());
        assertEquals(200, RawHttp.get(port, "/adapt/x?advance=2000").status());
        assertEquals(5, ADAPT.limit(), "a 2 s round trip on the limiter's ticker is over AIMD's 1 s: halved");
        assertEquals(503, RawHttp.get(port, "/adapt/x?status=503").status());
        assertEquals(2, ADAPT.limit(), "a 503 from the handler is a drop");
        assertEquals(200, RawHttp.get(port, "/adapt/x").status());
        assertEquals(3, ADAPT.limit(), "a fast success at half the limit in use: +1");
        assertEquals(200, RawHttp.get(port, "/adapt/x?wait=deadline", "grpc-timeout: 50m").status());
        assertEquals(3, ADAPT.limit(), "the caller's own deadline passed while it ran: no sample");
        assertEquals(504, RawHttp.get(port, "/adapt/x?wait=deadline&status=504", "grpc-timeout: 50m").status());
        assertEquals(3, ADAPT.limit(), "nor with the 504 its handler answered then");
        assertEquals(500, RawHttp.get(port, "/adapt/x?wait=deadline&throw=done", "grpc-timeout: 50m").status());
        assertEquals(3, ADAPT.limit(), "nor with the exception its handler threw then");
        assertEquals(500, RawHttp.get(port, "/adapt/x?throw=wouldpass", "grpc-timeout: 50m").status());
        assertEquals(3, ADAPT.limit(), "nor with a guard's refusal because a wait would pass the caller's deadline");
        assertEquals(500, RawHttp.get(port, "/adapt/async/x?mode=timeout", "grpc-timeout: 50m").status());
        awaitTrue(() -> ADAPT.inFlight() == 0, "the async request ended: " + ADAPT);
        assertEquals(3, ADAPT.limit(), "nor with an async timeout after the caller's deadline passed");
        assertEquals(200, RawHttp.get(port, "/adapt/x?wait=deadline", "grpc-timeout: 5S").status());
        assertEquals(1, ADAPT.limit(), "the server's own deadline (its max-timeout of 1 s) passed while it ran: a drop");
        assertEquals(200, RawHttp.get(port, "/adapt/x").status());
        assertEquals(2, ADAPT.limit());
        assertEquals(500, RawHttp.get(port, "/adapt/async/x?mode=timeout").status());
        awaitTrue(() -> ADAPT.limit() == 1, "an async timeout is a drop: " + ADAPT);
        assertEquals(500, RawHttp.get(port, "/adapt/x?status=500").status());
        assertEquals(2, ADAPT.limit(), "a 500 is an answer, not overload: a latency sample");
        assertEquals(500, RawHttp.get(port, "/adapt/x?throw=runtime").status());
        assertEquals(2, ADAPT.limit(), "a handler's bug is no sample");
    }

    @Test
    void aClassifierThatThrowsFailsTheRequestWithoutTakingASlot() throws Exception {
        int thrown = THROWN.get();
        int before = handled("a");
        assertEquals(500, RawHttp.get(port, "/a/x", "x-group: boom").status());
        assertEquals(thrown + 1, THROWN.get(), "its exception went up the chain");
        assertEquals(before, handled("a"));
        assertEquals(0, A.inFlight());
        assertEquals(200, RawHttp.get(port, "/a/x").status());
    }

    // ---------------------------------------------------------------- configuration, without a server

    @Test
    void routesMatchWholeSegmentsOfThePathWithinTheApplication() {
        assertTrue(AdaptiveLimitFilter.matches("/search", "/search", null));
        assertTrue(AdaptiveLimitFilter.matches("/search", "/search", "/books"));
        assertTrue(AdaptiveLimitFilter.matches("/search", "/search/books", null));
        assertTrue(AdaptiveLimitFilter.matches("/search/books", "/search", "/books/1"));
        assertTrue(AdaptiveLimitFilter.matches("/search/books", "/search", "/books"));
        assertTrue(AdaptiveLimitFilter.matches("/search/books", "", "/search/books"));
        assertTrue(AdaptiveLimitFilter.matches("", "/anything", null));
        assertTrue(AdaptiveLimitFilter.matches("", "", "/"));
        assertFalse(AdaptiveLimitFilter.matches("/search", "/searching", null));
        assertFalse(AdaptiveLimitFilter.matches("/search", "/sea", "/rch"), "segments, not characters");
        assertFalse(AdaptiveLimitFilter.matches("/search/books", "/search", "/bookshelf"));
        assertFalse(AdaptiveLimitFilter.matches("/search/books", "/search", null));
        assertFalse(AdaptiveLimitFilter.matches("/search", "/other", "/search"));
    }

    @Test
    void theBuilderFailsFastNamingTheSetting() {
        assertEquals("nothing to limit: set a defaultLimiter, a route or a classifier",
                assertThrows(IllegalStateException.class, () -> AdaptiveLimitFilter.builder().build()).getMessage());
        assertEquals("pathPrefix must start with '/': 'search'", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitFilter.builder().route("search", A)).getMessage());
        assertEquals("pathPrefix has a route already: '/a/'", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitFilter.builder().route("/a", A).route("/a/", B)).getMessage());
        assertEquals("limiter", assertThrows(NullPointerException.class,
                () -> AdaptiveLimitFilter.builder().route("/a", null)).getMessage());
        assertEquals("retryAfter must be positive: PT0S", assertThrows(IllegalArgumentException.class,
                () -> AdaptiveLimitFilter.builder().retryAfter(Duration.ZERO)).getMessage());
        assertEquals("defaultLimiter was already set", assertThrows(IllegalStateException.class,
                () -> AdaptiveLimitFilter.builder().defaultLimiter(A).defaultLimiter(B)).getMessage());
        AdaptiveLimitFilter f = AdaptiveLimitFilter.builder().defaultLimiter(A).route("/b/c", B).route("/", DEFAULT)
                .classifier(r -> null).build();
        assertEquals(Duration.ofSeconds(1), f.retryAfter(), "the default");
        assertEquals("AdaptiveLimitFilter[/b/c->b, /->default, default=a, classifier, retryAfter=1s]", f.toString());
    }
}
