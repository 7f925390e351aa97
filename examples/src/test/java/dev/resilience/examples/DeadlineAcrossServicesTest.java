package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Scope;
import dev.resilience.grpc.ResilienceClientInterceptor;
import dev.resilience.grpc.ResilienceServerInterceptor;
import dev.resilience.http.HttpDeadlines;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.okhttp.ResilienceInterceptor;
import dev.resilience.http.servlet.DeadlineFilter;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One deadline across three real services on loopback, each with a different adapter:
 * a client calls A (a servlet in embedded Tomcat behind {@link DeadlineFilter}) with 2 s; A calls
 * B over gRPC (grpc-netty-shaded, {@link ResilienceClientInterceptor} /
 * {@link ResilienceServerInterceptor}); B calls C with OkHttp ({@link ResilienceInterceptor}); C (a
 * JDK HttpServer behind the JDK {@code DeadlineFilter}) has 5 s of work. C must learn the deadline,
 * abandon its work when it passes, and B must skip its own next step after C's failure.
 */
class DeadlineAcrossServicesTest {

    private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");
    private static final long WORK_NANOS = TimeUnit.SECONDS.toNanos(5);

    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final MethodDescriptor<String, String> B_WORK = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("b.Service/Work")
            .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();

    @TempDir
    Path baseDir;

    // what C saw and did
    final AtomicReference<String> cHeader = new AtomicReference<>();
    final AtomicLong cRemainingAtStart = new AtomicLong(-1);
    final AtomicReference<Throwable> cStoppedBecause = new AtomicReference<>();
    final CountDownLatch cAbandoned = new CountDownLatch(1);
    final AtomicInteger cFinished = new AtomicInteger();
    // what B saw and did
    final AtomicLong bRemainingAtStart = new AtomicLong(-1);
    final AtomicReference<Throwable> bCallToCFailed = new AtomicReference<>();
    final AtomicInteger bSecondStep = new AtomicInteger();
    // what A saw
    final AtomicLong aRemainingAtStart = new AtomicLong(-1);
    final AtomicReference<Status.Code> aGrpcStatus = new AtomicReference<>();

    @Test
    void aDeadlineSetByTheClientReachesCWhichAbandonsItsWorkAndBSkipsItsNextStep() throws Exception {
        TOMCAT_LOG.setLevel(Level.WARNING);
        HttpServer c = startC();
        Server b = null;
        ManagedChannel bChannel = null;
        Tomcat a = null;
        OkHttpClient okhttp = new OkHttpClient.Builder().retryOnConnectionFailure(false)
                .addInterceptor(ResilienceInterceptor.of()).build();
        try {
            URI cUri = URI.create("http://127.0.0.1:" + c.getAddress().getPort() + "/work");
            b = startB(okhttp, cUri);
            bChannel = NettyChannelBuilder.forAddress("127.0.0.1", b.getPort()).usePlaintext().build();
            Channel toB = ClientInterceptors.intercept(bChannel, ResilienceClientInterceptor.create());
            a = startA(toB);
            int aPort = a.getConnector().getLocalPort();

            HttpResponse<String> response;
            HttpClient client = HttpClient.newHttpClient();
            long start = System.nanoTime();
            // 2 s: the first request through Tomcat, gRPC (which connects on first use) and OkHttp
            // fits in it on a loaded machine, and C's 5 s of work does not
            try (CancelHandle call = Context.background().withTimeout(Duration.ofSeconds(2)); Scope s = call.attach()) {
                HttpRequest request = HttpDeadlines.propagate(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + aPort + "/a"))).build();
                // the client waits longer than its own deadline, to hear A's answer
                response = client.send(HttpRequest.newBuilder(request, (n, v) -> true)
                        .timeout(Duration.ofSeconds(6)).build(), HttpResponse.BodyHandlers.ofString());
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            // A: ran under the client's deadline, and B's call failed with DEADLINE_EXCEEDED
            assertTrue(aRemainingAtStart.get() > 0 && aRemainingAtStart.get() <= TimeUnit.SECONDS.toNanos(2),
                    "A saw the client's deadline: " + aRemainingAtStart.get());
            assertEquals(Status.Code.DEADLINE_EXCEEDED, aGrpcStatus.get());
            assertEquals(504, response.statusCode(), response.body());
            assertTrue(tookMs < 4_500, "the answer came at the deadline, not after C's 5 s of work: " + tookMs + " ms");

            // C: saw the deadline as a header and as its context, and abandoned its work when it passed
            assertTrue(cAbandoned.await(5, TimeUnit.SECONDS), "C stopped its work");
            assertNotNull(cHeader.get(), "C received grpc-timeout");
            long header = DeadlineHeaders.parseGrpcTimeout(cHeader.get());
            assertTrue(header > 0 && header < bRemainingAtStart.get(), "C's header " + cHeader.get()
                    + " is below what B had: " + bRemainingAtStart.get());
            assertTrue(bRemainingAtStart.get() < aRemainingAtStart.get(), "each hop has less time than the one before");
            assertTrue(cRemainingAtStart.get() > 0 && cRemainingAtStart.get() <= header);
            assertInstanceOf(DeadlineExceededException.class, cStoppedBecause.get());
            assertEquals(0, cFinished.get(), "C never finished its 5 s of work");

            // B: its call to C failed with the deadline, and it skipped the step after it
            assertInstanceOf(InterruptedIOException.class, bCallToCFailed.get());
            // B's context ends at the deadline either by its own timer or by A's call being cancelled at
            // that same moment (grpc-java cancels the stream when the client's deadline passes, and the
            // server may hear that first): either way the end of B's context, not a failure of C
            assertInstanceOf(dev.resilience.context.ContextDoneException.class, bCallToCFailed.get().getCause());
            assertEquals(0, bSecondStep.get(), "B skipped its second step");
        } finally {
            if (a != null) {
                a.stop();
                a.destroy();
            }
            if (bChannel != null) {
                bChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            if (b != null) {
                b.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            okhttp.dispatcher().executorService().shutdown();
            okhttp.connectionPool().evictAll();
            c.stop(0);
        }
    }

    /** C: 5 s of work in 10 ms steps, stopping when its request's context is done. */
    private HttpServer startC() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/work", exchange -> {
            cHeader.set(exchange.getRequestHeaders().getFirst(DeadlineHeaders.GRPC_TIMEOUT));
            Context ctx = Context.current();
            cRemainingAtStart.set(ctx.remainingNanos());
            long end = System.nanoTime() + WORK_NANOS;
            while (System.nanoTime() < end) {
                if (ctx.isDone()) {
                    cStoppedBecause.set(ctx.err());
                    cAbandoned.countDown();
                    exchange.sendResponseHeaders(504, -1); // nobody is waiting; the write may fail
                    exchange.close();
                    return;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            cFinished.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        }).getFilters().add(new dev.resilience.http.jdkserver.DeadlineFilter(InboundDeadlines.defaults()));
        server.start();
        return server;
    }

