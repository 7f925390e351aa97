package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.DeadlineHeaders;
import org.junit.jupiter.api.Test;

/** Smoke test: the demo runs on loopback, retries the 503s under the deadline and stops at the next one. */
class OkHttpDemoTest {

    @Test
    void retriesTheFlakyServiceAndGivesUpOnTheSilentOneAtTheDeadline() throws Exception {
        DemoOutput output = new DemoOutput();
        OkHttpDemo.Outcome o = OkHttpDemo.run(output.stream);
        String out = output.text();
        assertEquals(200, o.status(), out);
        assertEquals(2, o.retries(), out);
        assertEquals(3, o.deadlinesSeen().size(), out);
        for (String d : o.deadlinesSeen()) {
            long nanos = DeadlineHeaders.parseGrpcTimeout(d);
            assertTrue(nanos > 0 && nanos <= 500_000_000L, "each attempt sent at most its 500 ms: " + out);
        }
        assertTrue(o.silentCallTimedOut(), out);
        assertTrue(o.silentCallMillis() < 3_000, "ended at the 300 ms deadline: " + out);
        assertTrue(out.contains("grpc-timeout: "), out);
        assertTrue(out.contains("DeadlineExceededException"), out);
    }
}
