package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Exception classes in the registry's configuration: what a retry retries, what a breaker counts. */
class RegistryExceptionClassesTest {

    private static int attempts(Retry retry, Exception failure) {
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(failure.getClass(), () -> retry.call(() -> {
            attempts.incrementAndGet();
            throw failure;
        }));
        return attempts.get();
    }

    @Test
    void aRetryRetriesOnlyItsListAndNeverItsIgnoredOnes() {
        ResilienceRegistry registry = ResilienceRegistry.of(Map.of(
                "resilience.retry.default.backoff", "fixed",
                "resilience.retry.default.backoff-delay", "0",
                "resilience.retry.io.retry-exceptions", "java.io.IOException",
                "resilience.retry.io.ignore-exceptions", "java.io.FileNotFoundException",
                "resilience.retry.lenient.ignore-exceptions", "java.lang.IllegalArgumentException, java.io.UncheckedIOException"));
        Retry io = registry.retry("io");
        assertEquals(3, attempts(io, new IOException("reset")));
        assertEquals(1, attempts(io, new FileNotFoundException("gone")), "ignored, though an IOException");
        assertEquals(1, attempts(io, new IllegalStateException("not listed")));
        Retry lenient = registry.retry("lenient");
        assertEquals(1, attempts(lenient, new IllegalArgumentException("bad input")));
        assertEquals(1, attempts(lenient, new UncheckedIOException(new IOException())));
        assertEquals(3, attempts(lenient, new IllegalStateException("anything else")));
        assertEquals(1, attempts(lenient, new CallNotPermittedException("b", CircuitBreaker.State.OPEN)),
                "the defaults stay: refusals are never retried");
    }

    @Test
    void aBreakerIgnoresItsIgnoredAndCountsOnlyItsRecordedExceptions() {
        ResilienceRegistry registry = ResilienceRegistry.of(Map.of(
                "resilience.circuitbreaker.ignoring.consecutive-failures", "2",
                "resilience.circuitbreaker.ignoring.ignore-exceptions", "java.lang.IllegalArgumentException",
                "resilience.circuitbreaker.recording.consecutive-failures", "2",
                "resilience.circuitbreaker.recording.record-exceptions", "java.io.IOException"));
        CircuitBreaker ignoring = registry.circuitBreaker("ignoring");
        for (int i = 0; i < 5; i++) {
            ignoring.tryAcquire().onFailure(new IllegalArgumentException("caller's mistake"));
        }
        assertEquals(CircuitBreaker.State.CLOSED, ignoring.state());
        assertEquals(5, ignoring.counts().totalExclusions());

        CircuitBreaker recording = registry.circuitBreaker("recording");
        recording.tryAcquire().onFailure(new IllegalStateException("a success for this breaker"));
        recording.tryAcquire().onFailure(new IllegalStateException("and another"));
        assertEquals(CircuitBreaker.State.CLOSED, recording.state());
        recording.tryAcquire().onFailure(new IOException("down"));
        recording.tryAcquire().onFailure(new IOException("down"));
        assertEquals(CircuitBreaker.State.OPEN, recording.state());
    }

    @Test
    void unknownClassesAndNonExceptionsAreProblemsListedTogether() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.of(
                "resilience.retry.a.retry-exceptions", "java.io.IOExcepton",
                "resilience.retry.b.ignore-exceptions", "java.lang.String",
                "resilience.circuitbreaker.c.ignore-exceptions", "java.io.IOException,")));
        List<String> messages = e.problems().stream().map(ConfigurationException.Problem::message).toList();
        assertEquals(3, messages.size(), e.getMessage());
        assertTrue(messages.contains("no class java.io.IOExcepton on the class path"), messages.toString());
        assertTrue(messages.contains("java.lang.String is not an exception (a Throwable)"), messages.toString());
        assertTrue(messages.contains("not a list of exception class names: an entry is empty"), messages.toString());
    }

    @Test
    void aChangedListNeedsARestart() {
        ResilienceRegistry registry = ResilienceRegistry.of(Map.of("resilience.retry.r.ignore-exceptions", "java.io.IOException"));
        registry.retry("r");
        ResilienceRegistry.ReloadResult result = registry.reload(Map.of("resilience.retry.r.ignore-exceptions",
                "java.io.IOException, java.lang.IllegalArgumentException"));
        assertEquals(List.of("resilience.retry.r.ignore-exceptions"), result.needsRestart());
        assertEquals(List.of(), registry.reload(Map.of("resilience.retry.r.ignore-exceptions", " java.io.IOException ")).needsRestart());
    }
}
