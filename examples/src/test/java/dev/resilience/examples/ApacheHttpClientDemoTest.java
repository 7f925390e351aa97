package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.DeadlineHeaders;
import org.junit.jupiter.api.Test;

/** Smoke test: both Apache clients get past two 503s within the deadline, and the deadline went out each time. */
class ApacheHttpClientDemoTest {

    @Test
    void bothClientsRetryTwiceAndSendTheDeadline() throws Exception {
        DemoOutput output = new DemoOutput();
        long start = System.nanoTime();
        ApacheHttpClientDemo.Outcome o = ApacheHttpClientDemo.run(output.stream);
        String out = output.text();
        assertEquals(3, o.classicAttempts(), out);
        assertEquals(200, o.classicStatus(), out);
        assertEquals(3, o.asyncAttempts(), out);
        assertEquals(200, o.asyncStatus(), out);
        assertEquals(6, o.headers().size(), out);
        for (String header : o.headers()) {
            long nanos = DeadlineHeaders.parseGrpcTimeout(header);
            assertTrue(nanos > 0 && nanos <= 2_000_000_000L, "the remaining part of the 2 s deadline: " + out);
        }
        assertTrue(out.contains("attempt 2 got HTTP 503, retrying"), out);
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "finishes in a few seconds");
    }
}
