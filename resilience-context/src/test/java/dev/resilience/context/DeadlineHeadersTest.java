package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** grpc-timeout and Envoy header codecs and hostile inputs (the HTTP round trip is HttpDeadlinesTest's). */
class DeadlineHeadersTest {

    @Test
    void encodesInTheFinestUnitThatFitsEightDigits() {
        assertEquals("0n", DeadlineHeaders.encodeGrpcTimeout(0));
        assertEquals("1n", DeadlineHeaders.encodeGrpcTimeout(1));
        assertEquals("99999999n", DeadlineHeaders.encodeGrpcTimeout(99_999_999L));
        assertEquals("100000u", DeadlineHeaders.encodeGrpcTimeout(100_000_000L));
        assertEquals("250000u", DeadlineHeaders.encodeGrpcTimeout(Duration.ofMillis(250)));
        assertEquals("100000m", DeadlineHeaders.encodeGrpcTimeout(Duration.ofSeconds(100)));
        assertEquals("100000S", DeadlineHeaders.encodeGrpcTimeout(Duration.ofSeconds(100_000)));
        assertEquals("1666666M", DeadlineHeaders.encodeGrpcTimeout(Duration.ofSeconds(100_000_000L)));
        assertEquals("2562047H", DeadlineHeaders.encodeGrpcTimeout(Long.MAX_VALUE));
    }

    @Test
    void encodingRoundsDownSoTheCalleeNeverGetsMoreTime() {
        assertEquals("123456u", DeadlineHeaders.encodeGrpcTimeout(123_456_789L));
        for (long nanos : new long[] {1, 999, 99_999_999L, 100_000_001L, 123_456_789_123L, 7_777_777_777_777L,
            Deadline.MAX_OFFSET_NANOS}) {
            long decoded = DeadlineHeaders.parseGrpcTimeout(DeadlineHeaders.encodeGrpcTimeout(nanos));
            assertTrue(decoded <= nanos, nanos + " -> " + decoded);
            assertTrue(decoded >= nanos - nanos / 99_999L - 1, "precision kept: " + nanos + " -> " + decoded);
        }
    }

    @Test
    void decodesEveryUnit() {
        assertEquals(5L, DeadlineHeaders.parseGrpcTimeout("5n"));
        assertEquals(5_000L, DeadlineHeaders.parseGrpcTimeout("5u"));
        assertEquals(250_000_000L, DeadlineHeaders.parseGrpcTimeout("250m"));
        assertEquals(3_000_000_000L, DeadlineHeaders.parseGrpcTimeout("3S"));
        assertEquals(120_000_000_000L, DeadlineHeaders.parseGrpcTimeout("2M"));
        assertEquals(3_600_000_000_000L, DeadlineHeaders.parseGrpcTimeout("1H"));
        assertEquals(250_000_000L, DeadlineHeaders.parseGrpcTimeout(" 250m\t"), "optional blanks are ignored");
        assertEquals(0L, DeadlineHeaders.parseGrpcTimeout("0m"));
        assertEquals(7L, DeadlineHeaders.parseGrpcTimeout("00000007n"));
    }

    @Test
    void overflowingValuesSaturate() {
        assertEquals(Deadline.MAX_OFFSET_NANOS, DeadlineHeaders.parseGrpcTimeout("99999999H"));
        assertEquals(Deadline.MAX_OFFSET_NANOS, DeadlineHeaders.decodeEnvoyTimeoutMs("999999999999999999").nanos());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "m", "123456789m", "-5m", "+5m", "5", "5x", "5 m", "1.5S", "5mm", "0x10m",
        "\u0665m", "5\u00b5", "\u0000", "99999999999999999999999999999H"})
    void hostileGrpcValuesYieldNoDeadlineWithAReasonAndNeverThrow(String value) {
        HeaderTimeout t = DeadlineHeaders.decodeGrpcTimeout(value);
        assertFalse(t.isPresent(), value);
        assertEquals(-1L, t.nanos());
        assertEquals(Optional.empty(), t.timeout());
        assertTrue(t.error() != null && !t.error().isEmpty(), "a reason is given");
        assertEquals(DeadlineHeaders.GRPC_TIMEOUT, t.header());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> DeadlineHeaders.parseGrpcTimeout(value));
        assertTrue(e.getMessage().contains(t.error()), e.getMessage());
        try (CancelHandle h = t.applyTo(Context.background())) {
            assertEquals(Optional.empty(), h.context().deadline(), "a rejected header means no deadline");
        }
    }

    @Test
    void specificReasons() {
        assertEquals("more than 8 digits", DeadlineHeaders.decodeGrpcTimeout("123456789m").error());
        assertEquals("empty value", DeadlineHeaders.decodeGrpcTimeout("").error());
        assertEquals("not a digit at position 0", DeadlineHeaders.decodeGrpcTimeout("-5m").error());
        assertTrue(DeadlineHeaders.decodeGrpcTimeout("5x").error().startsWith("unknown unit"));
        assertFalse(DeadlineHeaders.decodeGrpcTimeout(null).isPresent());
        assertNull(DeadlineHeaders.decodeGrpcTimeout(null).error(), "absent is not an error");
    }

    @Test
    void envoyHeader() {
        assertEquals(250_000_000L, DeadlineHeaders.decodeEnvoyTimeoutMs("250").nanos());
        assertEquals(0L, DeadlineHeaders.decodeEnvoyTimeoutMs("0").nanos());
        for (String bad : new String[] {"", "abc", "-1", "1.5", "1234567890123456789"}) {
            HeaderTimeout t = DeadlineHeaders.decodeEnvoyTimeoutMs(bad);
            assertFalse(t.isPresent(), bad);
            assertTrue(t.error() != null, bad);
        }
    }

    @Test
    void readPrefersGrpcTimeoutOverEnvoy() {
        Map<String, String> both = Map.of("grpc-timeout", "1S", "x-envoy-expected-rq-timeout-ms", "5000");
        assertEquals(1_000_000_000L, DeadlineHeaders.read(both::get).nanos());
        Map<String, String> envoy = Map.of("x-envoy-expected-rq-timeout-ms", "5000");
        assertEquals(5_000_000_000L, DeadlineHeaders.read(envoy::get).nanos());
        assertFalse(DeadlineHeaders.read(Map.<String, String>of()::get).isPresent());
    }

    @Test
    void applyToGivesAChildBoundedByTheParent() {
        ManualTicker ticker = new ManualTicker();
        CancelHandle parent = Context.background().withTimeout(Duration.ofMillis(100), ticker);
        HeaderTimeout longer = DeadlineHeaders.decodeGrpcTimeout("5S");
        try (CancelHandle h = longer.applyTo(parent.context(), ticker)) {
            assertEquals(Duration.ofMillis(100), h.context().remaining().orElseThrow());
        }
        try (CancelHandle h = DeadlineHeaders.decodeGrpcTimeout("30m").applyTo(parent.context(), ticker)) {
            assertEquals(Duration.ofMillis(30), h.context().remaining().orElseThrow());
        }
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> DeadlineHeaders.encodeGrpcTimeout(-1));
        assertThrows(IllegalArgumentException.class, () -> DeadlineHeaders.encodeGrpcTimeout(Duration.ofNanos(-1)));
        assertEquals("timeout",
                assertThrows(NullPointerException.class, () -> DeadlineHeaders.encodeGrpcTimeout(null)).getMessage());
        assertEquals("value",
                assertThrows(NullPointerException.class, () -> DeadlineHeaders.parseGrpcTimeout(null)).getMessage());
        assertEquals("header", assertThrows(NullPointerException.class, () -> DeadlineHeaders.read(null)).getMessage());
        assertEquals("parent", assertThrows(NullPointerException.class,
                () -> DeadlineHeaders.decodeGrpcTimeout("1S").applyTo(null)).getMessage());
    }
}
