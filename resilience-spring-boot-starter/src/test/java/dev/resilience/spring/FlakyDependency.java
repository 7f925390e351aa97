package dev.resilience.spring;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A dependency on loopback (the JDK's HttpServer): {@code /pay} answers 200 {@code paid}, or 503 while
 * {@link #failing} is set; it counts requests and records the {@code grpc-timeout} each one brought.
 * {@code /slow} does the same, but answers 200 {@code slow} only once {@link #releaseSlow()} is called
 * (or after 5 s).
 * While {@link #gate} is set (by {@link #hold()}), each request waits (at most 20 s) until {@link #release()}: a call in flight.
 */
public final class FlakyDependency implements AutoCloseable {

    static {
        // Without it every response waits for a delayed ACK on loopback (~40 ms).
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicBoolean failing = new AtomicBoolean();
    /** {@code /pay} requests after this many fail too (until {@link #reset}). */
    public volatile int failAfterRequests = Integer.MAX_VALUE;
    public final List<String> grpcTimeouts = new CopyOnWriteArrayList<>();
    /** Requests to {@code /missing}, which always answers 404. */
    public final AtomicInteger misses = new AtomicInteger();
    private volatile CountDownLatch slowGate = new CountDownLatch(1);
    public volatile CountDownLatch gate;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(8);

    public FlakyDependency() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/pay", this::pay);
        server.createContext("/slow", this::slow);
        server.createContext("/missing", exchange -> {
            try (exchange) {
                misses.incrementAndGet();
                exchange.sendResponseHeaders(404, -1);
            }
        });
        server.setExecutor(executor);
        server.start();
    }

    /** A dependency for a test class's static field: failing to start it fails the class. */
    public static FlakyDependency startOrFail() {
        try {
            return new FlakyDependency();
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Holds every request from now on until {@link #release()}. */
    public void hold() {
        gate = new CountDownLatch(1);
    }

    /** Lets held requests (and later ones) through. */
    public void release() {
        CountDownLatch h = gate;
        gate = null;
        if (h != null) {
            h.countDown();
        }
    }

    public void reset() {
        misses.set(0);
        failAfterRequests = Integer.MAX_VALUE;
        releaseSlow();
        release();
        requests.set(0);
        failing.set(false);
        grpcTimeouts.clear();
    }

    private void pay(HttpExchange exchange) throws IOException {
        try (exchange) {
            int n = requests.incrementAndGet();
            String timeout = exchange.getRequestHeaders().getFirst("grpc-timeout");
            grpcTimeouts.add(timeout == null ? "" : timeout);
            exchange.getRequestBody().readAllBytes();
            CountDownLatch h = gate;
            if (h != null) {
                try {
                    h.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            boolean fail = failing.get() || n > failAfterRequests;
            byte[] body = (fail ? "unavailable" : "paid").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(fail ? 503 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Lets every {@code /slow} request waiting now answer; later ones wait again. */
    public void releaseSlow() {
        CountDownLatch gate = slowGate;
        slowGate = new CountDownLatch(1);
        gate.countDown();
    }

    private void slow(HttpExchange exchange) throws IOException {
        try (exchange) {
            int n = requests.incrementAndGet();
            String timeout = exchange.getRequestHeaders().getFirst("grpc-timeout");
            grpcTimeouts.add(timeout == null ? "" : timeout);
            exchange.getRequestBody().readAllBytes();
            try {
                slowGate.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            byte[] body = "slow".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (IOException gone) {
            // the client gave up (its deadline passed) and closed the connection: expected
        }
    }

    @Override
    public void close() throws InterruptedException {
        releaseSlow();
        server.stop(0);
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
    }
}
