package dev.resilience.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryListener;
import dev.resilience.http.HttpPolicy;
import dev.resilience.http.HttpStatusException;
import dev.resilience.http.apache.ResilienceAsyncExecHandler;
import dev.resilience.http.apache.ResilienceExecHandler;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;

/**
 * Apache HttpClient 5 through the toolkit: a service on loopback answers 503 twice before it
 * answers, and a caller with a 2 s deadline calls it through the classic client and then the async
 * one. Each client has an exec handler installed that runs its requests through one
 * {@link HttpPolicy} (retry honouring {@code Retry-After}, a circuit breaker) and sends the time the
 * caller has left as {@code grpc-timeout}; the client's own retries are off, so nothing is retried
 * twice over. The service prints what it received.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.ApacheHttpClientDemo}
 */
public final class ApacheHttpClientDemo {

    private ApacheHttpClientDemo() {
    }

    public static void main(String[] args) throws Exception {
        Outcome o = run(System.out);
        System.out.printf("[summary] classic=%d after %d attempts, async=%d after %d attempts, both-answered=%s%n",
                o.classicStatus(), o.classicAttempts(), o.asyncStatus(), o.asyncAttempts(),
                o.classicStatus() == 200 && o.asyncStatus() == 200);
    }

    /** What the service saw per call (attempts, and each attempt's {@code grpc-timeout}) and what the caller got. */
    record Outcome(int classicAttempts, int classicStatus, int asyncAttempts, int asyncStatus, List<String> headers) {
    }

    static Outcome run(PrintStream out) throws Exception {
        AtomicInteger hits = new AtomicInteger();
        List<String> headers = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/prices", exchange -> serve(exchange, out, hits, headers));
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/prices");

        HttpPolicy prices = HttpPolicy.builder("prices")
                .retry(3, Backoff.fixed(Duration.ofMillis(20)))       // a 503's Retry-After replaces the backoff
                .circuitBreaker(CircuitBreaker.builder("prices").build())
                .retryListener(new RetryListener() {
                    @Override
                    public void onRetry(Retry retry, int attempt, long delayNanos, Throwable failure) {
                        String why = failure instanceof HttpStatusException
                                ? "HTTP " + ((HttpStatusException) failure).statusCode() : String.valueOf(failure);
                        out.printf("[caller]  attempt %d got %s, retrying in %d ms%n", attempt, why,
                                TimeUnit.NANOSECONDS.toMillis(delayNanos));
                    }
                })
                .build();
        try (CloseableHttpClient classic = ResilienceExecHandler.install(HttpClients.custom(), prices).build();
             CloseableHttpAsyncClient async = ResilienceAsyncExecHandler.install(HttpAsyncClients.custom(), prices).build()) {
            async.start();
            try (CancelHandle call = Context.current().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach()) {
                out.println("[caller]  classic client, deadline 2 s");
                int classicStatus = classic.execute(new HttpGet(uri), response -> {
                    out.printf("[caller]  %d %s%n", response.getCode(), EntityUtils.toString(response.getEntity()));
                    return response.getCode();
                });
                int classicAttempts = hits.getAndSet(0);

                out.println("[caller]  async client, same deadline");
                // The call's context must outlive it: wait for the answer inside the block.
                SimpleHttpResponse r = async.execute(SimpleRequestBuilder.get(uri).build(), null).get(5, TimeUnit.SECONDS);
                out.printf("[caller]  %d %s%n", r.getCode(), r.getBodyText());
                return new Outcome(classicAttempts, classicStatus, hits.get(), r.getCode(), List.copyOf(headers));
            }
        } finally {
            server.stop(0);
        }
    }

    /** The service: 503 with Retry-After: 0 on the first two requests of each round, then an answer. */
    private static void serve(HttpExchange exchange, PrintStream out, AtomicInteger hits, List<String> headers)
            throws IOException {
        int n = hits.incrementAndGet();
        String header = exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT);
        headers.add(String.valueOf(header));
        int status = n <= 2 ? 503 : 200;
        out.printf("[service] request %d, grpc-timeout: %s -> %d%n", n, header, status);
        byte[] body = (status == 200 ? "prices for today" : "busy").getBytes(StandardCharsets.UTF_8);
        if (status == 503) {
            exchange.getResponseHeaders().add("Retry-After", "0");
        }
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
