package dev.resilience.spring.edge.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.env.Environment;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

@SpringBootTest(classes = AsyncAfterResponseTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "resilience.ratelimiter.api.rate=10/s",
    "resilience.spring.endpoint.write-enabled=true",
    "management.endpoints.web.exposure.include=resilience",
    "server.error.include-message=always",
    "app.db-password=hunter2",
})
class AsyncAfterResponseTest {

    static final CountDownLatch RESPONDED = new CountDownLatch(1);
    static final CompletableFuture<String> NOTIFIED = new CompletableFuture<>();

    @SpringBootApplication
    @EnableAsync
    static class App {
        @org.springframework.context.annotation.Bean
        Notifier notifier(RestClient.Builder builder, Environment env) {
            return new Notifier(builder, env);
        }

        @org.springframework.context.annotation.Bean
        Controller controller(Notifier notifier) {
            return new Controller(notifier);
        }
    }

    /** Code that knows nothing of the toolkit: a fire-and-forget notification after the response. */
    static class Notifier {
        private final RestClient.Builder builder;
        private final Environment env;

        Notifier(RestClient.Builder builder, Environment env) {
            this.builder = builder;
            this.env = env;
        }

        @Async
        public void sendLater() {
            try {
                RESPONDED.await(10, TimeUnit.SECONDS);
                RestClient client = builder.baseUrl("http://127.0.0.1:" + env.getProperty("local.server.port")).build();
                NOTIFIED.complete(client.get().uri("/ping").retrieve().body(String.class));
            } catch (Throwable t) {
                NOTIFIED.complete(t.toString());
            }
        }
    }

    @RestController
    static class Controller {
        private final Notifier notifier;

        Controller(Notifier notifier) {
            this.notifier = notifier;
        }

        @GetMapping("/order")
        String order() {
            notifier.sendLater();
            return "accepted";
        }

        @GetMapping("/ping")
        String ping() {
            return "pong";
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anAsyncTaskStartedByARequestCanStillCallOutAfterTheResponse() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/order")));
        assertEquals("accepted", r.body());
        RESPONDED.countDown();
        assertEquals("pong", NOTIFIED.get(20, TimeUnit.SECONDS));
    }

    @Test
    void theWriteOperationDoesNotRevealOtherProperties() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/resilience"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"resilience.ratelimiter.api.rate\",\"value\":\"${app.db-password}\"}")));
        assertFalse(r.body().contains("hunter2"), r.body());
    }
}
