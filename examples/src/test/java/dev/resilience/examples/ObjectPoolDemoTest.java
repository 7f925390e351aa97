package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Smoke test: clients are reused, a broken one replaced, a leak reported, a deadline honoured. */
class ObjectPoolDemoTest {

    @Test
    void reuseValidationLeakDetectionAndDeadlines() throws Exception {
        DemoOutput output = new DemoOutput();
        ObjectPoolDemo.Outcome o = ObjectPoolDemo.run(output.stream);
        String out = output.text();
        assertEquals(10, o.reusedAnswers(), out);
        assertTrue(o.brokenReplaced(), out);
        assertTrue(o.leakReported(), out);
        assertTrue(o.deadlineHonoured(), out);
        assertEquals(3, o.opened(), "two for minIdle, one to replace the broken client: " + out);
        assertEquals(o.opened(), o.closed(), "closing the pool closed every client: " + out);
        assertTrue(out.contains("ObjectPoolDemo.run"), "the leak report shows where it was borrowed: " + out);
    }
}
