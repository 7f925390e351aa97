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
        // A's JDK timer (set 1 ms past A's deadline, as HttpDeadlines does) and B's 504, sent when B's
        // deadline (A's, less the hop) passes, arrive within about a millisecond of each other: either
        // shows A got no answer it could use
        assertTrue("timed out".equals(o.tight()) || o.tight().startsWith("504 "), "the tight call: " + o.tight() + "\n" + out);
        assertTrue(o.cSteps() < 2 * ThreeServicesDemo.C_STEPS, "C abandoned the tight call: " + out);
        assertTrue(o.bSkipped() > 0, "B skipped work after A's deadline: " + out);
        assertEquals(2 * ThreeServicesDemo.B_AFTER_STEPS, o.bAfterSteps() + o.bSkipped(), out);
    }
}
