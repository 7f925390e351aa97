package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.spring.reactive.ReactiveCheckoutApp;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The WebFlux application at an untrusted edge: {@code trust-incoming=false} ignores the callers'
 * deadline headers (only {@code default-timeout} applies), {@code expired-status} is configurable, and
 * {@code propagate-deadline=false} leaves the plain {@code WebClient} without the deadline filter.
 */
@SpringBootTest(classes = ReactiveCheckoutApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "spring.main.web-application-type=reactive",
    "server.netty.max-keep-alive-requests=1", // reactor-netty#4361: see WebFluxIntegrationTest
    "resilience.spring.inbound.trust-incoming=false",
    "resilience.spring.inbound.default-timeout=20s",
    "resilience.spring.client.propagate-deadline=false",
    "resilience.retry.payments.max-attempts=2",
    "resilience.retry.slowpay.max-attempts=2",
    "resilience.retry.impatient.max-attempts=2",
    "resilience.retry.reactive.max-attempts=3",
    "resilience.retry.slow.max-attempts=3",
    "resilience.bulkhead.slow.max-concurrent=1",
})
class WebFluxUntrustedCallersTest {

    private static final FlakyDependency DEPENDENCY = FlakyDependency.startOrFail();
    // HTTP/1.1: Reactor Netty serves no h2c, so the JDK client's h2c upgrade offer is one moving part less.
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @LocalServerPort
    int port;
    @Autowired
    ApplicationContext context;

    @DynamicPropertySource
    static void dependency(DynamicPropertyRegistry properties) {
        properties.add("payments.url", DEPENDENCY::url);
    }

    @AfterAll
    static void stop() throws InterruptedException {
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
    void theCallersHeaderIsIgnoredAndTheDefaultApplies() throws Exception {
        HttpResponse<String> expiredByHeader = get("/remaining", "grpc-timeout", "0m");
        assertEquals(200, expiredByHeader.statusCode(), "an untrusted header cannot expire the request");
        long ms = Long.parseLong(expiredByHeader.body());
        assertTrue(ms > 10_000 && ms <= 20_000, "the default timeout, not the header's: " + ms);

        long shortened = Long.parseLong(get("/remaining", "grpc-timeout", "300m").body());
        assertTrue(shortened > 10_000, "nor shorten it: " + shortened);
    }

    @Test
    void withoutPropagationThePlainWebClientSendsNoDeadline() throws Exception {
        assertEquals(0, context.getBeansOfType(org.springframework.boot.webclient.WebClientCustomizer.class).values()
                .stream().filter(c -> c.getClass().getName().startsWith("dev.resilience")).count());
        assertEquals("paid", get("/checkout").body());
        assertEquals(1, DEPENDENCY.grpcTimeouts.size());
        assertEquals("", DEPENDENCY.grpcTimeouts.get(0), "the request has a deadline (20 s) but it is not sent");
        assertFalse(context.getBeansOfType(WebClient.class).isEmpty());
    }
}
