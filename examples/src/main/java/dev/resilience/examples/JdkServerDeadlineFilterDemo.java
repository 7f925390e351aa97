package dev.resilience.examples;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.http.HttpDeadlines;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.jdkserver.DeadlineFilter;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The caller's deadline in the JDK's {@code HttpServer}: {@link DeadlineFilter} reads each
 * request's {@code grpc-timeout} header, bounds it by the server's maximum (2 s here) and makes it
 * the handler's {@link Context}. A request whose deadline has already passed is answered 504
 * without running the handler.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.JdkServerDeadlineFilterDemo}
 */
public final class JdkServerDeadlineFilterDemo {

    private JdkServerDeadlineFilterDemo() {
    }

    public static void main(String[] args) throws Exception {
        Outcome o = run(System.out);
        System.out.printf("[summary] requests-the-handler-ran=%d expired-status=%d expired-not-run=%s%n",
                o.handlerSaw().size(), o.expiredStatus(), o.expiredStatus() == 504);
    }

    /** What the handler saw of each request it ran (in order), and the status of the expired one. */
    record Outcome(List<String> handlerSaw, int expiredStatus) {
    }

    static Outcome run(PrintStream out) throws IOException, InterruptedException {
        List<String> saw = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        HttpContext quote = server.createContext("/quote", exchange -> {
            // The handler, and whatever it calls, sees the caller's deadline through Context.current().
            String left = Context.current().remaining().map(d -> d.toMillis() + " ms left").orElse("no deadline");
            saw.add(left);
            out.printf("[handler] %s%n", left);
            byte[] body = left.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        quote.getFilters().add(new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(2)).build()));
        server.start();
        int expired;
        try {
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/quote");
            HttpClient client = HttpClient.newHttpClient();
            call(client, HttpRequest.newBuilder(uri), "no deadline header", out);
            try (CancelHandle caller = Context.current().withTimeout(Duration.ofMillis(300)); Scope s = caller.attach()) {
                call(client, HttpDeadlines.propagate(HttpRequest.newBuilder(uri)), "caller waits 300 ms", out);
            }
            call(client, HttpRequest.newBuilder(uri).header("grpc-timeout", "30S"), "caller asks for 30 s", out);
            expired = call(client, HttpRequest.newBuilder(uri).header("grpc-timeout", "0m"), "deadline already passed",
                    out);
        } finally {
            server.stop(0);
        }
        return new Outcome(List.copyOf(saw), expired);
    }

    private static int call(HttpClient client, HttpRequest.Builder request, String what, PrintStream out)
            throws IOException, InterruptedException {
        HttpRequest r = request.build();
        out.printf("[client]  %s (grpc-timeout: %s)%n", what, r.headers().firstValue("grpc-timeout").orElse("-"));
        HttpResponse<String> response = client.send(r, HttpResponse.BodyHandlers.ofString());
        out.printf("[client]  %d %s%n", response.statusCode(), response.body().isEmpty() ? "(handler not run)"
                : response.body());
        return response.statusCode();
    }
}
