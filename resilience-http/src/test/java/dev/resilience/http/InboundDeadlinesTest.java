package dev.resilience.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The policy both inbound filters share, on a manual clock; the filters' own tests run real servers. */
class InboundDeadlinesTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final ManualTicker ticker = new ManualTicker();

    private static Function<String, String> headers(String... nameValue) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], nameValue[i + 1]);
        }
        return m::get;
    }

    @Test
    void trustedHeaderGivesTheRequestItsDeadline() {
        InboundDeadlines d = InboundDeadlines.builder().ticker(ticker).build();
        try (CancelHandle h = d.start(headers("grpc-timeout", "250m"))) {
            assertEquals(TimeUnit.MILLISECONDS.toNanos(250), h.context().remainingNanos());
            assertFalse(h.context().isDone());
            ticker.advance(Duration.ofMillis(250));
            assertTrue(h.context().isDone());
            assertInstanceOf(DeadlineExceededException.class, h.context().err());
        }
        try (CancelHandle h = d.start(headers("x-envoy-expected-rq-timeout-ms", "1500"))) {
            assertEquals(1_500 * 1_000_000L, h.context().remainingNanos());
        }
        // grpc-timeout wins over Envoy's header, as in DeadlineHeaders.read
        try (CancelHandle h = d.start(headers("grpc-timeout", "2S", "x-envoy-expected-rq-timeout-ms", "100"))) {
            assertEquals(2 * SECOND, h.context().remainingNanos());
        }
    }

    @Test
    void noHeaderGivesACancellableContextWithoutDeadline() {
        CancelHandle h = InboundDeadlines.defaults().start(headers());
        assertEquals(Optional.empty(), h.context().deadline());
        assertFalse(h.context().isDone());
        h.cancel();
        assertTrue(h.context().isDone(), "the filters can still end it when the request ends");
    }

    @Test
    void maxTimeoutBoundsTheHeader() {
        InboundDeadlines d = InboundDeadlines.builder().ticker(ticker).maxTimeout(Duration.ofSeconds(1)).build();
        try (CancelHandle h = d.start(headers("grpc-timeout", "99999999H"))) {
            assertEquals(SECOND, h.context().remainingNanos());
        }
        try (CancelHandle h = d.start(headers("grpc-timeout", "300m"))) {
            assertEquals(TimeUnit.MILLISECONDS.toNanos(300), h.context().remainingNanos(), "a shorter header is kept");
        }
        try (CancelHandle h = d.start(headers())) {
            assertEquals(Optional.empty(), h.context().deadline(), "the maximum bounds headers; it is no default");
        }
    }

    @Test
    void defaultTimeoutAppliesWithoutAUsableHeader() {
        InboundDeadlines d = InboundDeadlines.builder().ticker(ticker).defaultTimeout(Duration.ofSeconds(2)).build();
        try (CancelHandle h = d.start(headers())) {
            assertEquals(2 * SECOND, h.context().remainingNanos());
        }
        try (CancelHandle h = d.start(headers("grpc-timeout", "abc"))) {
            assertEquals(2 * SECOND, h.context().remainingNanos(), "a rejected header counts as absent");
        }
        try (CancelHandle h = d.start(headers("grpc-timeout", "5S"))) {
            assertEquals(5 * SECOND, h.context().remainingNanos(), "a trusted header replaces the default");
        }
    }

    @Test
    void untrustedHeadersAreNotEvenRead() {
        InboundDeadlines d = InboundDeadlines.builder().ticker(ticker).trustIncoming(false)
                .defaultTimeout(Duration.ofSeconds(2)).build();
        List<String> asked = new ArrayList<>();
        try (CancelHandle h = d.start(name -> {
            asked.add(name);
            return "0m";
        })) {
            assertEquals(2 * SECOND, h.context().remainingNanos());
            assertFalse(h.context().isDone(), "an untrusted 0m cannot expire the request");
        }
        assertEquals(List.of(), asked);
        try (CancelHandle h = InboundDeadlines.builder().trustIncoming(false).build().start(headers("grpc-timeout", "1m"))) {
            assertEquals(Optional.empty(), h.context().deadline());
        }
    }

    @Test
    void aDeadlinePassedOnArrivalGivesADoneContext() {
        InboundDeadlines d = InboundDeadlines.builder().ticker(ticker).build();
        for (String expired : new String[] {"0m", "0S", "0n", "00000000H"}) {
            try (CancelHandle h = d.start(headers("grpc-timeout", expired))) {
                assertTrue(h.context().isDone(), expired);
                assertInstanceOf(DeadlineExceededException.class, h.context().err(), expired);
            }
        }
        try (CancelHandle h = d.start(headers("x-envoy-expected-rq-timeout-ms", "0"))) {
            assertTrue(h.context().isDone());
        }
        assertEquals(504, d.expiredStatus());
    }

    @Test
    void hostileHeadersCountAsAbsentAndNeverThrow() {
        InboundDeadlines d = InboundDeadlines.builder().ticker(ticker).build();
        String[] hostile = {"99999999999H", "-1S", "abc", "1x", "", "   ", "1.5S", "1e3m", "0x10S", "5s", "S",
            "9".repeat(10_000) + "m", "\uff11\uff10S", "\u00e9m", "1\u0000m", "1\r\nm", "\ud800m", "5 S"};
        for (String v : hostile) {
            try (CancelHandle h = d.start(headers("grpc-timeout", v))) {
                assertEquals(Optional.empty(), h.context().deadline(), v);
                assertFalse(h.context().isDone(), v);
            }
        }
        for (String v : new String[] {"-5", "1e3", "99999999999999999999", "", "12ms", "\u0661"}) {
            try (CancelHandle h = d.start(headers("x-envoy-expected-rq-timeout-ms", v))) {
                assertEquals(Optional.empty(), h.context().deadline(), v);
            }
        }
    }

    @Test
    void theRequestDoesNotInheritTheThreadsContext() {
        try (CancelHandle leftover = Context.background().withTimeout(Duration.ofMillis(1), ticker);
             Scope s = leftover.attach()) {
            leftover.cancel();
            try (CancelHandle h = InboundDeadlines.defaults().start(headers("grpc-timeout", "1S"))) {
                assertFalse(h.context().isDone(), "a cancelled leftover context does not end the request");
                assertTrue(h.context().remainingNanos() > TimeUnit.MILLISECONDS.toNanos(500));
            }
        }
    }

    @Test
    void rejectedHeadersAreLoggedAtDebugTruncatedAndSanitized() {
        Logger jul = Logger.getLogger("dev.resilience.http.inbound");
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Level before = jul.getLevel();
        boolean parentHandlers = jul.getUseParentHandlers();
        jul.setLevel(Level.FINE);
        jul.setUseParentHandlers(false);
        jul.addHandler(capture);
        try {
            InboundDeadlines d = InboundDeadlines.defaults();
            d.start(headers("grpc-timeout", "\u001b[31mevil" + "A".repeat(5_000))).cancel();
            d.start(headers("x-envoy-expected-rq-timeout-ms", "-5")).cancel();
            d.start(headers("grpc-timeout", "250m")).cancel();
            assertEquals(2, records.size(), "one line per rejected header, none for a valid one");
            LogRecord first = records.get(0);
            assertEquals(Level.FINE, first.getLevel());
            String msg = first.getMessage();
            assertTrue(msg.startsWith("ignored grpc-timeout header (more than 8 digits): '?[31mevilAAAA"), msg);
            assertTrue(msg.endsWith("'... (5009 chars)"), msg);
            assertTrue(msg.length() < 120, msg);
            assertFalse(msg.contains("\u001b"), "no control characters reach the log");
            assertEquals("ignored x-envoy-expected-rq-timeout-ms header (not a digit at position 0): '-5'",
                    records.get(1).getMessage());
        } finally {
            jul.removeHandler(capture);
            jul.setUseParentHandlers(parentHandlers);
            jul.setLevel(before);
        }
    }

    @Test
    void builderValidatesAndNamesWhatItRejects() {
        assertEquals("maxTimeout must be positive: PT0S", assertThrows(IllegalArgumentException.class,
                () -> InboundDeadlines.builder().maxTimeout(Duration.ZERO)).getMessage());
        assertEquals("defaultTimeout must be positive: PT-1S", assertThrows(IllegalArgumentException.class,
                () -> InboundDeadlines.builder().defaultTimeout(Duration.ofSeconds(-1))).getMessage());
        assertEquals("maxTimeout", assertThrows(NullPointerException.class,
                () -> InboundDeadlines.builder().maxTimeout(null)).getMessage());
        assertEquals("ticker", assertThrows(NullPointerException.class,
                () -> InboundDeadlines.builder().ticker(null)).getMessage());
        assertEquals("header", assertThrows(NullPointerException.class,
                () -> InboundDeadlines.defaults().start(null)).getMessage());
        for (int bad : new int[] {-1, 0, 100, 199, 600}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> InboundDeadlines.builder().expiredStatus(bad));
            assertTrue(e.getMessage().startsWith("expiredStatus must be"), e.getMessage());
        }
        assertEquals("trustIncoming was already set", assertThrows(IllegalStateException.class,
                () -> InboundDeadlines.builder().trustIncoming(false).trustIncoming(true)).getMessage());
        assertEquals("maxTimeout was already set", assertThrows(IllegalStateException.class,
                () -> InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(1)).maxTimeout(Duration.ofSeconds(2)))
                .getMessage());
        assertEquals("defaultTimeout must not exceed maxTimeout: PT5S > PT1S",
                assertThrows(IllegalArgumentException.class, () -> InboundDeadlines.builder()
                        .maxTimeout(Duration.ofSeconds(1)).defaultTimeout(Duration.ofSeconds(5)).build()).getMessage());
    }

    @Test
    void gettersReportTheConfiguration() {
        InboundDeadlines defaults = InboundDeadlines.defaults();
        assertSame(defaults, InboundDeadlines.defaults());
        assertTrue(defaults.trustIncoming());
        assertEquals(Optional.empty(), defaults.maxTimeout());
        assertEquals(Optional.empty(), defaults.defaultTimeout());
        assertEquals(504, defaults.expiredStatus());
        InboundDeadlines d = InboundDeadlines.builder().trustIncoming(false).maxTimeout(Duration.ofSeconds(3))
                .defaultTimeout(Duration.ofSeconds(1)).expiredStatus(503).build();
        assertFalse(d.trustIncoming());
        assertEquals(Optional.of(Duration.ofSeconds(3)), d.maxTimeout());
        assertEquals(Optional.of(Duration.ofSeconds(1)), d.defaultTimeout());
        assertEquals(503, d.expiredStatus());
        assertEquals("InboundDeadlines[trustIncoming=false, maxTimeout=PT3S, defaultTimeout=PT1S, expiredStatus=503]",
                d.toString());
    }

    @Test
    void callerDecidesOnlyWhenATrustedUsableHeaderAsksForLessThanTheServersMaximum() {
        InboundDeadlines capped = InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(1))
                .defaultTimeout(Duration.ofMillis(500)).build();
        assertTrue(capped.callerDecides(Map.of("grpc-timeout", "50m")::get));
        assertTrue(capped.callerDecides(Map.of("x-envoy-expected-rq-timeout-ms", "50")::get));
        assertFalse(capped.callerDecides(Map.of("grpc-timeout", "1S")::get), "at the maximum the server's bound decides");
        assertFalse(capped.callerDecides(Map.of("grpc-timeout", "5S")::get), "capped: the server's bound");
        assertFalse(capped.callerDecides(Map.<String, String>of()::get), "no header: the default timeout");
        assertFalse(capped.callerDecides(Map.of("grpc-timeout", "soon")::get), "unusable: the default timeout");
        assertFalse(capped.callerDecides(Map.of("grpc-timeout", "soon", "x-envoy-expected-rq-timeout-ms", "50")::get),
                "a present grpc-timeout hides Envoy's header, as in start");
        assertTrue(InboundDeadlines.defaults().callerDecides(Map.of("grpc-timeout", "5S")::get), "no maximum");
        assertFalse(InboundDeadlines.builder().trustIncoming(false).build()
                .callerDecides(Map.of("grpc-timeout", "50m")::get), "not trusted");
    }
}
