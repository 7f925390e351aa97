package dev.resilience.examples;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prints each finished trace as a few lines: the root span, then its children in start order with
 * their duration, status and the toolkit's span events (retries scheduled, timeouts, breaker state
 * changes). Children end before their root, so spans wait here, per trace, until the root ends (at
 * most 1,000 traces wait). Keeps the most recent spans in {@link #exported()} for the smoke test.
 */
final class PrintingSpanExporter implements SpanExporter {

    private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    private static final AttributeKey<String> TIMEOUT = AttributeKey.stringKey("grpc-timeout");

    /** Traces whose root never ends (or was not sampled) must not pile up. */
    private static final int MAX_PENDING_TRACES = 1_000;
    /** What the smoke test looks at; a demo run keeps the most recent ones only. */
    private static final int MAX_KEPT = 10_000;

    private final PrintStream out;
    private final Map<String, List<SpanData>> pending = new ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentLinkedDeque<SpanData> exported = new java.util.concurrent.ConcurrentLinkedDeque<>();

    PrintingSpanExporter(PrintStream out) {
        this.out = out;
    }

    /** The most recent spans exported (up to 10,000). */
    List<SpanData> exported() {
        return List.copyOf(exported);
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
        for (SpanData span : spans) {
            exported.add(span);
            if (exported.size() > MAX_KEPT) {
                exported.pollFirst();
            }
            if (span.getParentSpanContext().isValid()) {
                if (pending.size() >= MAX_PENDING_TRACES) {
                    pending.clear(); // roots that never came: forget them rather than grow
                }
                pending.computeIfAbsent(span.getTraceId(), t -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(span);
            } else {
                print(span, pending.remove(span.getTraceId()));
            }
        }
        return CompletableResultCode.ofSuccess();
    }

    private void print(SpanData root, List<SpanData> children) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("[trace %s] %s %d ms%s%n", root.getTraceId().substring(0, 8), root.getName(),
                millis(root), events(root)));
        List<SpanData> sorted = new ArrayList<>(children == null ? List.of() : children);
        sorted.sort(Comparator.comparingLong(SpanData::getStartEpochNanos));
        int attempt = 0;
        for (SpanData child : sorted) {
            Long status = child.getAttributes().get(STATUS);
            String outcome = status != null ? "HTTP " + status
                    : child.getStatus().getDescription().isEmpty() ? child.getStatus().getStatusCode().toString()
                    : child.getStatus().getDescription();
            b.append(String.format("    attempt %d: %s %d ms, %s (grpc-timeout %s)%s%n", ++attempt, child.getName(),
                    millis(child), outcome, child.getAttributes().get(TIMEOUT), events(child)));
        }
        out.print(b);
    }

    private static long millis(SpanData s) {
        return (s.getEndEpochNanos() - s.getStartEpochNanos()) / 1_000_000;
    }

    private static String events(SpanData s) {
        StringBuilder b = new StringBuilder();
        for (EventData e : s.getEvents()) {
            if (e.getName().startsWith("resilience.")) {
                b.append(b.length() == 0 ? "  events: " : ", ").append(e.getName());
            }
        }
        return b.toString();
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
        pending.clear();
        return CompletableResultCode.ofSuccess();
    }
}
