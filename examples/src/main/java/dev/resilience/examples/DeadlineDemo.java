package dev.resilience.examples;

import dev.resilience.http.HttpDeadlines;
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
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deadline crossing HTTP: a client calls a slow service on loopback under a deadline; the
 * service reads the {@code grpc-timeout} header, works under that deadline, and gives up as soon
 * as the caller would no longer wait, instead of finishing useless work.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java}
 */
public final class DeadlineDemo {

    /** One unit of the service's work. */
    static final Duration STEP = Duration.ofMillis(50);
    /** Units per job: the job needs 300 ms. */
    static final int STEPS = 6;

    private DeadlineDemo() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** What the service did: steps completed and jobs abandoned. */
    record Outcome(int stepsDone, int jobsAbandoned, int jobsCompleted) {
    }

    static Outcome run(PrintStream out) throws IOException, InterruptedException {
        AtomicInteger steps = new AtomicInteger();
        AtomicInteger abandoned = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/job", exchange -> serve(exchange, out, steps, abandoned, completed));
        server.start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/job");
            call(client, uri, Duration.ofSeconds(2), out);
            call(client, uri, Duration.ofMillis(120), out);
        } finally {
            server.stop(0);
        }
        Outcome o = new Outcome(steps.get(), abandoned.get(), completed.get());
        out.printf("[summary] service steps run: %d of %d requested; jobs completed %d, abandoned %d%n",
                o.stepsDone(), 2 * STEPS, o.jobsCompleted(), o.jobsAbandoned());
        return o;
    }

    /** The client: a deadline for the whole call, sent along as a header. */
    private static void call(HttpClient client, URI uri, Duration deadline, PrintStream out)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        try (CancelHandle call = Context.current().withTimeout(deadline); Scope s = call.attach()) {
            HttpRequest request = HttpDeadlines.propagate(HttpRequest.newBuilder(uri)).build();
            out.printf("[client]  deadline %d ms, sending grpc-timeout: %s%n", deadline.toMillis(),
                    request.headers().firstValue(DeadlineHeaders.GRPC_TIMEOUT).orElse("-"));
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            out.printf("[client]  %d %s after %d ms%n", response.statusCode(), response.body(), millisSince(start));
        } catch (HttpTimeoutException e) {
            out.printf("[client]  gave up after %d ms: deadline exceeded%n", millisSince(start));
        }
    }

    /** The service: works in steps under the caller's deadline and stops when it passes. */
    private static void serve(HttpExchange exchange, PrintStream out, AtomicInteger steps, AtomicInteger abandoned,
            AtomicInteger completed) throws IOException {
        HeaderTimeout timeout = DeadlineHeaders.read(exchange.getRequestHeaders()::getFirst);
        int status;
        String body;
        try (CancelHandle request = timeout.applyTo(Context.background()); Scope s = request.attach()) {
            out.printf("[service] received, caller waits %s%n",
                    timeout.timeout().map(d -> d.toMillis() + " ms").orElse("forever"));
            int done = 0;
            WaitResult r = WaitResult.ELAPSED;
            while (done < STEPS) {
                long until = System.nanoTime() + STEP.toNanos();
                r = Context.current().waitUntil(Ticker.system(), until);   // one step of "work"
                if (r != WaitResult.ELAPSED) {
                    break;
                }
                done++;
                steps.incrementAndGet();
            }
            if (done == STEPS) {
                completed.incrementAndGet();
                status = 200;
                body = "job done in " + STEPS + " steps";
            } else {
                abandoned.incrementAndGet();
                status = 504;
                body = "abandoned after " + done + " of " + STEPS + " steps: " + r;
            }
            out.printf("[service] %s%n", body);
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private static long millisSince(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