    /** B: step one calls C with OkHttp; step two runs only if step one succeeded. */
    private Server startB(OkHttpClient okhttp, URI cUri) throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder("b.Service")
                .addMethod(B_WORK, ServerCalls.asyncUnaryCall((request, responses) -> {
                    bRemainingAtStart.set(Context.current().remainingNanos());
                    try (Response r = okhttp.newCall(new Request.Builder().url(cUri.toString()).build()).execute()) {
                        bSecondStep.incrementAndGet(); // only after C answered
                        responses.onNext("c:" + r.code());
                        responses.onCompleted();
                    } catch (IOException e) {
                        bCallToCFailed.set(e);
                        responses.onError(Status.DEADLINE_EXCEEDED.withDescription("C: " + e.getMessage())
                                .asRuntimeException());
                    }
                })).build();
        return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(ServerInterceptors.intercept(service, ResilienceServerInterceptor.create()))
                .build().start();
    }

    /** A: a servlet behind the deadline filter that calls B over gRPC. */
    private Tomcat startA(Channel toB) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        StandardContext app = (StandardContext) tomcat.addContext("", baseDir.toAbsolutePath().toString());
        app.setClearReferencesThreadLocals(false);
        app.setClearReferencesRmiTargets(false);
        Wrapper servlet = Tomcat.addServlet(app, "a", new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                aRemainingAtStart.set(Context.current().remainingNanos());
                try {
                    String answer = ClientCalls.blockingUnaryCall(toB, B_WORK, CallOptions.DEFAULT, "go");
                    aGrpcStatus.set(Status.Code.OK);
                    resp.setStatus(200);
                    try (OutputStream out = resp.getOutputStream()) {
                        out.write(answer.getBytes(StandardCharsets.UTF_8));
                    }
                } catch (StatusRuntimeException e) {
                    aGrpcStatus.set(e.getStatus().getCode());
                    resp.setStatus(504);
                    try (OutputStream out = resp.getOutputStream()) {
                        out.write(("B: " + e.getStatus().getCode()).getBytes(StandardCharsets.UTF_8));
                    }
                }
            }
        });
        app.addServletMapping("/a", "a");
        FilterDef def = new FilterDef();
        def.setFilterName("deadline");
        def.setFilter(new DeadlineFilter());
        app.addFilterDef(def);
        FilterMap map = new FilterMap();
        map.setFilterName("deadline");
        map.addURLPattern("/*");
        app.addFilterMap(map);
        assertNotNull(servlet);
        tomcat.start();
        return tomcat;
    }
}
