package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Smoke test: over real gRPC on loopback, the retry recovers, the late call stays home, the cancel arrives. */
class GrpcDemoTest {

    @Test
    void retriesUnderTheDeadlineFailsTheLateCallLocallyAndCancelsTheSlowOne() throws Exception {
        DemoOutput output = new DemoOutput();
        GrpcDemo.Outcome o = GrpcDemo.run(output.stream);
        String out = output.text();
        assertTrue(o.reply().startsWith("apples: in stock"), out);
        Matcher spare = Pattern.compile("answered with (\\d+) ms to spare").matcher(o.reply());
        assertTrue(spare.find(), out);
        long left = Long.parseLong(spare.group(1));
        assertTrue(left > 0 && left <= 2000, "the service saw the caller's 2 s deadline: " + out);
        assertEquals(Status.Code.DEADLINE_EXCEEDED, o.late(), out);
        assertEquals(Status.Code.CANCELLED, o.cancelled(), out);
        assertTrue(o.serviceSawOnCancel().contains("ContextCancelledException"), out);
        assertEquals(3, o.serviceCalls(), "two attempts for apples, none for the late pears, one slow: " + out);
    }
}
