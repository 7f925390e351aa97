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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A dependency on loopback (the JDK's HttpServer): {@code /pay} answers 200 {@code paid}, or 503 while
 * {@link #failing} is set; it counts requests and records the {@code grpc-timeout} each one brought.
 */
public final class FlakyDependency implements AutoCloseable {

    static {
        // Without it every response waits for a delayed ACK on loopback (~40 ms).
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicBoolean failing = new AtomicBoolean();
    public final List<String> grpcTimeouts = new CopyOnWriteArrayList<>();
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(8);

    public FlakyDependency() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/pay", this::pay);
        server.setExecutor(executor);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void reset() {
        requests.set(0);
        failing.set(false);
        grpcTimeouts.clear();
    }

    private void pay(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            String timeout = exchange.getRequestHeaders().getFirst("grpc-timeout");
            grpcTimeouts.add(timeout == null ? "" : timeout);
            exchange.getRequestBody().readAllBytes();
            boolean fail = failing.get();
            byte[] body = (fail ? "unavailable" : "paid").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(fail ? 503 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.stop(0);
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
    }
}
