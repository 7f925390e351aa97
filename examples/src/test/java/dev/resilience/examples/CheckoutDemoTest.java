package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.CircuitBreaker;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Smoke tests of the flagship: the breaker through an outage, the admin switch, the traces. */
class CheckoutDemoTest {

    @Test
    void theBreakerOpensDuringTheOutageAndClosesAfter() throws Exception {
        List<CheckoutDemo.Phase> script = List.of(
                new CheckoutDemo.Phase(CheckoutDemo.Mode.HEALTHY, Duration.ofMillis(1000)),
                new CheckoutDemo.Phase(CheckoutDemo.Mode.OUTAGE, Duration.ofMillis(1500)),
                new CheckoutDemo.Phase(CheckoutDemo.Mode.HEALTHY, Duration.ofMillis(2500)));
        DemoOutput output = new DemoOutput();
        CheckoutDemo.Outcome o = CheckoutDemo.run(output.stream, script, Duration.ofMillis(300), 1.0);
        String out = output.text();
        assertTrue(o.breakerStates().contains(CircuitBreaker.State.OPEN), "opened during the outage: " + out);
        assertEquals(CircuitBreaker.State.CLOSED, o.breakerStates().get(o.breakerStates().size() - 1),
                "closed after it: " + out);
        assertTrue(o.successes() > 0 && o.fallbacks() > 0, out);
        assertEquals(o.requests(), o.successes() + o.fallbacks(), "every request paid or fell back: " + out);
        assertTrue(o.metrics().contains("resilience_circuitbreaker_state{name=\"payments\",state=\"closed\"} 1.0"), o.metrics());
        assertTrue(o.metrics().contains("resilience_circuitbreaker_transitions_total{from=\"closed\",name=\"payments\",to=\"open\"}"),
                o.metrics());

        // traces: every checkout call traced here (1.0), each with a client span per HTTP attempt
        List<SpanData> spans = o.spans();
        Map<String, SpanData> roots = spans.stream().filter(s -> !s.getParentSpanContext().isValid())
                .collect(Collectors.toMap(SpanData::getSpanId, s -> s));
        assertTrue(roots.values().stream().allMatch(s -> s.getName().equals("checkout") && s.getKind() == SpanKind.SERVER));
        assertEquals(o.requests(), roots.size(), "one trace per checkout call");
        List<SpanData> attempts = spans.stream().filter(s -> s.getName().equals("GET /pay")).toList();
        assertTrue(attempts.size() >= o.successes(), "an attempt span per HTTP attempt");
        assertTrue(attempts.stream().allMatch(a -> a.getKind() == SpanKind.CLIENT
                && roots.containsKey(a.getParentSpanContext().getSpanId())), "attempts are children of their call");
        assertTrue(spans.stream().flatMap(s -> s.getEvents().stream())
                .anyMatch(e -> e.getName().equals("resilience.circuitbreaker.state_changed")), "toolkit events on spans");
        assertTrue(out.contains("[trace "), "traces are printed: " + out);
        assertTrue(Pattern.compile("\\[trace \\w+] checkout \\d+ ms.*\\n    attempt 1: GET /pay \\d+ ms, HTTP 200")
                .matcher(out).find(), out);
    }

    @Test
    void theAdminSwitchOverridesAHealthyPhaseUntilHandedBack() throws Exception {
        List<CheckoutDemo.Phase> script = List.of(new CheckoutDemo.Phase(CheckoutDemo.Mode.HEALTHY, Duration.ofMillis(5000)));
        DemoOutput output = new DemoOutput();
        CompletableFuture<CheckoutDemo.Outcome> run = CompletableFuture.supplyAsync(() -> {
            try {
                return CheckoutDemo.run(output.stream, script, Duration.ofMillis(300), 0.0);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        URI admin = awaitAdminUri(output);
        HttpClient client = HttpClient.newHttpClient();
        awaitLine(output, "[  1s] HEALTHY");
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(admin + "?mode=outage")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("mode OUTAGE\n", r.body());
        awaitLine(output, "[breaker] CLOSED -> OPEN");
        assertEquals(400, client.send(HttpRequest.newBuilder(URI.create(admin + "?mode=sideways")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        r = client.send(HttpRequest.newBuilder(URI.create(admin + "?mode=script")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("mode script (HEALTHY)\n", r.body());
        CheckoutDemo.Outcome o = run.get(30, TimeUnit.SECONDS);
        String out = output.text();
        assertTrue(o.breakerStates().contains(CircuitBreaker.State.OPEN), "the override opened it: " + out);
        assertEquals(CircuitBreaker.State.CLOSED, o.breakerStates().get(o.breakerStates().size() - 1),
                "closed once handed back to the healthy script: " + out);
        assertTrue(out.contains("OUTAGE"), "the summary lines show the override: " + out);
        assertFalse(out.contains("[trace "), "nothing traced at 0 %");
        assertEquals(0, o.spans().size());
    }

    private static URI awaitAdminUri(DemoOutput output) {
        Pattern p = Pattern.compile("payments admin (http://127\\.0\\.0\\.1:\\d+/admin)");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() - end < 0) {
            Matcher m = p.matcher(output.text());
            if (m.find()) {
                return URI.create(m.group(1));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a bounded poll of the output
        }
        throw new AssertionError("no admin address printed: " + output.text());
    }

    private static void awaitLine(DemoOutput output, String text) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() - end < 0) {
            if (output.text().contains(text)) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a bounded poll of the output
        }
        throw new AssertionError("never printed '" + text + "': " + output.text());
    }
}
