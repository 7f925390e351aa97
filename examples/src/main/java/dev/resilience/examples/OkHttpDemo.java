package dev.resilience.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import dev.resilience.core.Backoff;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryListener;
import dev.resilience.http.HttpPolicy;
import dev.resilience.http.okhttp.ResilienceInterceptor;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * OkHttp through the toolkit: an {@code OkHttpClient} with {@link ResilienceInterceptor} calls a
 * service on loopback that answers 503 twice before it recovers. The interceptor retries with
 * backoff under the caller's 2 s deadline and sends each attempt's remaining time as
 * {@code grpc-timeout}; then a call to a service that never answers ends at the caller's 300 ms
 * deadline instead of OkHttp's 10 s read timeout.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.OkHttpDemo}
 */
public final class OkHttpDemo {

    private OkHttpDemo() {
    }

    public static void main(String[] args) throws Exception {
        Outcome o = run(System.out);
        System.out.printf("[summary] status=%d retries=%d headers-sent=%d silent-call-ended-at-deadline=%s%n", o.status(),
                o.retries(), o.deadlinesSeen().size(), o.silentCallTimedOut() && o.status() == 200);
    }

    /**
     * What happened: the status the caller got, the retries, the {@code grpc-timeout} values the
     * service saw, and how long the call to the silent service took.
     */
    record Outcome(int status, int retries, List<String> deadlinesSeen, long silentCallMillis, boolean silentCallTimedOut) {
    }

    static Outcome run(PrintStream out) throws IOException, InterruptedException {
        AtomicInteger requests = new AtomicInteger();
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch demoOver = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService serverThreads = Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        server.createContext("/quote", exchange -> quote(exchange, requests.incrementAndGet(), seen, out));
        server.createContext("/silent", exchange -> silent(exchange, demoOver));
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();

        AtomicInteger retries = new AtomicInteger();
        HttpPolicy policy = HttpPolicy.builder("quotes")
                .retry(4, Backoff.exponential(Duration.ofMillis(100), 2, Duration.ofSeconds(1), Backoff.Jitter.NONE))
                .timeout(Duration.ofMillis(500))
                .retryListener(new RetryListener() {
                    @Override
                    public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                        retries.incrementAndGet();
                        out.printf("[client]  attempt %d: %s, retrying in %d ms%n", attempt, failure.getMessage(),
                                TimeUnit.NANOSECONDS.toMillis(delayNanos));
                    }
                })
                .build();
        OkHttpClient client = new OkHttpClient.Builder()
                .addInterceptor(ResilienceInterceptor.of(policy)) // an application interceptor
                .build();
        int status;
        long silentMillis;
        boolean timedOut = false;
        try {
            out.printf("[client]  GET /quote under a 2 s deadline, at most 500 ms per attempt, up to 4 attempts%n");
            try (CancelHandle call = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach();
                 Response response = client.newCall(new Request.Builder().url(base + "/quote").build()).execute()) {
                status = response.code();
                out.printf("[client]  %d %s (%d retries, %d ms of the deadline left)%n", status, response.body().string(),
                        retries.get(), TimeUnit.NANOSECONDS.toMillis(call.context().remainingNanos()));
            }
            out.printf("[client]  GET /silent under a 300 ms deadline%n");
            long start = System.nanoTime();
            try (CancelHandle call = Context.current().withTimeout(Duration.ofMillis(300)); Scope s = call.attach();
                 Response response = client.newCall(new Request.Builder().url(base + "/silent").build()).execute()) {
                out.printf("[client]  unexpected answer %d%n", response.code());
            } catch (InterruptedIOException e) {
                timedOut = true;
                out.printf("[client]  silent service: gave up at the deadline: %s (cause %s)%n", e.getMessage(),
                        e.getCause().getClass().getSimpleName());
            }
            silentMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            out.printf("[client]  silent service: %d ms, not OkHttp's 10 s read timeout%n", silentMillis);
        } finally {
            demoOver.countDown();
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
            server.stop(0);
            serverThreads.shutdownNow();
        }
        return new Outcome(status, retries.get(), List.copyOf(seen), silentMillis, timedOut);
    }

    /** The flaky service: 503 for the first two requests, then a quote. */
    private static void quote(HttpExchange exchange, int n, List<String> seen, PrintStream out) throws IOException {
        String deadline = exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT);
        seen.add(String.valueOf(deadline));
        int status = n <= 2 ? 503 : 200;
        out.printf("[service] request %d, grpc-timeout: %s (%d ms) -> %d%n", n, deadline,
                TimeUnit.NANOSECONDS.toMillis(DeadlineHeaders.parseGrpcTimeout(deadline)), status);
        byte[] body = (status == 200 ? "\"Simplicity is prerequisite for reliability.\"" : "busy")
                .getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    /** The silent service: answers only when the demo is over. */
    private static void silent(HttpExchange exchange, CountDownLatch demoOver) throws IOException {
        try {
            demoOver.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchange.sendResponseHeaders(204, -1);
        exchange.close();
    }
}
