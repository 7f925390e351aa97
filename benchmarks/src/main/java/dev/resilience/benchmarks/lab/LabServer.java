package dev.resilience.benchmarks.lab;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.Permit;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The dependency: a JDK {@code HttpServer} on 127.0.0.1 whose capacity comes from a fixed worker
 * pool and a fixed service time, not from the CPU. {@code workers} threads each "work" for
 * {@code serviceNanos} per request (a park, no CPU), so the capacity is {@code workers / service time}
 * requests a second; requests beyond the busy workers wait in an unbounded FIFO queue (the worker
 * pool's), so under overload their latency grows as a real server's would.
 *
 * <p><b>Arrival.</b> The JDK server hands each request to {@link #execute} (our executor) when its
 * connection becomes readable; that moment is the request's arrival. A wrapper remembers it and, for
 * the inbound limit, the permit taken then.
 *
 * <p><b>What it measures</b> (into the current {@link RunStats}, by the second in which the event
 * happened, busy time by the request's arrival second): requests received (read and handed to the handler, filed under their arrival;
 * connections that the client closed before a request could be read, which the JDK server also
 * hands to the executor, are counted apart as unread), busy time (time a worker
 * spent working on a request: parked for its service time), and <em>wasted</em> busy time: the busy
 * time of a request whose caller had already given up when its work ended. The caller's give-up time
 * is the lab-only header {@code x-lab-deadline} (nanoseconds on this JVM's {@code System.nanoTime()},
 * the time at which the client's attempt times out), used for this measurement only.
 *
 * <p><b>Deadline propagation.</b> A request carrying {@code grpc-timeout} (what our clients send) has a
 * deadline of arrival + that timeout. When a worker takes such a request after its deadline, it
 * answers 504 without doing the work; while working it stops at the deadline (504; the time worked
 * counts as wasted). That is what a handler behind our inbound {@code DeadlineFilter} (servlet or
 * {@code jdkserver}) does, with one difference that the lab makes explicit: those filters start the
 * clock when they run, on the worker thread, after the request waited in the server's queue; this
 * server starts it on arrival, as gRPC's server does. {@code --server-deadline-from worker} reproduces
 * the filters' behaviour instead.
 *
 * <p><b>Inbound adaptive limit</b> (optional, the setup {@code ours-inbound}): an
 * {@link AdaptiveLimiter} in front of the queue, as {@code AdaptiveLimitFilter} uses it: a permit per
 * request taken on arrival, returned when the response is complete (a latency sample; given back
 * without a sample when the request expired or was cut off at its deadline, which is always its
 * caller's here: the filter's rule since 2026-12-01, so that a caller cannot push the limit down
 * with short deadlines); a request over the limit is answered at once
 * with 503 and {@code Retry-After: 1} by a separate small pool (it never waits behind the workers).
 * Expired work is shed when a worker reaches it, before any work is done (headers, and so deadlines,
 * are read only then, so the queue cannot be searched for expired entries on arrival).
 *
 * <p><b>Faults</b>, switchable at any time: {@link Fault#ERRORS} (each request fails with 503 with
 * probability {@code errorRate}, decided with a seeded random after its work: the failed work costs
 * its service time), {@link Fault#SLOW} (service time x {@code slowFactor}), {@link Fault#DOWN} (the
 * listening socket and every connection closed: connections are refused; {@link #up()} binds the same
 * port again).
 */
final class LabServer implements AutoCloseable {

    /** What the dependency is doing wrong right now. */
    enum Fault { NONE, ERRORS, SLOW, DOWN }

    /** The lab-only header carrying the absolute time (this JVM's nanoTime) at which the caller gives up. */
    static final String LAB_DEADLINE = "x-lab-deadline";

    /** Where the server starts the clock of a {@code grpc-timeout}. */
    enum DeadlineFrom { ARRIVAL, WORKER }

    /** One request between arrival and its handler. */
    private static final class Arrival {
        long nanos;
        Permit permit;
        boolean shed;
        boolean handled;
    }

    private static final ThreadLocal<Arrival> CURRENT = new ThreadLocal<>();

    private final int workers;
    private final long serviceNanos;
    private final double errorRate;
    private volatile int slowFactor;
    private final DeadlineFrom deadlineFrom;
    private final Random random;
    private final ThreadPoolExecutor pool;
    private final ExecutorService shedPool;
    private final Executor executor = this::execute;
    private volatile HttpServer server;
    private volatile int port;
    private volatile Fault fault = Fault.NONE;
    private volatile AdaptiveLimiter inbound;
    private volatile RunStats stats;
    private final AtomicLong totalReceived = new AtomicLong();

    LabServer(int workers, long serviceNanos, double errorRate, int slowFactor, DeadlineFrom deadlineFrom, long seed)
            throws IOException {
        this.workers = workers;
        this.serviceNanos = serviceNanos;
        this.errorRate = errorRate;
        this.slowFactor = slowFactor;
        this.deadlineFrom = deadlineFrom;
        this.random = new Random(seed); // thread-safe; the order of draws follows the order of requests
        this.pool = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                Lab.daemonThreads("dependency-worker"));
        this.shedPool = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                Lab.daemonThreads("dependency-shed"));
        bind(0);
    }

    private void bind(int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
        s.createContext("/", this::handle);
        s.setExecutor(executor);
        s.start();
        this.port = s.getAddress().getPort();
        this.server = s;
    }

    /** The port, the same across {@link #down()} and {@link #up()}. */
    int port() {
        return port;
    }

    /** Nominal capacity in requests a second: workers / service time. */
    double nominalCapacity() {
        return workers * 1e9 / serviceNanos;
    }

    int workers() {
        return workers;
    }

    /** Where the measurements of the next requests go (null: nowhere). */
    void stats(RunStats stats) {
        this.stats = stats;
    }

    /** The service time's multiple under {@link Fault#SLOW} from now on. */
    void slowFactor(int factor) {
        this.slowFactor = factor;
    }

    /** Puts an adaptive limit in front of the queue, or removes it (null). */
    void inboundLimit(AdaptiveLimiter limiter) {
        this.inbound = limiter;
    }

    /** A new inbound limiter: Gradient2 from 20, never below the worker count, at most 200. */
    AdaptiveLimiter newInboundLimiter() {
        return AdaptiveLimiter.builder("dependency-inbound")
                .algorithm(LimitAlgorithm.gradient2(20, workers, 200)).build();
    }

    /** Switches the fault; {@link Fault#DOWN} is {@link #down()}, leaving it {@link #up()}. */
    void fault(Fault f) throws IOException {
        Fault previous = this.fault;
        if (f == previous) {
            return;
        }
        if (f == Fault.DOWN) {
            down();
        } else if (previous == Fault.DOWN) {
            up();
        }
        this.fault = f;
    }

    Fault fault() {
        return fault;
    }

    /** Closes the listening socket and every connection: new connections are refused. */
    private void down() {
        HttpServer s = server;
        s.stop(0);
    }

    /** Binds the same port again (retrying for up to 2 s while the port is still held). */
    private void up() throws IOException {
        long end = System.nanoTime() + 2_000_000_000L;
        while (true) {
            try {
                bind(port);
                return;
            } catch (java.net.BindException e) {
                if (System.nanoTime() - end > 0) {
                    throw e;
                }
                LockSupport.parkNanos(10_000_000L);
            }
        }
    }

    long totalReceived() {
        return totalReceived.get();
    }

    /** Waits (bounded) until no request is queued or being worked on. */
    boolean awaitIdle(long timeoutNanos) {
        long end = System.nanoTime() + timeoutNanos;
        while (pool.getQueue().size() + pool.getActiveCount() > 0) {
            if (System.nanoTime() - end > 0) {
                return false;
            }
            LockSupport.parkNanos(10_000_000L);
        }
        return true;
    }

    /** The JDK server hands each request here when it arrives. */
    private void execute(Runnable exchange) {
        Arrival a = new Arrival();
        a.nanos = System.nanoTime();
        AdaptiveLimiter limiter = inbound;
        if (limiter != null) {
            Permit p = limiter.tryAcquire();
            if (!p.isPermitted()) {
                a.shed = true;
                shedPool.execute(() -> run(exchange, a));
                return;
            }
            a.permit = p;
        }
        pool.execute(() -> run(exchange, a));
    }

    private void run(Runnable exchange, Arrival a) {
        CURRENT.set(a);
        try {
            exchange.run();
        } finally {
            CURRENT.remove();
            RunStats s = stats;
            if (!a.handled && s != null) {
                s.serverUnread(System.nanoTime()); // the connection closed before a request could be read
            }
            if (a.permit != null) { // the exchange failed before the handler (a closed connection)
                a.permit.release();
                a.permit = null;
            }
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        Arrival a = CURRENT.get();
        if (a != null) {
            a.handled = true;
        }
        long taken = System.nanoTime();
        long arrival = a == null ? taken : a.nanos;
        totalReceived.incrementAndGet();
        RunStats s = stats;
        if (s != null) {
            s.serverReceived(arrival);
        }
        try {
            if (a != null && a.shed) {
                if (s != null) {
                    s.serverShed(taken);
                }
                exchange.getResponseHeaders().set("Retry-After", "1");
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            long labDeadline = header(exchange, LAB_DEADLINE, arrival);
            boolean hasLabDeadline = exchange.getRequestHeaders().containsKey(LAB_DEADLINE);
            String grpc = exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT);
            boolean propagated = grpc != null;
            long deadline = propagated
                    ? (deadlineFrom == DeadlineFrom.ARRIVAL ? arrival : taken) + DeadlineHeaders.parseGrpcTimeout(grpc)
                    : Long.MAX_VALUE;
            if (propagated && taken - deadline >= 0) {
                // what our inbound deadline filter does: the caller has given up, do not start the work
                if (s != null) {
                    s.serverDropped(taken);
                }
                finish(a, true);
                exchange.sendResponseHeaders(504, -1);
                return;
            }
            Fault f = fault;
            long work = f == Fault.SLOW ? serviceNanos * slowFactor : serviceNanos;
            long end = taken + work;
            boolean cut = propagated && end - deadline > 0;
            if (cut) {
                end = deadline; // a handler that watches its context stops at the deadline
            }
            for (long left; (left = end - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(left);
            }
            long done = System.nanoTime();
            if (s != null) {
                s.serverBusy(arrival, done - taken, hasLabDeadline && done - labDeadline > 0); // under its arrival second
            }
            int status;
            if (cut) {
                status = 504;
                if (s != null) {
                    s.serverDropped(done);
                }
            } else if (f == Fault.ERRORS && random.nextDouble() < errorRate) {
                status = 503;
                if (s != null) {
                    s.serverFailed(done);
                }
            } else {
                status = 200;
            }
            finish(a, cut);
            exchange.sendResponseHeaders(status, -1);
        } finally {
            exchange.close();
        }
    }

    /**
     * Returns the inbound permit: a latency sample, or no sample if the request ran out of its
     * caller's deadline (as {@code AdaptiveLimitFilter} does with a caller's deadline).
     */
    private static void finish(Arrival a, boolean expired) {
        if (a == null || a.permit == null) {
            return;
        }
        Permit p = a.permit;
        a.permit = null;
        if (expired) {
            p.release();
        } else {
            p.onSuccess();
        }
    }

    private static long header(HttpExchange exchange, String name, long otherwise) {
        String v = exchange.getRequestHeaders().getFirst(name);
        return v == null ? otherwise : Long.parseLong(v);
    }

    @Override
    public void close() {
        HttpServer s = server;
        if (fault != Fault.DOWN) {
            s.stop(0);
        }
        pool.shutdownNow();
        shedPool.shutdownNow();
    }
}
