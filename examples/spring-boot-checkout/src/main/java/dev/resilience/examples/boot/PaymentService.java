package dev.resilience.examples.boot;

import dev.resilience.core.CallNotPermittedException;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.RateLimiter;
import dev.resilience.spring.annotation.Retry;
import dev.resilience.spring.annotation.Timeout;
import org.springframework.stereotype.Service;
import org.springframework.web.client.RestClient;

/**
 * Pays an order through payments. The annotations name the instances of {@code application.yml};
 * stacked, they run as one pipeline, outermost first: fallback, retry, circuit breaker, rate
 * limiter, timeout (per attempt), bulkhead, as Resilience4j's aspects run. The one fallback runs
 * outermost whichever annotation names it (here {@code @Retry}, where Resilience4j needs it for the
 * same effect); its methods are checked when the bean is created: a wrong signature stops startup.
 */
@Service
public class PaymentService {

    private final RestClient payments;

    /**
     * A service over {@code paymentsClient}.
     *
     * @param paymentsClient the payments client
     */
    public PaymentService(RestClient paymentsClient) {
        this.payments = paymentsClient;
    }

    /**
     * Pays {@code order}; a 5xx, an I/O error or a timeout is retried, and whatever still fails goes
     * to {@link #queued}.
     *
     * @param order the order
     * @return the receipt
     */
    @Retry(name = "payments", fallbackMethod = "queued")
    @CircuitBreaker(name = "payments")
    @RateLimiter(name = "payments")
    @Timeout(name = "payments")
    @Bulkhead(name = "payments")
    public Receipt pay(String order) {
        String answer = payments.get().uri("/pay?order={order}", order).retrieve().body(String.class);
        return new Receipt(order, true, answer);
    }

    /** The fallback while the breaker is open: nothing was sent to payments. */
    Receipt queued(String order, CallNotPermittedException open) {
        return new Receipt(order, false, "breaker open");
    }

    /** The fallback for every other failure: retries spent, refused by a limiter, deadline passed. */
    Receipt queued(String order, Exception failure) {
        return new Receipt(order, false, failure.getClass().getSimpleName());
    }
}
