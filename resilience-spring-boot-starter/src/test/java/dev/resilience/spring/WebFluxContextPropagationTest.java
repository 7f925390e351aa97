package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.DeadlineHeaders;
import dev.resilience.spring.reactive.ReactiveCheckoutApp;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Hooks;

/**
 * The WebFlux application with {@code spring.reactor.context-propagation=auto}: Reactor restores
 * the request's context as the ThreadLocal {@code Context.current()} in handlers, through the
 * toolkit's service-loaded {@code ResilienceContextAccessor}.
 */
@SpringBootTest(classes = ReactiveCheckoutApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "spring.main.web-application-type=reactive",
    "server.netty.max-keep-alive-requests=1", // reactor-netty#4361: see WebFluxIntegrationTest
    "spring.reactor.context-propagation=auto",
    "resilience.retry.payments.max-attempts=2",
    "resilience.retry.slowpay.max-attempts=2",
    "resilience.retry.impatient.max-attempts=2",
    "resilience.retry.reactive.max-attempts=3",
    "resilience.retry.reactive.backoff=fixed",
    "resilience.retry.reactive.backoff-delay=1ms",
    "resilience.retry.slow.max-attempts=3",
    "resilience.bulkhead.slow.max-concurrent=1",
})
class WebFluxContextPropagationTest {

    private static final FlakyDependency DEPENDENCY = FlakyDependency.startOrFail();
    // HTTP/1.1: Reactor Netty serves no h2c, so the JDK client's h2c upgrade offer is one moving part less.
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void dependency(DynamicPropertyRegistry properties) {
        properties.add("payments.url", DEPENDENCY::url);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        // Spring Boot turned it on for the whole JVM; the other test classes run without it.
        Hooks.disableAutomaticContextPropagation();
        DEPENDENCY.close();
    }

    @BeforeEach
    void reset() {
        DEPENDENCY.reset();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return LoopbackCalls.get(HTTP, port, path, headers);
    }

    @Test
    void handlersSeeTheRequestsContextAsTheCurrentOne() throws Exception {
        assertEquals("attribute=set thread=same reactor=same operator=same", get("/contexts", "grpc-timeout", "5S").body());
    }

    @Test
    void anIncomingGrpcTimeoutBoundsAHandlerWaitingForTheCurrentContext() throws Exception {
        // 1 s: this may be the first request of a cold JVM's first app of its kind
        HandlerWaits.assertEndedByTheDeadline(() -> get("/wait-for-deadline", "grpc-timeout", "1S").body(), 1_000);

        assertEquals(504, get("/wait-for-deadline", "grpc-timeout", "0m").statusCode());
    }

    @Test
    void theDeadlineStillReachesTheDependency() throws Exception {
        assertEquals("paid", get("/checkout", "grpc-timeout", "2S").body());
        assertEquals("paid", get("/mono-pay", "grpc-timeout", "2S").body());
        assertEquals(2, DEPENDENCY.grpcTimeouts.size());
        for (String header : DEPENDENCY.grpcTimeouts) {
            long nanos = DeadlineHeaders.parseGrpcTimeout(header);
            assertTrue(nanos > 0 && nanos <= Duration.ofSeconds(2).toNanos(), DEPENDENCY.grpcTimeouts.toString());
        }
    }
}
