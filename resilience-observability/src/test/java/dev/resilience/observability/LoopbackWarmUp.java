package dev.resilience.observability;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * One request to a test's loopback server before the requests it measures: the test classes of this
 * module run in a JVM each, so the first request would pay the HTTP client's class loading and the
 * first connection inside the timeouts the test sets.
 */
final class LoopbackWarmUp {

    private LoopbackWarmUp() {
    }

    /** Adds {@code /warm} (204, no body) to the started {@code server} and sends it one request through {@code client}. */
    static void warmUp(HttpServer server, HttpClient client) throws IOException, InterruptedException {
        server.createContext("/warm", ex -> {
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        URI warm = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/warm");
        int status = client.send(HttpRequest.newBuilder(warm).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status != 204) {
            throw new AssertionError("the warm-up request answered " + status);
        }
    }
}
