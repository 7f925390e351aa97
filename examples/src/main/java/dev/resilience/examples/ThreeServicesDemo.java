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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deadline across three services on loopback: A calls B, B does a step of its own, calls C and
 * then has three more steps to do with C's answer. C is slow. With a generous deadline everything
 * completes; with a tight one, C stops when the deadline passes, and B, seeing that A has stopped
 * waiting, skips its remaining steps instead of doing work nobody will read.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.ThreeServicesDemo}
 */
public final class ThreeServicesDemo {

    static final Duration STEP = Duration.ofMillis(40);
    /** C needs 6 steps (240 ms); B needs 1 before calling C and 3 after. */
    static final int C_STEPS = 6;
    static final int B_AFTER_STEPS = 3;

    private ThreeServicesDemo() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** Work counters and what A saw for the generous and the tight call. */
    record Outcome(int cSteps, int bAfterSteps, int bSkipped, String generous, String tight) {
    }

    static Outcome run(PrintStream out) throws IOException, InterruptedException {
        AtomicInteger cSteps = new AtomicInteger();
        AtomicInteger bAfter = new AtomicInteger();
        AtomicInteger bSkipped = new AtomicInteger();
        HttpClient client = HttpClient.newHttpClient();
        HttpServer c = server();
        HttpServer b = server();
        c.createContext("/c", ex -> respond(ex, serveC(ex, out, cSteps)));
        URI cUri = uri(c, "/c");
        b.createContext("/b", ex -> respond(ex, serveB(ex, out, client, cUri, bAfter, bSkipped)));
        c.start();
        b.start();
        try {
            String generous = callB(client, uri(b, "/b"), Duration.ofSeconds(3), out);
            String tight = callB(client, uri(b, "/b"), Duration.ofMillis(200), out);
            // B answers the tight call only after C gives up; wait for that before reading the counters
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (bSkipped.get() + bAfter.get() < 2 * B_AFTER_STEPS && System.nanoTime() < until) {
                Context.background().waitUntil(Ticker.system(), System.nanoTime() + STEP.toNanos());
            }
            Outcome o = new Outcome(cSteps.get(), bAfter.get(), bSkipped.get(), generous, tight);
            out.printf("[summary] C ran %d of %d steps; B ran %d after-C steps and skipped %d%n",
                    o.cSteps(), 2 * C_STEPS, o.bAfterSteps(), o.bSkipped());
            return o;
        } finally {
            b.stop(0);
            c.stop(0);
        }
    }

    private static HttpServer server() throws IOException {
        return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    }

    private static URI uri(HttpServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.getAddress().getPort() + path);
    }

    /** A: one call to B under a deadline. */
    private static String callB(HttpClient client, URI b, Duration deadline, PrintStream out)
            throws IOException, InterruptedException {
        try (CancelHandle call = Context.current().withTimeout(deadline); Scope s = call.attach()) {
            HttpResponse<String> r = client.send(HttpDeadlines.propagate(HttpRequest.newBuilder(b)).build(),
                    HttpResponse.BodyHandlers.ofString());
            out.printf("[A] deadline %d ms: %d %s%n", deadline.toMillis(), r.statusCode(), r.body());
            return r.statusCode() + " " + r.body();
        } catch (HttpTimeoutException e) {
            out.printf("[A] deadline %d ms: gave up%n", deadline.toMillis());
            return "timed out";
        }
    }

    /** B: a step, a call to C under what is left of A's deadline, then three steps unless A stopped waiting. */
    private static Reply serveB(HttpExchange ex, PrintStream out, HttpClient client, URI c, AtomicInteger after,
            AtomicInteger skipped) {
        HeaderTimeout timeout = DeadlineHeaders.read(ex.getRequestHeaders()::getFirst);
        try (CancelHandle request = timeout.applyTo(Context.background()); Scope s = request.attach()) {
            if (!step()) {
                return new Reply(504, "B: deadline passed before calling C");
            }
            String fromC;
            try {
                HttpResponse<String> r = client.send(HttpDeadlines.propagate(HttpRequest.newBuilder(c)).build(),
                        HttpResponse.BodyHandlers.ofString());
                fromC = r.body();
            } catch (HttpTimeoutException e) {
                fromC = "no answer in time";
            } catch (IOException | InterruptedException e) {
                fromC = "failed: " + e;
            }
            for (int i = 0; i < B_AFTER_STEPS; i++) {
                // A step the deadline cut short (step() false) is abandoned work too: skipped, not done.
                if (Context.current().isDone() || !step()) {
                    skipped.addAndGet(B_AFTER_STEPS - i);
                    out.printf("[B] A no longer waits: skipping %d steps (C said: %s)%n", B_AFTER_STEPS - i, fromC);
                    return new Reply(504, "B gave up");
                }
                after.incrementAndGet();
            }
            return new Reply(200, "B done (C said: " + fromC + ")");
        }
    }

    /** C: slow work in steps under the caller's deadline. */
    private static Reply serveC(HttpExchange ex, PrintStream out, AtomicInteger steps) {
        HeaderTimeout timeout = DeadlineHeaders.read(ex.getRequestHeaders()::getFirst);
        try (CancelHandle request = timeout.applyTo(Context.background()); Scope s = request.attach()) {
            for (int i = 0; i < C_STEPS; i++) {
                if (!step()) {
                    out.printf("[C] abandoned after %d of %d steps%n", i, C_STEPS);
                    return new Reply(504, "C abandoned");
                }
                steps.incrementAndGet();
            }
            return new Reply(200, "C done");
        }
    }

    /** One step of work under the current context; false if the context ended first. */
    private static boolean step() {
        return Context.current().waitUntil(Ticker.system(), System.nanoTime() + STEP.toNanos()) == WaitResult.ELAPSED;
    }

    private record Reply(int status, String body) {
    }

    private static void respond(HttpExchange ex, Reply reply) throws IOException {
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(reply.status(), bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }
}
