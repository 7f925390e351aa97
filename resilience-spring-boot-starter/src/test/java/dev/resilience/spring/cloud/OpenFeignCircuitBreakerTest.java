package dev.resilience.spring.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.FlakyDependency;
import feign.FeignException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.openfeign.EnableFeignClients;
import org.springframework.cloud.openfeign.FallbackFactory;
import org.springframework.cloud.openfeign.FeignClient;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * OpenFeign with its circuit breakers on ({@code spring.cloud.openfeign.circuitbreaker.enabled}) and
 * grouped by client: a Feign client whose method ids are not configured runs through the breaker
 * configured under the client's name, which opens after its failures; the client's fallback gets
 * Feign's exception, then {@code CallNotPermittedException}, and the open breaker sends nothing.
 */
class OpenFeignCircuitBreakerTest {

    private static FlakyDependency dependency;
    private static ConfigurableApplicationContext app;

    /** The dependency as a Feign client, with a fallback factory. */
    @FeignClient(name = "payments-feign", url = "${payments.url}", fallbackFactory = PaymentsFallbacks.class)
    interface PaymentsFeign {
        @GetMapping("/pay")
        String pay();
    }

    /** Records each failure the fallback is made for, and answers "queued". */
    static class PaymentsFallbacks implements FallbackFactory<PaymentsFeign> {
        final List<Throwable> causes = new CopyOnWriteArrayList<>();

        @Override
        public PaymentsFeign create(Throwable cause) {
            causes.add(cause);
            return () -> "queued";
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @EnableFeignClients(clients = PaymentsFeign.class)
    static class FeignApp {
        @Bean
        PaymentsFallbacks paymentsFallbacks() {
            return new PaymentsFallbacks();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        dependency = new FlakyDependency();
        app = new SpringApplicationBuilder(FeignApp.class).web(WebApplicationType.NONE).properties(
                "payments.url=" + dependency.url(),
                "spring.cloud.openfeign.circuitbreaker.enabled=true",
                "spring.cloud.openfeign.circuitbreaker.group.enabled=true",
                "resilience.circuitbreaker.payments-feign.consecutive-failures=3",
                "resilience.circuitbreaker.payments-feign.open-duration=1h")
                .run();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (app != null) {
            app.close();
        }
        if (dependency != null) {
            dependency.close();
        }
    }

    @Test
    void aFeignClientRunsThroughTheBreakerOfItsGroup() {
        PaymentsFeign feign = app.getBean(PaymentsFeign.class);
        PaymentsFallbacks fallbacks = app.getBean(PaymentsFallbacks.class);
        ResilienceRegistry registry = app.getBean(ResilienceRegistry.class);
        assertEquals("paid", feign.pay());
        assertEquals(1, registry.circuitBreaker("payments-feign").counts().totalSuccesses());

        dependency.failing.set(true);
        for (int i = 0; i < 3; i++) {
            assertEquals("queued", feign.pay());
        }
        assertEquals(3, fallbacks.causes.size());
        fallbacks.causes.forEach(c -> assertInstanceOf(FeignException.ServiceUnavailable.class, c));
        assertEquals(CircuitBreaker.State.OPEN, registry.circuitBreaker("payments-feign").state());

        int reached = dependency.requests.get();
        assertEquals("queued", feign.pay());
        assertInstanceOf(CallNotPermittedException.class, fallbacks.causes.get(3));
        assertEquals(reached, dependency.requests.get(), "an open breaker sends nothing");
        assertEquals(List.of("payments-feign"), List.copyOf(registry.instances(CircuitBreaker.class).keySet()),
                "no breaker per Feign method: the group's is shared");
        assertFalse(registry.instances(CircuitBreaker.class).isEmpty());
    }
}
