package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Smoke test: the demo runs on loopback and the service abandons the job it has no time for. */
class DeadlineDemoTest {

    @Test
    void serviceCompletesTheRoomyCallAndAbandonsTheTightOne() throws Exception {
        DemoOutput output = new DemoOutput();
        DeadlineDemo.Outcome o = DeadlineDemo.run(output.stream);
        String out = output.text();
        assertEquals(1, o.jobsCompleted(), out);
        assertEquals(1, o.jobsAbandoned(), out);
        assertTrue(o.stepsDone() < 2 * DeadlineDemo.STEPS, "useless work was skipped: " + out);
        assertTrue(out.contains("DEADLINE_EXCEEDED"), out);
        java.util.regex.Matcher sent = java.util.regex.Pattern.compile("grpc-timeout: (\\d+u)").matcher(out);
        assertTrue(sent.find(), out);
        long nanos = dev.resilience.context.DeadlineHeaders.parseGrpcTimeout(sent.group(1));
        assertTrue(nanos > 1_000_000_000L && nanos <= 2_000_000_000L, "the 2 s deadline went out: " + out);
    }
}
