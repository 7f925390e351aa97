package dev.resilience.spring.app;

import dev.resilience.context.Context;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.Retry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * The application the starter's tests start: a checkout that pays through a flaky dependency,
 * with a retry, a breaker and a fallback from annotations.
 */
@SpringBootApplication
public class CheckoutApp {

    @Bean
    RestClient paymentsClient(RestClient.Builder builder, @Value("${payments.url}") String url) {
        return builder.baseUrl(url).build();
    }

    /** Pays; the breaker's fallback answers "queued" when payments are down. */
    @Service
    public static class Payments {
        private final AtomicInteger fallbacks = new AtomicInteger();
        private final RestClient client;

        Payments(RestClient paymentsClient) {
            this.client = paymentsClient;
        }

        @Retry(name = "payments")
        @CircuitBreaker(name = "payments", fallbackMethod = "queued")
        public String pay() {
            return client.get().uri("/pay").retrieve().body(String.class);
        }

        /** How many calls the fallback answered (a method: the bean is a class proxy). */
        public int fallbacks() {
            return fallbacks.get();
        }

        String queued(CallNotPermittedException open) {
            fallbacks.incrementAndGet();
            return "queued";
        }

        String queued(Exception failed) {
            fallbacks.incrementAndGet();
            return "failed: " + failed.getClass().getSimpleName();
        }
    }

    /** Looks up something the dependency does not have: a 4xx, the caller's mistake. */
    @Service
    public static class Lookup {
        private final RestClient client;

        Lookup(RestClient paymentsClient) {
            this.client = paymentsClient;
        }

        @Retry(name = "lookup")
        @CircuitBreaker(name = "lookup")
        public String find() {
            return client.get().uri("/missing").retrieve().body(String.class);
        }
    }

    /** Retries under a budget, without a breaker. */
    @Service
    public static class Budgeted {
        private final RestClient client;

        Budgeted(RestClient paymentsClient) {
            this.client = paymentsClient;
        }

        @Retry(name = "budgeted")
        public String pay() {
            return client.get().uri("/pay").retrieve().body(String.class);
        }
    }

    @RestController
    public static class Checkout {
        private final Payments payments;
        private final Budgeted budgeted;
        private final Lookup lookup;

        Checkout(Payments payments, Budgeted budgeted, Lookup lookup) {
            this.payments = payments;
            this.budgeted = budgeted;
            this.lookup = lookup;
        }

        @GetMapping("/lookup")
        String lookup() {
            try {
                return lookup.find();
            } catch (RuntimeException e) {
                return e.getClass().getSimpleName();
            }
        }

        @GetMapping("/checkout")
        String checkout() {
            return payments.pay();
        }

        @GetMapping("/budgeted")
        String budgeted() {
            try {
                return budgeted.pay();
            } catch (RuntimeException e) {
                return "failed";
            }
        }

        /** Waits for the request's context to end (at most 5 s) and says how long that took. */
        @GetMapping("/wait-for-deadline")
        String waitForDeadline() throws InterruptedException {
            Context context = Context.current();
            long start = System.nanoTime();
            long left = context.remainingNanos();
            long limit = start + Duration.ofSeconds(5).toNanos();
            while (!context.isDone() && System.nanoTime() < limit) {
                Thread.sleep(2);
            }
            return (context.isDone() ? "done after " : "not done after ")
                    + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms, "
                    + Duration.ofNanos(left).toMillis() + " ms left on entry";
        }
    }
}
