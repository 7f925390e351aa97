package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the test apps' "/wait-for-deadline" answers. */
final class HandlerWaits {

    private static final Pattern ANSWER = Pattern.compile("done after (\\d+) ms, (-?\\d+) ms left on entry");

    private HandlerWaits() {
    }

    /**
     * Sends {@code request} (a call to "/wait-for-deadline" with a {@code grpc-timeout} of
     * {@code timeoutMs}) and asserts that the handler ran under that deadline and that its wait ended
     * when the deadline passed. The time left on entry is compared with what the request's own timing
     * allows, not with the header's full timeout: the time from the filter to the handler (a first
     * request in a cold JVM took hundreds of ms) is not the handler's to wait. It is at most the
     * client's whole round trip less the handler's wait, so the time left on entry is at least
     * {@code timeoutMs} minus that: a filter that shortened the deadline fails this.
     *
     * @return the answer's body
     */
    static String assertEndedByTheDeadline(Callable<String> request, long timeoutMs) throws Exception {
        long start = System.nanoTime();
        String body = request.call();
        long roundTripMs = (System.nanoTime() - start) / 1_000_000L;
        Matcher m = ANSWER.matcher(body);
        assertTrue(m.matches(), body);
        long waited = Long.parseLong(m.group(1));
        long left = Long.parseLong(m.group(2));
        // whole milliseconds, truncated on both sides: 2 ms of rounding
        assertTrue(left <= timeoutMs && left >= timeoutMs - (roundTripMs - waited) - 2,
                "the handler ran under the header's deadline: " + body + " (round trip " + roundTripMs + " ms)");
        assertTrue(waited >= left - 1 && waited < 3_000, "the wait ended when that deadline passed: " + body);
        return body;
    }
}
