package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Smoke test: the generous call completes everywhere; the tight one stops C and B early. */
class ThreeServicesDemoTest {

    @Test
    void bAndCStopWorkingWhenADoesNotWaitAnymore() throws Exception {
        DemoOutput output = new DemoOutput();
        ThreeServicesDemo.Outcome o = ThreeServicesDemo.run(output.stream);
        String out = output.text();
        assertTrue(o.generous().startsWith("200 B done (C said: C done)"), out);
        assertEquals("timed out", o.tight(), out);
        assertTrue(o.cSteps() < 2 * ThreeServicesDemo.C_STEPS, "C abandoned the tight call: " + out);
        assertTrue(o.bSkipped() > 0, "B skipped work after A's deadline: " + out);
        assertEquals(2 * ThreeServicesDemo.B_AFTER_STEPS, o.bAfterSteps() + o.bSkipped(), out);
    }
}
