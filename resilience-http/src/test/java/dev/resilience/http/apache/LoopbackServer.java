package dev.resilience.http.apache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.DeadlineHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JDK HttpServer on a loopback port that is slow, fails, throttles and records the deadline
 * header of every request it gets.
 *
 * <ul>
 * <li>{@code /ok}: 200 "hit n"
 * <li>{@code /flaky}: 503 (Retry-After: 0) twice, then 200
 * <li>{@code /down}: always 503 (Retry-After: 0)
 * <li>{@code /throttled}: 429 (Retry-After: 0) once, then 200
 * <li>{@code /later}: 503 with Retry-After: 1 once, then 200
 * <li>{@code /drop-once}: the first request's connection is closed without a response, then 200
 * <li>{@code /drop}: every request's connection is closed without a response
 * <li>{@code /slow}: answers after 2 s
 * <li>{@code /slow-once}: the first request is answered after 10 s, the others at once
 * <li>{@code /big-503}: always 503 with a 100 KiB body
 * <li>{@code /big-503-chunked}: the same, its length not announced (chunked)
 * <li>{@code /trickle}: 200 and the first bytes of the body at once, the rest after 2 s
 * <li>{@code /stall-503-chunked}, {@code /stall-503-long}, {@code /stall-503-short}: the first request
 *     gets a 503 (Retry-After: 0) whose body (chunked; announced as 200 MiB, 64 KiB of it sent at
 *     once; announced as 100 bytes) trickles a byte every 900 ms for 4.5 s (an announced length is
 *     never reached); the others get 200
 * </ul>
 */
final class LoopbackServer implements AutoCloseable {

    static final int BIG_BODY = 100 * 1024;

    private final HttpServer server;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    /** The {@code grpc-timeout} header of each request, in arrival order ("null" when absent). */
    final List<String> deadlines = new CopyOnWriteArrayList<>();
    /** The request bodies received, in arrival order. */
    final List<String> bodies = new CopyOnWriteArrayList<>();
    /** The client's port of each request, in arrival order: requests on one connection share it. */
    final List<Integer> ports = new CopyOnWriteArrayList<>();

    LoopbackServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool()); // a slow request must not hold up the next
        server.start();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        int n = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        deadlines.add(String.valueOf(exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT)));
        ports.add(exchange.getRemoteAddress().getPort());
        try (InputStream in = exchange.getRequestBody()) {
            bodies.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        int status = 200;
        byte[] body = ("hit " + n).getBytes(StandardCharsets.UTF_8);
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
            case "/later":
                if (n <= 1) {
                    status = 503;
                    exchange.getResponseHeaders().add("Retry-After", "1");
                }
                break;
            case "/much-later":
                status = 503;
                exchange.getResponseHeaders().add("Retry-After", "5");
                break;
            case "/drop-once":
                if (n <= 1) {
                    exchange.close(); // no response: the client sees the connection end
                    return;
                }
                break;
            case "/drop":
                exchange.close();
                return;
            case "/slow":
                pause(2_000);
                break;
            case "/slow-once":
                if (n <= 1) {
                    pause(10_000); // far over a stall of the machine; interrupted at close
                }
                break;
            case "/trickle":
                try {
                    exchange.sendResponseHeaders(200, 0); // chunked
                    exchange.getResponseBody().write("first ".getBytes(StandardCharsets.UTF_8));
                    exchange.getResponseBody().flush();
                    pause(2_000);
                    exchange.getResponseBody().write("last".getBytes(StandardCharsets.UTF_8));
                } catch (IOException clientLeft) {
                    // expected when the client gives up
                } finally {
                    exchange.close();
                }
                return;
            case "/stall-503-chunked":
            case "/stall-503-long":
            case "/stall-503-short":
                if (n <= 1) {
                    stall(exchange, path.endsWith("-chunked") ? 0 : path.endsWith("-long") ? 200L << 20 : 100);
                    return;
                }
                break;
            case "/big-503":
            case "/big-503-chunked":
                status = 503;
                body = new byte[BIG_BODY];
                Arrays.fill(body, (byte) 'x');
                break;
            default:
                break;
        }
        if (status != 200 && !exchange.getResponseHeaders().containsKey("Retry-After")) {
            exchange.getResponseHeaders().add("Retry-After", "0");
        }
        try {
            exchange.sendResponseHeaders(status, path.endsWith("-chunked") ? 0 : body.length);
            exchange.getResponseBody().write(body);
        } catch (IOException clientLeft) {
            // the client gave up on this one: expected for the slow paths
        } finally {
            exchange.close();
        }
    }

    /** A 503 whose body ({@code length} 0: chunked) comes a byte every 900 ms, and ends after 4.5 s. */
    private static void stall(HttpExchange exchange, long length) {
        try {
            exchange.getResponseHeaders().add("Retry-After", "0");
            exchange.sendResponseHeaders(503, length);
            OutputStream out = exchange.getResponseBody();
            out.write(new byte[length > BIG_BODY ? 64 * 1024 : 10]);
            out.flush();
            for (int i = 0; i < 5 && !Thread.currentThread().isInterrupted(); i++) {
                pause(900);
                out.write('x');
                out.flush();
            }
        } catch (IOException clientLeft) {
            // expected: the client closed the connection rather than read the rest
        } finally {
            exchange.close();
        }
    }

    /** The simulated dependency's own slowness, not a test waiting for a condition. */
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }
}
