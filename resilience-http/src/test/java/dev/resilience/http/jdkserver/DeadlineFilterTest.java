package dev.resilience.http.jdkserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.RawHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The JDK {@code HttpServer} filter on a loopback port: one server, one filter per configuration,
 * each on its own path: {@code /trusted} (defaults), {@code /bounded} (max 1 s, default 500 ms),
 * {@code /edge} (headers not trusted, default 2 s) and {@code /custom} (expired status 503).
 */
class DeadlineFilterTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);
    private static final Context.Key<String> LEFTOVER = Context.Key.named("leftover");

    private static HttpServer server;
    private static ExecutorService handlers;
    private static int port;

    private static final BlockingQueue<Context> SEEN = new LinkedBlockingQueue<>();
    /** The thread's context after the rest of the chain returned (or threw), seen by the outermost filter. */
    private static final BlockingQueue<Context> AFTER = new LinkedBlockingQueue<>();
    /**
     * The thread's context after requests that carried a stale leftover: apart from {@link #AFTER},
     * which a request of an earlier test may still feed after its response was read.
     */
    private static final BlockingQueue<Context> AFTER_LEFTOVER = new LinkedBlockingQueue<>();
    private static final AtomicInteger HANDLED = new AtomicInteger();

    @BeforeAll
    static void startServer() throws IOException {
        handlers = Executors.newCachedThreadPool();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(handlers);
        serve("/trusted", new DeadlineFilter());
        serve("/bounded", new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(1))
                .defaultTimeout(Duration.ofMillis(500)).build()));
        serve("/edge", new DeadlineFilter(InboundDeadlines.builder().trustIncoming(false)
                .defaultTimeout(Duration.ofSeconds(2)).build()));
        serve("/custom", new DeadlineFilter(InboundDeadlines.builder().expiredStatus(503).build()));
        server.start();
        port = server.getAddress().getPort();
    }

    private static void serve(String path, DeadlineFilter filter) {
        HttpContext ctx = server.createContext(path, DeadlineFilterTest::handle);
        ctx.getFilters().add(new ProbeFilter());
        ctx.getFilters().add(filter);
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (server != null) {
            server.stop(0);
        }
        if (handlers != null) {
            handlers.shutdownNow();
            assertTrue(handlers.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @BeforeEach
    void clear() {
        SEEN.clear();
        AFTER.clear();
        AFTER_LEFTOVER.clear();
    }

    /** Answers with what it saw; {@code ?mode=} ondone, wait or throw make it slow or broken. */
    private static void handle(HttpExchange exchange) throws IOException {
        HANDLED.incrementAndGet();
        Context c = Context.current();
        SEEN.add(c);
        String mode = String.valueOf(exchange.getRequestURI().getQuery());
        String body;
        if (mode.equals("mode=ondone")) {
            CountDownLatch done = new CountDownLatch(1);
            c.onDone(done::countDown, Runnable::run);
            boolean ended;
            try {
                ended = done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ended = false;
            }
            body = "ondone=" + ended + " isDone=" + Context.current().isDone() + " err="
                    + (c.err() == null ? "none" : c.err().getClass().getSimpleName());
        } else if (mode.equals("mode=wait")) {
            body = "waited=" + c.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
        } else if (mode.equals("mode=throw")) {
            throw new IllegalStateException("a broken handler (expected by the test)");
        } else {
            body = "remaining=" + c.remaining().map(d -> Long.toString(d.toNanos())).orElse("none")
                    + " done=" + c.isDone() + " leftover=" + c.get(LEFTOVER);
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** The outermost filter: optionally leaves a stale context on the thread, records the thread's context after. */
    static final class ProbeFilter extends Filter {
        @Override
        public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
            Scope scope = null;
            if (exchange.getRequestHeaders().getFirst("x-test-leftover") != null) {
                CancelHandle leftover = Context.background().withValue(LEFTOVER, "stale")
                        .withTimeout(Duration.ofSeconds(30));
                leftover.cancel();
                scope = leftover.attach();
            }
            try {
                chain.doFilter(exchange);
            } finally {
                (scope != null ? AFTER_LEFTOVER : AFTER).add(Context.current());
                if (scope != null) {
                    scope.close();
                }
            }
        }

        @Override
        public String description() {
            return "test probe";
        }
    }

    private static long remaining(RawHttp.Response r) {
        assertEquals(200, r.status(), r.body());
        String v = r.body().replaceFirst("^remaining=(\\S+).*$", "$1");
        return v.equals("none") ? -1 : Long.parseLong(v);
    }

    private static Context nextSeen() throws InterruptedException {
        Context c = SEEN.poll(10, TimeUnit.SECONDS);
        assertNotNull(c, "the handler ran");
        return c;
    }

    private static WaitResult awaitDone(Context c) {
        return c.waitUntil(Ticker.system(), System.nanoTime() + 10 * SECOND);
    }

    @Test
    void handlerSeesTheRemainingTimeOfTheCallersHeader() throws Exception {
        long r = remaining(RawHttp.get(port, "/trusted/x", "grpc-timeout: 2S"));
        assertTrue(r > 0 && r <= 2 * SECOND, "remaining " + r);
        r = remaining(RawHttp.get(port, "/trusted/x", "X-Envoy-Expected-Rq-Timeout-Ms: 1500"));
        assertTrue(r > 0 && r <= 1_500 * MILLI, "remaining " + r);
        assertEquals("remaining=none done=false leftover=null", RawHttp.get(port, "/trusted/x").body());
    }

    @Test
    void maxTimeoutBoundsTheHeaderAndDefaultTimeoutFillsIn() throws Exception {
        long r = remaining(RawHttp.get(port, "/bounded/x", "grpc-timeout: 60S"));
        assertTrue(r > 0 && r <= SECOND, "bounded by the 1 s maximum: " + r);
        r = remaining(RawHttp.get(port, "/bounded/x", "grpc-timeout: 300m"));
        assertTrue(r > 0 && r <= 300 * MILLI, "a shorter header is kept: " + r);
        r = remaining(RawHttp.get(port, "/bounded/x"));
        assertTrue(r > 0 && r <= 500 * MILLI, "the 500 ms default: " + r);
    }

    @Test
    void anUntrustedEdgeIgnoresIncomingHeaders() throws Exception {
        long r = remaining(RawHttp.get(port, "/edge/x", "grpc-timeout: 100m"));
        assertTrue(r > 100 * MILLI && r <= 2 * SECOND, "the edge's own 2 s default, not the caller's 100 ms: " + r);
        assertEquals(200, RawHttp.get(port, "/edge/x", "grpc-timeout: 0m").status(),
                "a caller cannot make the edge refuse work");
    }

    @Test
    void anExpiredRequestIsAnsweredWithoutRunningTheHandler() throws Exception {
        int before = HANDLED.get();
        RawHttp.Response r = RawHttp.get(port, "/trusted/x", "grpc-timeout: 0m");
        assertEquals(504, r.status());
        assertEquals("", r.body());
        assertEquals(504, RawHttp.get(port, "/trusted/x", "x-envoy-expected-rq-timeout-ms: 0").status());
        assertEquals(503, RawHttp.get(port, "/custom/x", "grpc-timeout: 0u").status(), "the configured status");
        assertEquals(before, HANDLED.get(), "no handler ran");
        assertSame(Context.background(), AFTER.take(), "and nothing stayed on the thread");
    }

    @Test
    void hostileHeadersNeverBreakTheRequest() throws Exception {
        String[] grpc = {"99999999999H", "-1S", "abc", "1x", "", "1.5S", "1e3m", "0x10S", "5s", "S",
            "9".repeat(4_000) + "m", "\uff11\uff10S", "\u00e9m", "1\u00ff\u00fem", "%00m", "1;2m"};
        for (String v : grpc) {
            int before = HANDLED.get();
            RawHttp.Response r = RawHttp.get(port, "/trusted/x", "grpc-timeout: " + v);
            assertEquals(-1, remaining(r), "no deadline for grpc-timeout: " + v);
            assertEquals(before + 1, HANDLED.get());
        }
        for (String v : new String[] {"-5", "1e3", "99999999999999999999", "", "12ms", "\u0661"}) {
            RawHttp.Response r = RawHttp.get(port, "/trusted/x", "x-envoy-expected-rq-timeout-ms: " + v);
            assertEquals(-1, remaining(r), "no deadline for x-envoy-expected-rq-timeout-ms: " + v);
        }
    }

    @Test
    void theContextIsCancelledWhenTheHandlerReturns() throws Exception {
        assertTrue(RawHttp.get(port, "/trusted/x", "grpc-timeout: 60S").body().contains("done=false"));
        Context c = nextSeen();
        assertEquals(WaitResult.CANCELLED, awaitDone(c), "cancelled, not left to run out its 60 s");
        assertInstanceOf(ContextCancelledException.class, c.err());
    }

    @Test
    void aHandlerThatThrowsStillEndsItsContextAndRestoresTheThread() throws Exception {
        assertThrows(IOException.class, () -> RawHttp.get(port, "/trusted/x?mode=throw", "grpc-timeout: 60S"),
                "the JDK server drops the connection of a handler that threw");
        assertEquals(WaitResult.CANCELLED, awaitDone(nextSeen()));
        assertSame(Context.background(), AFTER.poll(10, TimeUnit.SECONDS));
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
        assertEquals("stale", AFTER_LEFTOVER.poll(10, TimeUnit.SECONDS).get(LEFTOVER), "the thread's previous context is back");
        remaining(RawHttp.get(port, "/bounded/x"));
        assertSame(Context.background(), AFTER.take(), "the server thread is back to background");
    }

    @Test
    void aBlockingHandlerWhoseClientLeftIsStillBoundedByItsDeadline() throws Exception {
        Context c;
        long start;
        try (Socket s = RawHttp.open(port, "/trusted/x?mode=wait", "grpc-timeout: 300m")) {
            c = nextSeen();
            start = System.nanoTime();
        } // gone; the JDK server gives a handler no notice of it
        assertEquals(WaitResult.DEADLINE_EXCEEDED, awaitDone(c));
        assertInstanceOf(DeadlineExceededException.class, c.err(), "its deadline ended it");
        assertTrue(System.nanoTime() - start < 8 * SECOND);
    }

    @Test
    void configurationAndDescription() {
        assertSame(InboundDeadlines.defaults(), new DeadlineFilter().deadlines());
        assertTrue(new DeadlineFilter().description().contains("expiredStatus=504"));
        assertEquals("deadlines", assertThrows(NullPointerException.class, () -> new DeadlineFilter(null)).getMessage());
    }
}
