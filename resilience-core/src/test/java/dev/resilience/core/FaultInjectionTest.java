package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextCancelledException;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.ManualTicker;
import dev.resilience.context.Scope;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Fault rates within statistical bounds, determinism by seed, runtime switching. */
class FaultInjectionTest {

    private final ManualTicker ticker = new ManualTicker();

    private FaultInjection chaos(long seed) {
        return FaultInjection.builder("chaos").seed(seed).ticker(ticker)
                .exception(0.2, () -> new IOException("injected"))
                .deadlineExceeded(0.1)
                .build();
    }

    private static List<String> outcomes(FaultInjection f, int calls) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            try {
                out.add(f.call(() -> "ok"));
            } catch (Exception e) {
                out.add(e.getClass().getSimpleName());
            }
        }
        return out;
    }

    @Test
    void disabledInjectsNothing() {
        FaultInjection f = chaos(1);
        assertFalse(f.isEnabled());
        assertTrue(outcomes(f, 1000).stream().allMatch("ok"::equals));
    }

    @Test
    void ratesStayWithinStatisticalBounds() {
        FaultInjection f = chaos(7);
        f.enable();
        int n = 20_000;
        List<String> out = outcomes(f, n);
        long io = out.stream().filter("IOException"::equals).count();
        long deadline = out.stream().filter("DeadlineExceededException"::equals).count();
        // 5 standard deviations: sqrt(n p (1-p)) = 56.6 for p=0.2 and 42.4 for p=0.1.
        assertTrue(Math.abs(io - 0.2 * n) < 5 * 56.6, "exceptions " + io);
        assertTrue(Math.abs(deadline - 0.1 * n) < 5 * 42.4, "deadline faults " + deadline);
        assertEquals(n - io - deadline, out.stream().filter("ok"::equals).count());
    }

    @Test
    void sameSeedSameFaults() {
        FaultInjection a = chaos(42);
        FaultInjection b = chaos(42);
        FaultInjection c = chaos(43);
        a.enable();
        b.enable();
        c.enable();
        List<String> oa = outcomes(a, 500);
        assertEquals(oa, outcomes(b, 500));
        assertFalse(oa.equals(outcomes(c, 500)));
    }

    @Test
    void switchableAtRuntime() {
        FaultInjection f = FaultInjection.builder("all").exception(1.0, () -> new IOException("x")).build();
        f.enable();
        assertThrows(IOException.class, () -> f.call(() -> "ok"));
        f.disable();
        assertTrue(outcomes(f, 10).stream().allMatch("ok"::equals));
    }

    @Test
    void latencyWaitsOnTheTicker() throws Exception {
        FaultInjection f = FaultInjection.builder("slow").latency(1.0, Duration.ofMillis(300)).ticker(ticker).build();
        f.enable();
        CompletableFuture<String> r = f.<String>callAsync(() -> CompletableFuture.completedFuture("ok"))
                .toCompletableFuture();
        ticker.advance(Duration.ofMillis(299));
        assertFalse(r.isDone());
        ticker.advance(Duration.ofMillis(1));
        assertEquals("ok", r.get());
    }

    @Test
    void aStageCancelledDuringTheInjectedLatencyNeverStartsTheTask() {
        FaultInjection f = FaultInjection.builder("slow").latency(1.0, Duration.ofSeconds(1)).ticker(ticker).build();
        f.enable();
        AtomicInteger started = new AtomicInteger();
        CompletableFuture<String> r = f.<String>callAsync(() -> {
            started.incrementAndGet();
            return new CompletableFuture<>();
        }).toCompletableFuture();
        assertTrue(r.cancel(false));
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(0, started.get(), "the caller left during the wait: nothing to start");
    }

    @Test
    void aContextCancelledDuringTheInjectedLatencyEndsTheStageWithItsException() throws Exception {
        FaultInjection f = FaultInjection.builder("slow").latency(1.0, Duration.ofSeconds(1)).ticker(ticker).build();
        f.enable();
        AtomicInteger started = new AtomicInteger();
        CompletableFuture<String> r;
        try (CancelHandle h = Context.background().withCancel(); Scope s = h.attach()) {
            r = f.<String>callAsync(() -> {
                started.incrementAndGet();
                return CompletableFuture.completedFuture("late");
            }).toCompletableFuture();
            h.cancel();
            // as the blocking path's wait, the stage ends when the context does, not a second later
            assertInstanceOf(ContextCancelledException.class,
                    assertThrows(ExecutionException.class, () -> r.get(5, TimeUnit.SECONDS)).getCause());
        }
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(0, started.get());
    }

    @Test
    void aStageEndedFromOutsideAfterTheLatencyEndsTheTasksStage() {
        FaultInjection f = FaultInjection.builder("slow").latency(1.0, Duration.ofSeconds(1)).ticker(ticker).build();
        f.enable();
        CompletableFuture<String> inner = new CompletableFuture<>();
        CompletableFuture<String> r = f.<String>callAsync(() -> inner).toCompletableFuture();
        ticker.advance(Duration.ofSeconds(1));
        assertFalse(r.isDone());
        assertTrue(r.cancel(false));
        assertTrue(inner.isCancelled(), "nobody waits for the task's stage any more");
    }

    @Test
    void deadlineFaultHangsUntilTheDeadline() {
        FaultInjection f = FaultInjection.builder("hang").deadlineExceeded(1.0).ticker(ticker).build();
        f.enable();
        CompletableFuture<String> r;
        CancelHandle h = Context.background().withTimeout(Duration.ofMillis(200), ticker);
        try (Scope s = h.attach()) {
            r = f.<String>callAsync(() -> CompletableFuture.completedFuture("ok")).toCompletableFuture();
        }
        // the handle stays open: closing it cancels the context, which ends the wait at once
        ticker.advance(Duration.ofMillis(199));
        assertFalse(r.isDone());
        ticker.advance(Duration.ofMillis(1));
        assertInstanceOf(DeadlineExceededException.class, assertThrows(ExecutionException.class, r::get).getCause());
        h.close();
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> FaultInjection.builder("x").deadlineExceeded(1.5));
        assertThrows(IllegalArgumentException.class, () -> FaultInjection.builder("x").deadlineExceeded(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> FaultInjection.builder("x").latency(0.5, Duration.ZERO));
        assertThrows(IllegalStateException.class, () -> FaultInjection.builder("x")
                .exception(0.7, IOException::new).deadlineExceeded(0.7).build());
    }
}
