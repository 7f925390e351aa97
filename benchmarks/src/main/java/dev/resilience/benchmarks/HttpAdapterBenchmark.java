package dev.resilience.benchmarks;

import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.http.HttpPolicy;
import dev.resilience.http.okhttp.ResilienceInterceptor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What {@link ResilienceInterceptor} adds to an OkHttp call, same run, same client settings:
 * <ul>
 * <li>{@code loopback_*}: a real call to a JDK HttpServer on loopback (a 2-byte body, one kept-alive
 *     connection), without the interceptor, with it and no context, with it under a deadline (the
 *     grpc-timeout header, bounded timeouts, the cancellation hook), and with a policy (retry,
 *     breaker) under a deadline;
 * <li>{@code canned_*}: the same client whose last application interceptor answers at once, so the
 *     difference is the interceptor's own cost, not hidden in the network's noise.
 * </ul>
 * The deadline context is attached per call in the rows that use one (what a caller does).
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class HttpAdapterBenchmark {

    private static final byte[] OK = "ok".getBytes(StandardCharsets.US_ASCII);

    private HttpServer server;
    private ExecutorService serverThreads;
    private Request request;
    private OkHttpClient plain;
    private OkHttpClient deadlineOnly;
    private OkHttpClient guarded;
    private OkHttpClient cannedPlain;
    private OkHttpClient cannedDeadlineOnly;
    private OkHttpClient cannedGuarded;
    private CancelHandle deadline;

    @Setup(Level.Trial)
    public void start() throws IOException {
        // the JDK server writes headers and body apart: without TCP_NODELAY every call waits for a delayed ACK (~40 ms)
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        serverThreads = Executors.newFixedThreadPool(2);
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, OK.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(OK);
            }
        });
        server.start();
        request = new Request.Builder().url("http://127.0.0.1:" + server.getAddress().getPort() + "/q").build();
        HttpPolicy policy = HttpPolicy.builder("bench")
                .retry(3, dev.resilience.core.Backoff.fixed(Duration.ofMillis(1)))
                .circuitBreaker(dev.resilience.core.CircuitBreaker.builder("bench").build())
                .build();
        OkHttpClient base = new OkHttpClient.Builder().build();
        plain = base;
        deadlineOnly = base.newBuilder().addInterceptor(ResilienceInterceptor.of()).build();
        guarded = base.newBuilder().addInterceptor(ResilienceInterceptor.of(policy)).build();
        okhttp3.Interceptor canned = chain -> new Response.Builder().request(chain.request())
                .protocol(Protocol.HTTP_1_1).code(200).message("OK")
                .body(ResponseBody.create(OK, null)).build();
        cannedPlain = base.newBuilder().addInterceptor(canned).build();
        cannedDeadlineOnly = base.newBuilder().addInterceptor(ResilienceInterceptor.of()).addInterceptor(canned).build();
        cannedGuarded = base.newBuilder().addInterceptor(ResilienceInterceptor.of(policy)).addInterceptor(canned).build();
        // one long deadline, attached per call: the header and bounded timeouts are computed per call
        deadline = Context.background().withTimeout(Duration.ofHours(1));
    }

    @TearDown(Level.Trial)
    public void stop() {
        deadline.cancel();
        for (OkHttpClient c : new OkHttpClient[] {plain, deadlineOnly, guarded}) {
            c.connectionPool().evictAll();
        }
        plain.dispatcher().executorService().shutdown();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    private static int call(OkHttpClient client, Request request) throws IOException {
        try (Response r = client.newCall(request).execute()) {
            return r.body().bytes().length + r.code();
        }
    }

    private int underDeadline(OkHttpClient client) throws IOException {
        try (Scope s = deadline.attach()) {
            return call(client, request);
        }
    }

    @Benchmark
    public int loopback_plain() throws IOException {
        return call(plain, request);
    }

    @Benchmark
    public int loopback_interceptorNoContext() throws IOException {
        return call(deadlineOnly, request);
    }

    @Benchmark
    public int loopback_interceptorDeadline() throws IOException {
        return underDeadline(deadlineOnly);
    }

    @Benchmark
    public int loopback_interceptorPolicyDeadline() throws IOException {
        return underDeadline(guarded);
    }

    @Benchmark
    public int canned_plain() throws IOException {
        return call(cannedPlain, request);
    }

    @Benchmark
    public int canned_interceptorNoContext() throws IOException {
        return call(cannedDeadlineOnly, request);
    }

    @Benchmark
    public int canned_interceptorDeadline() throws IOException {
        return underDeadline(cannedDeadlineOnly);
    }

    @Benchmark
    public int canned_interceptorPolicyDeadline() throws IOException {
        return underDeadline(cannedGuarded);
    }
}
