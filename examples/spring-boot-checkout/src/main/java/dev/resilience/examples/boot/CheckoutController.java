package dev.resilience.examples.boot;

import dev.resilience.context.Context;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /checkout?order=...}: 200 {@code paid ...} or 202 {@code queued ...}. The request runs
 * under its caller's deadline ({@code grpc-timeout}), which every guard and the payments call see
 * through {@link Context#current()}.
 */
@RestController
public class CheckoutController {

    private final PaymentService payments;

    /**
     * A controller over {@code payments}.
     *
     * @param payments the payment service
     */
    public CheckoutController(PaymentService payments) {
        this.payments = payments;
    }

    /**
     * Pays {@code order}.
     *
     * @param order the order
     * @return 200 when paid, 202 when queued
     */
    @GetMapping("/checkout")
    public ResponseEntity<String> checkout(@RequestParam("order") String order) {
        Receipt r = payments.pay(order);
        return r.paid() ? ResponseEntity.ok("paid " + order + ": " + r.detail())
                : ResponseEntity.status(HttpStatus.ACCEPTED).body("queued " + order + " (" + r.detail() + ")");
    }
}
