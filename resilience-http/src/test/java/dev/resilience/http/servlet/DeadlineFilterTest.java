package dev.resilience.http.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.RawHttp;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
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
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;


import org.apache.catalina.Wrapper;

import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The servlet filter inside a real embedded Tomcat 11 on a loopback port. One server, one filter
 * per configuration, each on its own path: {@code /trusted} (defaults), {@code /bounded} (max 1 s,
 * default 500 ms), {@code /edge} (headers not trusted, default 2 s), {@code /custom} (expired status
 * 503), {@code /webxml} (configured by init-params only) and {@code /async} (an async servlet
 * behind the defaults).
 */
class DeadlineFilterTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);
    private static final Context.Key<String> LEFTOVER = Context.Key.named("leftover");

    @TempDir
    static Path baseDir;
    private static LoopbackTomcat tomcat;
    private static int port;
    private static ExecutorService asyncWorkers;

    /** Every context a handler saw, in order. */
    private static final BlockingQueue<Context> SEEN = new LinkedBlockingQueue<>();
    /** What the outermost filter saw on the container thread once the chain returned. */
    private static final BlockingQueue<Probe> PROBES = new LinkedBlockingQueue<>();
    private static final AtomicInteger HANDLED = new AtomicInteger();

    record Probe(Context before, Context after, boolean requestContextDoneAfter) {
    }

    @BeforeAll
    static void startTomcat() throws Exception {
        asyncWorkers = Executors.newCachedThreadPool();
        tomcat = new LoopbackTomcat(baseDir);
        StandardContext app = tomcat.app;

        Wrapper echo = Tomcat.addServlet(app, "echo", new EchoServlet());
        echo.setAsyncSupported(true);
        for (String path : new String[] {"/trusted/*", "/bounded/*", "/edge/*", "/custom/*", "/webxml/*"}) {
            app.addServletMapping(path, "echo");
        }
        Wrapper async = Tomcat.addServlet(app, "async", new AsyncServlet());
        async.setAsyncSupported(true);
        app.addServletMapping("/async/*", "async");

        addFilter(app, "probe", new ProbeFilter(), Map.of(), "/*");
        FilterMap trusted = addFilter(app, "trusted", new DeadlineFilter(), Map.of(), "/trusted/*", "/async/*");
        trusted.setDispatcher("ASYNC"); // also on async dispatches: it re-attaches the request's context
        addFilter(app, "bounded", new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(1))
                .defaultTimeout(Duration.ofMillis(500)).build()), Map.of(), "/bounded/*");
        addFilter(app, "edge", new DeadlineFilter(InboundDeadlines.builder().trustIncoming(false)
                .defaultTimeout(Duration.ofSeconds(2)).build()), Map.of(), "/edge/*");
        addFilter(app, "custom", new DeadlineFilter(InboundDeadlines.builder().expiredStatus(503).build()),
                Map.of(), "/custom/*");
        addFilter(app, "webxml", new DeadlineFilter(), Map.of(DeadlineFilter.TRUST_INCOMING, "true",
                DeadlineFilter.MAX_TIMEOUT, "1s", DeadlineFilter.DEFAULT_TIMEOUT, "PT0.5S",
                DeadlineFilter.EXPIRED_STATUS, "408"), "/webxml/*");
        port = tomcat.start();
    }

    private static FilterMap addFilter(org.apache.catalina.Context app, String name, Filter filter,
            Map<String, String> initParams, String... patterns) {
        FilterDef def = new FilterDef();
        def.setFilterName(name);
        def.setFilter(filter);
        def.setAsyncSupported("true");
        initParams.forEach(def::addInitParameter);
        app.addFilterDef(def);
        FilterMap map = new FilterMap();
        map.setFilterName(name);
        for (String p : patterns) {
            map.addURLPattern(p);
        }
        map.setDispatcher("REQUEST");
        app.addFilterMap(map);
        return map;
    }

    @AfterAll
    static void stopTomcat() throws Exception {
        if (asyncWorkers != null) {
            asyncWorkers.shutdownNow();
            assertTrue(asyncWorkers.awaitTermination(10, TimeUnit.SECONDS));
        }
        if (tomcat != null) {
            tomcat.stop();
        }
    }

    @BeforeEach
    void clear() {
        SEEN.clear();
        PROBES.clear();
    }

    // ---------------------------------------------------------------- the servlets

    /** Answers with what it saw: {@code remaining=<nanos|none> done=<bool> attr=<bool> leftover=<value>}. */
    static final class EchoServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HANDLED.incrementAndGet();
            Context c = Context.current();
            SEEN.add(c);
            String mode = req.getParameter("mode");
            String body;
            if ("ondone".equals(mode)) { // a slow handler that learns of its deadline through onDone
                CountDownLatch done = new CountDownLatch(1);
                c.onDone(done::countDown, Runnable::run);
                boolean ended = await(done);
                body = "ondone=" + ended + " isDone=" + Context.current().isDone() + " err="
                        + (c.err() == null ? "none" : c.err().getClass().getSimpleName());
            } else if ("wait".equals(mode)) { // a blocking handler that waits for its context, at most 10 s
                WaitResult r = c.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
                body = "waited=" + r;
            } else {
                body = "remaining=" + c.remaining().map(d -> Long.toString(d.toNanos())).orElse("none")
                        + " done=" + c.isDone() + " attr=" + (DeadlineFilter.context(req) == c)
                        + " leftover=" + c.get(LEFTOVER);
            }
            resp.setContentType("text/plain");
            resp.getWriter().write(body);
        }
    }

    /** Goes asynchronous; {@code mode} says what its worker does then. */
    static final class AsyncServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
            HANDLED.incrementAndGet();
            String mode = req.getParameter("mode");
            AsyncContext async = req.startAsync();
            switch (mode) {
                case "complete": // a worker finds the context in the request attribute and answers
                    async.setTimeout(20_000);
                    asyncWorkers.execute(() -> {
                        try (Scope s = DeadlineFilter.context(req).attach()) {
                            Context c = Context.current();
                            SEEN.add(c);
                            async.getResponse().setContentType("text/plain");
                            async.getResponse().getWriter().write("async remaining="
                                    + c.remaining().map(d -> Long.toString(d.toNanos())).orElse("none")
                                    + " done=" + c.isDone());
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        } finally {
                            async.complete();
                        }
                    });
                    break;
                case "dispatch": // the worker hands the request on to /trusted, through the filter again
                    async.setTimeout(20_000);
                    SEEN.add(DeadlineFilter.context(req));
                    asyncWorkers.execute(() -> async.dispatch("/trusted/dispatched"));
                    break;
                case "timeout": // nobody answers; the container's async timeout ends it
                    async.setTimeout(300);
                    SEEN.add(DeadlineFilter.context(req));
                    break;
                default: // "stream": a worker writes a line every 25 ms, up to 10 s, while the context is live
                    async.setTimeout(20_000);
                    Context c = DeadlineFilter.context(req);
                    SEEN.add(c);
                    asyncWorkers.execute(() -> {
                        try {
                            ServletOutputStream out = async.getResponse().getOutputStream();
                            for (int i = 0; i < 400 && !c.isDone(); i++) {
                                out.write("tick\n".getBytes(StandardCharsets.US_ASCII));
                                out.flush();
                                c.waitUntil(Ticker.system(), System.nanoTime() + 25 * MILLI);
                            }
                        } catch (IOException clientGone) {
                            // the container learns of it too, and tells the AsyncListeners
                        }
                    });
                    break;
            }
        }
    }

    /**
     * The outermost filter: records the thread's context before and after the chain, and on request
     * leaves a "leftover" context on the thread, as a careless earlier filter or request might.
     */
    static final class ProbeFilter implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            Scope scope = null;
            if (((HttpServletRequest) request).getHeader("x-test-leftover") != null) {
                CancelHandle leftover = Context.background().withValue(LEFTOVER, "stale")
                        .withTimeout(Duration.ofSeconds(30));
                leftover.cancel();
                scope = leftover.attach();
            }
            try {
                Context before = Context.current();
                chain.doFilter(request, response);
                PROBES.add(new Probe(before, Context.current(), DeadlineFilter.context(request).isDone()));
            } finally {
                if (scope != null) {
                    scope.close();
                }
            }
        }
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static long remaining(RawHttp.Response r) {
        assertEquals(200, r.status(), r.body());
        String v = r.body().replaceFirst("^(async )?remaining=(\\S+).*$", "$2");
        return v.equals("none") ? -1 : Long.parseLong(v);
    }

    private static Context nextSeen() throws InterruptedException {
        Context c = SEEN.poll(10, TimeUnit.SECONDS);
        assertNotNull(c, "the handler ran");
        return c;
    }

    /** Waits (bounded) for {@code c} to be done; returns why. */
    private static WaitResult awaitDone(Context c) {
        return c.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
    }

    // ---------------------------------------------------------------- the tests

    @Test
    void handlerSeesTheRemainingTimeOfTheCallersHeader() throws Exception {
        long r = remaining(RawHttp.get(port, "/trusted/x", "grpc-timeout: 2S"));
        assertTrue(r > 0 && r <= 2 * SECOND, "remaining " + r);
        r = remaining(RawHttp.get(port, "/trusted/x", "x-envoy-expected-rq-timeout-ms: 1500"));
        assertTrue(r > 0 && r <= 1_500 * MILLI, "remaining " + r);
        RawHttp.Response none = RawHttp.get(port, "/trusted/x");
        assertEquals("remaining=none done=false attr=true leftover=null", none.body());
        assertTrue(RawHttp.get(port, "/trusted/x", "GRPC-Timeout: 3S").body().contains("attr=true"));
        assertTrue(remaining(RawHttp.get(port, "/trusted/x", "GRPC-Timeout: 3S")) <= 3 * SECOND,
                "header names are case-insensitive");
    }

    @Test
    void maxTimeoutBoundsTheHeaderAndDefaultTimeoutFillsIn() throws Exception {
        long r = remaining(RawHttp.get(port, "/bounded/x", "grpc-timeout: 60S"));
        assertTrue(r > 0 && r <= SECOND, "bounded by the 1 s maximum: " + r);
        r = remaining(RawHttp.get(port, "/bounded/x", "grpc-timeout: 300m"));
        assertTrue(r > 0 && r <= 300 * MILLI, "a shorter header is kept: " + r);
        r = remaining(RawHttp.get(port, "/bounded/x"));
        assertTrue(r > 0 && r <= 500 * MILLI, "the 500 ms default: " + r);
        r = remaining(RawHttp.get(port, "/bounded/x", "grpc-timeout: 1x"));
        assertTrue(r > 0 && r <= 500 * MILLI, "a rejected header counts as absent: " + r);
    }

    @Test
    void anUntrustedEdgeIgnoresIncomingHeaders() throws Exception {
        long r = remaining(RawHttp.get(port, "/edge/x", "grpc-timeout: 100m"));
        assertTrue(r > 100 * MILLI && r <= 2 * SECOND, "the edge's own 2 s default, not the caller's 100 ms: " + r);
        int before = HANDLED.get();
        RawHttp.Response zero = RawHttp.get(port, "/edge/x", "grpc-timeout: 0m", "x-envoy-expected-rq-timeout-ms: 0");
        assertEquals(200, zero.status(), "a caller cannot make the edge refuse work");
        assertEquals(before + 1, HANDLED.get());
    }

    @Test
    void anExpiredRequestIsAnsweredWithoutRunningTheHandler() throws Exception {
        int before = HANDLED.get();
        RawHttp.Response r = RawHttp.get(port, "/trusted/x", "grpc-timeout: 0m");
        assertEquals(504, r.status());
        assertEquals("", r.body());
        assertEquals(504, RawHttp.get(port, "/trusted/x", "x-envoy-expected-rq-timeout-ms: 0").status());
        assertEquals(503, RawHttp.get(port, "/custom/x", "grpc-timeout: 0n").status(), "the configured status");
        assertEquals(504, RawHttp.get(port, "/async/x?mode=complete", "grpc-timeout: 0S").status());
        assertEquals(before, HANDLED.get(), "no handler ran");
        assertTrue(SEEN.isEmpty());
    }

    @Test
    void initParamsConfigureAFilterDeclaredWithoutCode() throws Exception {
        long r = remaining(RawHttp.get(port, "/webxml/x", "grpc-timeout: 60S"));
        assertTrue(r > 0 && r <= SECOND, "max-timeout=1s: " + r);
        r = remaining(RawHttp.get(port, "/webxml/x"));
        assertTrue(r > 0 && r <= 500 * MILLI, "default-timeout=PT0.5S: " + r);
        assertEquals(408, RawHttp.get(port, "/webxml/x", "grpc-timeout: 0m").status(), "expired-status=408");
    }

    @Test
    void hostileHeadersNeverBreakTheRequest() throws Exception {
        String[] grpc = {"99999999999H", "-1S", "abc", "1x", "", "1.5S", "1e3m", "0x10S", "5s", "S",
            "9".repeat(4_000) + "m", "\uff11\uff10S", "\u00e9m", "1\u00ff\u00fem", "%00m", "1;2m"};
        for (String v : grpc) {
            int before = HANDLED.get();
            RawHttp.Response r = RawHttp.get(port, "/trusted/x", "grpc-timeout: " + v);
            assertEquals(200, r.status(), "grpc-timeout: " + v + " -> " + r.body());
            assertEquals(-1, remaining(r), "no deadline for grpc-timeout: " + v);
            assertEquals(before + 1, HANDLED.get());
        }
        for (String v : new String[] {"-5", "1e3", "99999999999999999999", "", "12ms", "\u0661"}) {
            RawHttp.Response r = RawHttp.get(port, "/trusted/x", "x-envoy-expected-rq-timeout-ms: " + v);
            assertEquals(-1, remaining(r), "no deadline for x-envoy-expected-rq-timeout-ms: " + v);
        }
    }

    @Test
    void theContextIsCancelledOnceTheResponseIsComplete() throws Exception {
        RawHttp.Response r = RawHttp.get(port, "/trusted/x", "grpc-timeout: 60S");
        assertTrue(r.body().contains("done=false"), r.body());
        Context c = nextSeen();
        assertEquals(WaitResult.CANCELLED, awaitDone(c), "cancelled, not left to run out its 60 s");
        assertInstanceOf(ContextCancelledException.class, c.err());
        assertTrue(PROBES.take().requestContextDoneAfter(), "done as soon as the chain returned");
        remaining(RawHttp.get(port, "/trusted/x"));
        assertEquals(WaitResult.CANCELLED, awaitDone(nextSeen()), "a request without deadline too");
    }

    @Test
    void aDeadlinePassingDuringASlowHandlerEndsItsContext() throws Exception {
        long start = System.nanoTime();
        RawHttp.Response r = RawHttp.get(port, "/trusted/x?mode=ondone", "grpc-timeout: 200m");
        long took = System.nanoTime() - start;
        assertEquals("ondone=true isDone=true err=DeadlineExceededException", r.body());
        assertTrue(took >= 200 * MILLI && took < 8 * SECOND, "took " + took);
    }

    @Test
    void theRequestInheritsNothingFromTheThreadAndLeavesNothingBehind() throws Exception {
        RawHttp.Response r = RawHttp.get(port, "/trusted/x", "x-test-leftover: 1", "grpc-timeout: 5S");
        assertTrue(r.body().contains("done=false"), "a cancelled leftover does not end the request: " + r.body());
        assertTrue(r.body().endsWith("leftover=null"), "nor lend it values: " + r.body());
        Probe p;
        do { // this request's probe: the one that saw the stale context (an earlier test's may come late)
            p = PROBES.poll(10, TimeUnit.SECONDS);
            assertTrue(p != null, "the probe of the request with a leftover");
        } while (!"stale".equals(p.before().get(LEFTOVER)));
        assertEquals("stale", p.after().get(LEFTOVER), "the thread's previous context is back");
        assertSame(p.before(), p.after());

        remaining(RawHttp.get(port, "/bounded/x", "grpc-timeout: 5S"));
        Probe plain = PROBES.take();
        assertSame(Context.background(), plain.after(), "the container thread is back to background");
        assertEquals(-1, remaining(RawHttp.get(port, "/async/x?mode=complete")));
        assertSame(Context.background(), PROBES.take().after(), "after an async request too");
    }

    @Test
    void anAsyncRequestKeepsItsContextUntilTheCycleCompletes() throws Exception {
        RawHttp.Response r = RawHttp.get(port, "/async/x?mode=complete", "grpc-timeout: 5S");
        long left = remaining(r);
        assertTrue(left > 0 && left <= 5 * SECOND, "the worker found the deadline: " + r.body());
        assertTrue(r.body().endsWith("done=false"), r.body());
        assertFalse(PROBES.take().requestContextDoneAfter(), "still live when the first dispatch returned");
        Context c = nextSeen();
        assertEquals(WaitResult.CANCELLED, awaitDone(c), "cancelled when the async cycle completed");
    }

    @Test
    void anAsyncDispatchRunsUnderTheSameContext() throws Exception {
        RawHttp.Response r = RawHttp.get(port, "/async/x?mode=dispatch", "grpc-timeout: 5S");
        long left = remaining(r);
        assertTrue(left > 0 && left <= 5 * SECOND, r.body());
        assertTrue(r.body().contains("attr=true"), r.body());
        Context first = nextSeen();
        assertSame(first, nextSeen(), "the dispatched handler runs under the request's own context");
        assertEquals(WaitResult.CANCELLED, awaitDone(first));
    }

    @Test
    void anAsyncTimeoutCancelsTheContext() throws Exception {
        RawHttp.Response r = RawHttp.get(port, "/async/x?mode=timeout");
        assertEquals(500, r.status(), "Tomcat's answer to an async timeout nobody handles");
        Context c = nextSeen();
        assertEquals(WaitResult.CANCELLED, awaitDone(c));
    }

    @Test
    void aClientDisconnectSeenByTheContainerCancelsAnAsyncRequestsContext() throws Exception {
        Context c;
        try (Socket s = RawHttp.open(port, "/async/x?mode=stream", "grpc-timeout: 60S")) {
            c = nextSeen();
            s.getInputStream().read(); // the stream has begun
            assertFalse(c.isDone());
        } // the client goes away; the worker's next writes fail, and the container calls onError
        assertEquals(WaitResult.CANCELLED, awaitDone(c), "the container's onError reached the context");
        assertInstanceOf(IOException.class, c.cause(), "the container's exception is the cause: " + c.cause());
    }

    @Test
    void aBlockingHandlerWhoseClientLeftIsStillBoundedByItsDeadline() throws Exception {
        Context c;
        long start;
        try (Socket s = RawHttp.open(port, "/trusted/x?mode=wait", "grpc-timeout: 300m")) {
            c = nextSeen();
            start = System.nanoTime();
        } // gone; a synchronous request gets no portable notice of it
        assertEquals(WaitResult.DEADLINE_EXCEEDED, awaitDone(c));
        assertInstanceOf(DeadlineExceededException.class, c.err(), "its deadline ended it");
        assertTrue(System.nanoTime() - start < 8 * SECOND);
    }

    // ---------------------------------------------------------------- configuration, without a server

    /** The FilterConfig a container would pass: a name and init-params. */
    private static FilterConfig config(Map<String, String> params) {
        return new FilterConfig() {
            @Override
            public String getFilterName() {
                return "deadlines";
            }

            @Override
            public ServletContext getServletContext() {
                throw new UnsupportedOperationException("not needed");
            }

            @Override
            public String getInitParameter(String name) {
                return params.get(name);
            }

            @Override
            public Enumeration<String> getInitParameterNames() {
                return Collections.enumeration(params.keySet());
            }
        };
    }

    @Test
    void invalidInitParamsFailInitNamingTheParam() throws Exception {
        String[][] bad = {
            {DeadlineFilter.MAX_TIMEOUT, "soon", "invalid init-param max-timeout: expected a number and a unit"},
            {DeadlineFilter.MAX_TIMEOUT, "0s", "invalid init-param max-timeout: maxTimeout must be positive: PT0S"},
            {DeadlineFilter.DEFAULT_TIMEOUT, "10 parsecs", "invalid init-param default-timeout: unknown unit"},
            {DeadlineFilter.DEFAULT_TIMEOUT, "PT-1S", "invalid init-param default-timeout: defaultTimeout must be"},
            {DeadlineFilter.DEFAULT_TIMEOUT, "P1X", "invalid init-param default-timeout: not an ISO-8601 duration"},
            {DeadlineFilter.TRUST_INCOMING, "yes", "invalid init-param trust-incoming: expected true or false"},
            {DeadlineFilter.EXPIRED_STATUS, "gateway", "invalid init-param expired-status: For input string"},
            {DeadlineFilter.EXPIRED_STATUS, "99", "invalid init-param expired-status: expiredStatus must be"},
        };
        for (String[] b : bad) {
            ServletException e = assertThrows(ServletException.class,
                    () -> new DeadlineFilter().init(config(Map.of(b[0], b[1]))));
            assertTrue(e.getMessage().startsWith("filter 'deadlines': " + b[2]), e.getMessage());
        }
        ServletException both = assertThrows(ServletException.class, () -> new DeadlineFilter()
                .init(config(Map.of(DeadlineFilter.MAX_TIMEOUT, "1s", DeadlineFilter.DEFAULT_TIMEOUT, "2s"))));
        assertTrue(both.getMessage().endsWith("defaultTimeout must not exceed maxTimeout: PT2S > PT1S"),
                both.getMessage());
        ServletException twice = assertThrows(ServletException.class,
                () -> new DeadlineFilter(InboundDeadlines.defaults()).init(config(Map.of(DeadlineFilter.MAX_TIMEOUT, "1s"))));
        assertTrue(twice.getMessage().contains("cannot also take init-params"), twice.getMessage());
    }

    @Test
    void initParamsAndTheirFormats() throws Exception {
        DeadlineFilter f = new DeadlineFilter();
        f.init(config(Map.of()));
        assertSame(InboundDeadlines.defaults(), f.deadlines(), "no init-params: the defaults");
        f.init(config(Map.of(DeadlineFilter.TRUST_INCOMING, " FALSE ", DeadlineFilter.MAX_TIMEOUT, "2h",
                DeadlineFilter.DEFAULT_TIMEOUT, "1500ms", DeadlineFilter.EXPIRED_STATUS, " 503 ")));
        assertEquals("InboundDeadlines[trustIncoming=false, maxTimeout=PT2H, defaultTimeout=PT1.5S, expiredStatus=503]",
                f.deadlines().toString());
        assertEquals(Duration.ofNanos(5), DeadlineFilter.parseDuration("5ns"));
        assertEquals(Duration.ofNanos(5_000), DeadlineFilter.parseDuration("5us"));
        assertEquals(Duration.ofSeconds(3), DeadlineFilter.parseDuration("3 s"));
        assertEquals(Duration.ofMinutes(3), DeadlineFilter.parseDuration("3m"));
        assertEquals(Duration.ofMillis(250), DeadlineFilter.parseDuration("pt0.25s"));
        assertThrows(IllegalArgumentException.class, () -> DeadlineFilter.parseDuration("9".repeat(19) + "s"));
        // 16 digits of hours (18 of minutes) are more seconds than a Duration holds: saturated, not an
        // ArithmeticException escaping init()
        assertEquals(ChronoUnit.FOREVER.getDuration(), DeadlineFilter.parseDuration("9".repeat(18) + "h"));
        assertEquals(ChronoUnit.FOREVER.getDuration(), DeadlineFilter.parseDuration("9".repeat(18) + "m"));
        f.init(config(Map.of(DeadlineFilter.MAX_TIMEOUT, "9999999999999999h")));
        assertTrue(f.deadlines().maxTimeout().orElseThrow().compareTo(Duration.ofDays(365L * 100)) > 0,
                "a huge max-timeout saturates: " + f.deadlines());
        assertThrows(IllegalArgumentException.class, () -> DeadlineFilter.parseDuration(""));
        assertEquals("deadlines", assertThrows(NullPointerException.class, () -> new DeadlineFilter(null)).getMessage());
    }
}
