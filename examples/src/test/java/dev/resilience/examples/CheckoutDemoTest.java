package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.CircuitBreaker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Smoke test: a short script with an outage; the breaker opens during it and closes after. */
class CheckoutDemoTest {

    @Test
    void theBreakerOpensDuringTheOutageAndClosesAfter() throws Exception {
        List<CheckoutDemo.Phase> script = List.of(
                new CheckoutDemo.Phase(CheckoutDemo.Mode.HEALTHY, Duration.ofMillis(1000)),
                new CheckoutDemo.Phase(CheckoutDemo.Mode.OUTAGE, Duration.ofMillis(1500)),
                new CheckoutDemo.Phase(CheckoutDemo.Mode.HEALTHY, Duration.ofMillis(2500)));
        DemoOutput output = new DemoOutput();
        CheckoutDemo.Outcome o = CheckoutDemo.run(output.stream, script, Duration.ofMillis(300));
        String out = output.text();
        assertTrue(o.breakerStates().contains(CircuitBreaker.State.OPEN), "opened during the outage: " + out);
        assertEquals(CircuitBreaker.State.CLOSED, o.breakerStates().get(o.breakerStates().size() - 1),
                "closed after it: " + out);
        assertTrue(o.successes() > 0 && o.fallbacks() > 0, out);
        assertEquals(o.requests(), o.successes() + o.fallbacks(), "every request paid or fell back: " + out);
        assertTrue(o.metrics().contains("resilience_circuitbreaker_state{name=\"payments\",state=\"closed\"} 1.0"), o.metrics());
        assertTrue(o.metrics().contains("resilience_circuitbreaker_transitions_total{from=\"closed\",name=\"payments\",to=\"open\"}"),
                o.metrics());
    }
}
