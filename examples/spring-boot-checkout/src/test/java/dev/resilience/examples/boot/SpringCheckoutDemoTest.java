package dev.resilience.examples.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.CircuitBreaker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Smoke test of the Spring Boot checkout: the scenario, shortened, ends with every check true. */
class SpringCheckoutDemoTest {

    @Test
    void theShortScenarioPassesEveryCheck() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        SpringCheckoutDemo.Outcome o = SpringCheckoutDemo.run(out, "--duration", "5");
        String text = bytes.toString(StandardCharsets.UTF_8);

        assertEquals(List.of("breaker_opened", "breaker_closed_again", "fallback_answered", "every_request_answered",
                "deadline_propagated", "retries_within_budget", "endpoint_shows_breaker", "prometheus_counted_openings"),
                List.copyOf(o.checks().keySet()));
        o.checks().forEach((check, passed) -> assertTrue(passed, check + " is false:\n" + text));
        assertTrue(text.contains("[summary] breaker_opened=true breaker_closed_again=true fallback_answered=true"), text);
        assertTrue(text.lines().filter(l -> l.startsWith("[summary]")).noneMatch(l -> l.matches(".*\\bfalse\\b.*")), text);
        assertTrue(o.breakerStates().contains(CircuitBreaker.State.OPEN), text);
        assertEquals(o.requests(), o.paid() + o.queued(), "every call paid or queued: " + text);
        assertTrue(o.paid() > 0 && o.queued() > 0, text);
        assertTrue(text.contains("[breaker] CLOSED -> OPEN"), text);
        assertTrue(text.contains("resilience_circuitbreaker_transitions_total{from=\"closed\",name=\"payments\",to=\"open\"}"), text);
    }

    @Test
    void aBadDurationFailsBeforeAnythingStarts() {
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
                () -> SpringCheckoutDemo.run(out, "--duration", "1"));
        assertTrue(tooShort.getMessage().contains("--duration"), tooShort.getMessage());
        IllegalArgumentException notANumber = assertThrows(IllegalArgumentException.class,
                () -> SpringCheckoutDemo.run(out, "--duration=soon"));
        assertTrue(notANumber.getMessage().contains("'soon'"), notANumber.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SpringCheckoutDemo.run(out, "--duration"));
    }
}
