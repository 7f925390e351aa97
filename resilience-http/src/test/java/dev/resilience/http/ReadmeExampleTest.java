package dev.resilience.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's first code example, verbatim in {@link #readmeExample}, run against a loopback server. */
class ReadmeExampleTest {

    static final Context.Key<String> TENANT = Context.Key.named("tenant");

    private final HttpClient client = HttpClient.newHttpClient();
    private URI uri;
    private String tenantSeen;
    private Context contextOfCall;

    HttpResponse<String> readmeExample() throws IOException, InterruptedException {
        try (CancelHandle call = Context.current().withValue(TENANT, "acme").withTimeout(Duration.ofMillis(250));
             Scope scope = call.attach()) {
            HttpRequest request = HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build();   // grpc-timeout: 249998u
            tenantSeen = TENANT.get();
            contextOfCall = Context.current();
            return client.send(request, BodyHandlers.ofString());                                  // TENANT.get() == "acme"
        }   // close() cancels the context: nothing started under it outlives the call
    }

    @Test
    void readmeExampleSendsTheDeadlineAndCancelsOnClose() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] b = String.valueOf(exchange.getRequestHeaders().getFirst("grpc-timeout"))
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, b.length);
            exchange.getResponseBody().write(b);
            exchange.close();
        });
        server.start();
        try {
            uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            HttpResponse<String> response = readmeExample();
            long sent = DeadlineHeaders.parseGrpcTimeout(response.body());
            assertTrue(sent > 0 && sent <= Duration.ofMillis(250).toNanos(), response.body());
            assertEquals("acme", tenantSeen);
            assertTrue(contextOfCall.isDone(), "closing the handle cancelled the call's context");
            assertEquals(Context.background(), Context.current());
        } finally {
            server.stop(0);
        }
    }
}
