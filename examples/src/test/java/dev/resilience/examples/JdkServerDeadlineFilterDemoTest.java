package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Smoke test: the demo runs on loopback, the handler sees each caller's deadline, and an expired request is refused. */
class JdkServerDeadlineFilterDemoTest {

    @Test
    void theHandlerSeesTheCallersDeadlineBoundedByTheServersMaximum() throws Exception {
        DemoOutput output = new DemoOutput();
        JdkServerDeadlineFilterDemo.Outcome o = JdkServerDeadlineFilterDemo.run(output.stream);
        String out = output.text();
        List<String> saw = o.handlerSaw();
        assertEquals(3, saw.size(), "the expired request did not run the handler: " + out);
        assertEquals("no deadline", saw.get(0), out);
        long caller = millis(saw.get(1));
        assertTrue(caller > 0 && caller <= 300, "the caller's 300 ms: " + out);
        long bounded = millis(saw.get(2));
        assertTrue(bounded > 1_000 && bounded <= 2_000, "30 s asked, the server's 2 s maximum given: " + out);
        assertEquals(504, o.expiredStatus(), out);
        assertTrue(out.contains("504 (handler not run)"), out);
    }

    private static long millis(String left) {
        assertTrue(left.endsWith(" ms left"), left);
        return Long.parseLong(left.substring(0, left.length() - " ms left".length()));
    }
}
