package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the test apps' "/wait-for-deadline" answers. */
final class HandlerWaits {

    private static final Pattern ANSWER = Pattern.compile("done after (\\d+) ms, (-?\\d+) ms left on entry");

    private HandlerWaits() {
    }

    /**
     * Asserts that a handler entered with time left of at most {@code timeoutMs} and that its wait
     * ended when that time ran out (not before; and well before its own 5 s limit). The wait is
     * compared with the time left on entry, not with the header's full timeout: the time the request
     * takes from the filter to the handler (a first request in a cold JVM took hundreds of ms) is
     * not the handler's to wait.
     */
    static void assertEndedByTheDeadline(String body, long timeoutMs) {
        Matcher m = ANSWER.matcher(body);
        assertTrue(m.matches(), body);
        long waited = Long.parseLong(m.group(1));
        long left = Long.parseLong(m.group(2));
        assertTrue(left > 0 && left <= timeoutMs, "the handler ran under the header's deadline: " + body);
        assertTrue(waited >= left - 1 && waited < 3_000, "the wait ended when that deadline passed: " + body);
    }
}
