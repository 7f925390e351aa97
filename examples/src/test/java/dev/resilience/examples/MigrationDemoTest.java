package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Smoke test: the Resilience4j protection and ours, configured alike, answer the scripts alike. */
class MigrationDemoTest {

    @Test
    void sameSettingsSameOutcomes() {
        DemoOutput output = new DemoOutput();
        List<List<String>> r = MigrationDemo.run(output.stream);
        String out = output.text();
        assertEquals(r.get(1), r.get(0), "rate script: " + out);
        assertEquals(List.of("ok", "ok", "ok", "ok", "ok", "rate limited", "rate limited"), r.get(0), out);
        assertEquals(r.get(3), r.get(2), "retry and breaker script: " + out);
        assertEquals("breaker open", r.get(2).get(r.get(2).size() - 1), out);
        assertEquals(5, r.get(2).stream().filter("ok after retry"::equals).count(),
                "ten recorded attempts (half failed) open the breaker: " + out);
    }
}
