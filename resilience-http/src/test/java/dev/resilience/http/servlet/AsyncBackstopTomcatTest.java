package dev.resilience.http.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.Context;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.RawHttp;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.catalina.Wrapper;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DeadlineFilter} and {@link AdaptiveLimitFilter} in a real embedded Tomcat 11 when the
 * container never tells them that an async cycle ended. Tomcat was seen to lose those events for a
 * client that leaves as its async stream starts (README), but not on demand; so an outermost test
 * filter loses them on purpose for requests with {@code x-lose: 1}: the filters behind it get an
 * {@link AsyncContext} that drops the listeners they add. Everything else (the cycle, its timeout,
 * the request's end and recycling) is Tomcat's. The filters share a backstop whose ticks the test
 * advances (one tick stands for a second, a question every five), so nothing here waits for a
 * timeout.
 */
class AsyncBackstopTomcatTest {

    private static final AsyncBackstop BACKSTOP = new AsyncBackstop(TimeUnit.SECONDS.toNanos(1), 5, false);
    private static final AdaptiveLimiter LIMITER = AdaptiveLimiter.builder("backstop")
            .algorithm(LimitAlgorithm.aimd(8, 8, 8, 0.5, Duration.ofHours(1))).build();
    private static final DeadlineFilter DEADLINES = new DeadlineFilter(InboundDeadlines.defaults(), BACKSTOP);
    private static final AdaptiveLimitFilter LIMITS = AdaptiveLimitFilter.builder()
            .defaultLimiter(LIMITER).backstop(BACKSTOP).build();

    /** The last request's context, as the servlet saw it. */
    private static final AtomicReference<Context> CONTEXT = new AtomicReference<>();
    /** The last request's async context (Tomcat's own: the servlet started it). */
    private static final AtomicReference<AsyncContext> LAST = new AtomicReference<>();
    /** Async contexts of requests with {@code mode=hold}, for the test to complete. */
    private static final LinkedBlockingQueue<AsyncContext> HELD = new LinkedBlockingQueue<>();
    /** Released each time the outermost filter's chain returns (both filters have armed or not). */
    private static final Semaphore RETURNED = new Semaphore(0);
    /** Released when an async dispatch has begun; it then waits for {@link #UNBLOCK}. */
    private static final Semaphore DISPATCHED = new Semaphore(0);
    private static final Semaphore UNBLOCK = new Semaphore(0);

    @TempDir
    static Path baseDir;
    private static LoopbackTomcat tomcat;
    private static int port;
    private static ExecutorService workers;

    @BeforeAll
    static void startTomcat() throws Exception {
        workers = Executors.newCachedThreadPool();
        tomcat = new LoopbackTomcat(baseDir);
        StandardContext app = tomcat.app;
        Wrapper servlet = Tomcat.addServlet(app, "async", new AsyncServlet());
        servlet.setAsyncSupported(true);
        app.addServletMapping("/*", "async");
        tomcat.addFilter("loser", new LosingFilter(), "REQUEST");
        tomcat.addFilter("deadlines", DEADLINES, "REQUEST");
        tomcat.addFilter("limits", LIMITS, "REQUEST");
        port = tomcat.start();
    }

    @AfterAll
    static void stopTomcat() throws Exception {
        UNBLOCK.release(100); // an async dispatch a failed test left waiting
        for (AsyncContext held; (held = HELD.poll()) != null; ) {
            held.complete();
        }
        if (workers != null) {
            workers.shutdownNow();
            assertTrue(workers.awaitTermination(10, TimeUnit.SECONDS));
        }
        if (tomcat != null) {
            tomcat.stop();
        }
    }

    /**
     * Starts async with {@code timeout} ms; {@code mode=complete}: a worker answers "ok" and
     * completes; {@code mode=hold}: the test completes it ({@link #HELD}); {@code mode=dispatch}: a
     * worker dispatches the request back here, and that async dispatch waits for {@link #UNBLOCK}
     * before it answers (the cycle ends when it returns).
     */
    static final class AsyncServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if (req.getDispatcherType() == DispatcherType.ASYNC && "again".equals(req.getParameter("step"))) {
                AsyncContext second = req.startAsync(); // a second async cycle of the same request
                second.setTimeout(10_000);
                workers.execute(() -> answer(second));
                return;
            }
            if (req.getDispatcherType() == DispatcherType.ASYNC) {
                DISPATCHED.release();
                try {
                    UNBLOCK.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                resp.getWriter().write("ok");
                return;
            }
            CONTEXT.set(DeadlineFilter.context(req));
            AsyncContext async = req.startAsync();
            LAST.set(async);
            async.setTimeout(Long.parseLong(req.getParameter("timeout")));
            String mode = req.getParameter("mode");
            if ("hold".equals(mode)) {
                HELD.add(async);
            } else if ("dispatch".equals(mode)) {
                workers.execute(async::dispatch);
            } else if ("twice".equals(mode)) {
                workers.execute(() -> async.dispatch("/x?step=again"));
            } else {
                workers.execute(() -> answer(async));
            }
        }
    }

    private static void answer(AsyncContext async) {
        try {
            async.getResponse().getWriter().write("ok");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            async.complete();
        }
    }

    /** Outermost: with {@code x-lose: 1}, the filters behind it never hear of the async cycle's end. */
    static final class LosingFilter implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            HttpServletRequest req = (HttpServletRequest) request;
            try {
                chain.doFilter("1".equals(req.getHeader("x-lose")) ? new Losing(req) : request, response);
            } finally {
                RETURNED.release();
            }
        }
    }

    /** A request whose {@link #getAsyncContext()} drops the listeners added to it. */
    static final class Losing extends HttpServletRequestWrapper {
        Losing(HttpServletRequest request) {
            super(request);
        }

        @Override
        public AsyncContext getAsyncContext() {
            AsyncContext real = super.getAsyncContext();
            return new AsyncContext() {
                @Override
                public ServletRequest getRequest() {
                    return real.getRequest();
                }

                @Override
                public ServletResponse getResponse() {
                    return real.getResponse();
                }

                @Override
                public boolean hasOriginalRequestAndResponse() {
                    return real.hasOriginalRequestAndResponse();
                }

                @Override
                public void dispatch() {
                    real.dispatch();
                }

                @Override
                public void dispatch(String path) {
                    real.dispatch(path);
                }

                @Override
                public void dispatch(ServletContext context, String path) {
                    real.dispatch(context, path);
                }

                @Override
                public void complete() {
                    real.complete();
                }

                @Override
                public void start(Runnable run) {
                    real.start(run);
                }

                @Override
                public void addListener(AsyncListener listener) {
                    // lost, as the container lost the events
                }

                @Override
                public void addListener(AsyncListener listener, ServletRequest request, ServletResponse response) {
                    // lost
                }

                @Override
                public <T extends AsyncListener> T createListener(Class<T> clazz) throws ServletException {
                    return real.createListener(clazz);
                }

                @Override
                public void setTimeout(long timeout) {
                    real.setTimeout(timeout);
                }

                @Override
                public long getTimeout() {
                    return real.getTimeout(); // Tomcat throws IllegalStateException once the request is over
                }
            };
        }
    }

    /** Sends the request and waits until the outermost filter's chain has returned. */
    private static RawHttp.Response send(String path, boolean lose) throws Exception {
        RawHttp.Response r = RawHttp.get(port, path, lose ? "x-lose: 1" : "x-lose: 0");
        assertTrue(RETURNED.tryAcquire(10, TimeUnit.SECONDS), "the first dispatch returned");
        return r;
    }

    /** Sends a request that loses its events from a worker; the test lets it finish. */
    private static void sendLosingInBackground(String path) {
        workers.execute(() -> {
            try {
                RawHttp.get(port, path, "x-lose: 1");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * Waits until Tomcat says the request of {@code async} is over (getTimeout() throws, as it does
     * to the backstop once the request was recycled), at most 10 s.
     */
    private static void awaitOver(AsyncContext async) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            try {
                async.getTimeout();
            } catch (IllegalStateException over) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("Tomcat did not end the request");
    }

    /**
     * Waits until Tomcat has ended the request of {@code async}, then sweeps 11 ticks: two questions
     * fall within them (the first comes 6 ticks after the arm, then one every 5).
     */
    private static void sweepPastTheSecondQuestion(AsyncContext async) throws InterruptedException {
        awaitOver(async);
        sweep(11);
    }

    /**
     * Waits, at most 10 s, until the limiter holds {@code held} permits again and {@code context}
     * is done: the events Tomcat fires on its own thread after the response.
     */
    private static void awaitHeard(int held, Context context) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((LIMITER.inFlight() != held || !context.isDone()) && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    private static void sweep(int ticks) {
        for (int i = 0; i < ticks; i++) {
            BACKSTOP.sweep();
        }
    }

    @Test
    void aCompletedRequestWhoseEndWasLostGivesBackItsPermitAndCancelsItsContextAtTheSecondOverAnswer()
            throws Exception {
        long limitLost = LIMITS.lostAsyncCycles();
        long deadlineLost = DEADLINES.lostAsyncCycles();
        int held = LIMITER.inFlight();
        RawHttp.Response r = send("/x?mode=complete&timeout=2000", true);
        assertEquals(200, r.status());
        assertEquals("ok", r.body());
        Context context = CONTEXT.get();
        assertEquals(held + 1, LIMITER.inFlight(), "the lost end holds the permit");
        awaitOver(LAST.get()); // Tomcat has recycled the request: each question is answered "over"
        sweep(10); // asked at ticks 6 and 11: Tomcat must say "over" twice
        assertEquals(held + 1, LIMITER.inFlight(), "not at the first answer");
        assertFalse(context.isDone());
        BACKSTOP.sweep();
        assertEquals(held, LIMITER.inFlight(), "given back");
        assertTrue(context.isDone(), "cancelled");
        assertEquals(limitLost + 1, LIMITS.lostAsyncCycles());
        assertEquals(deadlineLost + 1, DEADLINES.lostAsyncCycles());
    }

    @Test
    void aLiveRequestIsNotEndedHoweverLongItRunsPastItsTimeout() throws Exception {
        long limitLost = LIMITS.lostAsyncCycles();
        int held = LIMITER.inFlight();
        sendLosingInBackground("/x?mode=hold&timeout=10000");
        AsyncContext async = HELD.poll(10, TimeUnit.SECONDS);
        assertNotNull(async, "the request is held");
        assertTrue(RETURNED.tryAcquire(10, TimeUnit.SECONDS), "the first dispatch returned");
        Context context = CONTEXT.get();
        sweep(60);
        assertEquals(held + 1, LIMITER.inFlight(), "live: past its 10 s timeout in ticks, but Tomcat still knows it");
        assertFalse(context.isDone());
        answer(async);
        sweepPastTheSecondQuestion(async);
        assertEquals(held, LIMITER.inFlight(), "its end was lost: given back once Tomcat called it over");
        assertTrue(context.isDone());
        assertEquals(limitLost + 1, LIMITS.lostAsyncCycles());
    }

    @Test
    void anAsyncDispatchThatRunsPastTheTimeoutKeepsItsPermit() throws Exception {
        long limitLost = LIMITS.lostAsyncCycles();
        int held = LIMITER.inFlight();
        sendLosingInBackground("/x?mode=dispatch&timeout=10000");
        assertTrue(RETURNED.tryAcquire(10, TimeUnit.SECONDS), "the first dispatch returned");
        assertTrue(DISPATCHED.tryAcquire(10, TimeUnit.SECONDS), "the async dispatch runs");
        Context context = CONTEXT.get();
        sweep(30); // far past 10 s in ticks: Tomcat does not time out a cycle while its dispatch runs
        assertEquals(held + 1, LIMITER.inFlight(), "still running: the permit stays");
        assertFalse(context.isDone());
        UNBLOCK.release();
        sweepPastTheSecondQuestion(LAST.get());
        assertEquals(held, LIMITER.inFlight(), "given back once the request was over");
        assertTrue(context.isDone());
        assertEquals(limitLost + 1, LIMITS.lostAsyncCycles());
    }

    @Test
    void whenTheContainerKeepsTheContractTheEventsEndItAndTheBackstopForgetsIt() throws Exception {
        long limitLost = LIMITS.lostAsyncCycles();
        long deadlineLost = DEADLINES.lostAsyncCycles();
        int held = LIMITER.inFlight();
        assertEquals(200, send("/x?mode=complete&timeout=2000", false).status());
        Context context = CONTEXT.get();
        awaitHeard(held, context); // onComplete runs on Tomcat's thread, just after the response
        assertEquals(held, LIMITER.inFlight());
        assertTrue(context.isDone());
        sweep(50);
        assertEquals(0, BACKSTOP.watched(), "ended entries are dropped");
        assertEquals(limitLost, LIMITS.lostAsyncCycles());
        assertEquals(deadlineLost, DEADLINES.lostAsyncCycles());
    }

    @Test
    void aCycleWithoutATimeoutIsWatchedToo() throws Exception {
        long limitLost = LIMITS.lostAsyncCycles();
        int held = LIMITER.inFlight();
        assertEquals(200, send("/x?mode=complete&timeout=0", true).status());
        assertEquals(held + 1, LIMITER.inFlight(), "the lost end holds the permit");
        sweepPastTheSecondQuestion(LAST.get());
        assertEquals(held, LIMITER.inFlight(), "given back once Tomcat called the request over");
        assertEquals(limitLost + 1, LIMITS.lostAsyncCycles());
    }

    @Test
    void aSecondAsyncCycleIsFollowedAndItsEndHeard() throws Exception {
        long limitLost = LIMITS.lostAsyncCycles();
        long deadlineLost = DEADLINES.lostAsyncCycles();
        int held = LIMITER.inFlight();
        RawHttp.Response r = send("/x?mode=twice&timeout=10000", false);
        assertEquals(200, r.status());
        assertEquals("ok", r.body());
        Context context = CONTEXT.get();
        awaitHeard(held, context); // the second cycle's onComplete, with no sweep at all
        assertEquals(held, LIMITER.inFlight(), "the filters stayed on for the second cycle (onStartAsync) and heard it end");
        assertTrue(context.isDone());
        awaitOver(LAST.get());
        sweep(20);
        assertEquals(limitLost, LIMITS.lostAsyncCycles());
        assertEquals(deadlineLost, DEADLINES.lostAsyncCycles());
    }
}
