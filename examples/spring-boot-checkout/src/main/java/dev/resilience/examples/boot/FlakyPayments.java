package dev.resilience.examples.boot;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.HeaderTimeout;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import dev.resilience.context.WaitResult;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Payments, the flaky dependency: a JDK {@code HttpServer} on loopback. {@code GET /pay} works under
 * the caller's deadline ({@code grpc-timeout}) and fails by {@link Mode}, as the flagship's
 * payments does. It counts what it received, to show that the deadline arrived.
 */
final class FlakyPayments implements AutoCloseable {

    static {
        // Without it every response waits for a delayed ACK on loopback (~40 ms).
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** What payments does. */
    enum Mode {
        /** Answers 200 after 5 ms of work. */
        HEALTHY,
        /** 30 % of the requests fail with 500. */
        ERRORS,
        /** 20 % of the requests take 400 ms, unless the caller's deadline comes first (then 504). */
        SPIKES,
        /** Every request fails with 503. */
        OUTAGE
    }

    final AtomicReference<Mode> mode = new AtomicReference<>(Mode.HEALTHY);
    /** Requests received. */
    final AtomicInteger requests = new AtomicInteger();
    /** Requests that carried a valid {@code grpc-timeout}. */
    final AtomicInteger withDeadline = new AtomicInteger();
    /** The longest deadline a request brought, in nanoseconds. */
    final AtomicLong longestDeadlineNanos = new AtomicLong();
    /** Requests whose work payments stopped because the caller's deadline passed. */
    final AtomicInteger stoppedAtDeadline = new AtomicInteger();

    private final ExecutorService executor = Executors.newFixedThreadPool(16, r -> {
        Thread t = new Thread(r, "payments");
        t.setDaemon(true);
        return t;
    });
    private final HttpServer server;

    FlakyPayments() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/pay", this::pay);
        server.setExecutor(executor);
        server.start();
    }

    /** @return the base URL, {@code http://127.0.0.1:port} */
    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void pay(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            HeaderTimeout timeout = DeadlineHeaders.read(exchange.getRequestHeaders()::getFirst);
            if (timeout.isPresent()) {
                withDeadline.incrementAndGet();
                longestDeadlineNanos.accumulateAndGet(timeout.nanos(), Math::max);
            }
            int status;
            String body;
            try (CancelHandle request = timeout.applyTo(Context.background()); Scope s = request.attach()) {
                Mode m = mode.get();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                if (m == Mode.OUTAGE) {
                    status = 503;
                    body = "payments down";
                } else if (m == Mode.ERRORS && random.nextDouble() < 0.3) {
                    status = 500;
                    body = "payments error";
                } else if (work(m == Mode.SPIKES && random.nextDouble() < 0.2 ? Duration.ofMillis(400) : Duration.ofMillis(5))) {
                    status = 200;
                    body = "paid";
                } else {
                    stoppedAtDeadline.incrementAndGet();
                    status = 504;
                    body = "deadline passed: stopped";
                }
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Works for {@code length} under the current context; false if its deadline came first. */
    private static boolean work(Duration length) {
        return Context.current().waitUntil(Ticker.system(), System.nanoTime() + length.toNanos()) == WaitResult.ELAPSED;
    }

    @Override
    public void close() throws InterruptedException {
        server.stop(0);
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
    }
}
