package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** Selected failures become values; everything else passes unchanged. */
class FallbackTest {

    @Test
    void errorsPassThroughSyncAndAsyncAlikeAndAnInterruptLeavesItsFlag() throws Exception {
        Fallback<String> always = Fallback.<String>always().toValue("cached");
        StackOverflowError sync = new StackOverflowError("sync");
        assertSame(sync, assertThrows(StackOverflowError.class, () -> always.call(() -> {
            throw sync;
        })));
        StackOverflowError async = new StackOverflowError("async");
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> always.callAsync(() -> CompletableFuture.failedFuture(async)).toCompletableFuture().get());
        assertSame(async, e.getCause(), "an Error is not replaced asynchronously either");
        assertEquals("cached", always.call(() -> {
            throw new InterruptedException("the caller was interrupted");
        }));
        org.junit.jupiter.api.Assertions.assertTrue(Thread.interrupted(), "the interrupt flag is set again (and cleared here)");
    }

    @Test
    void selectsByTypeAndByPredicate() throws Exception {
        Fallback<String> byType = Fallback.<String>on(IOException.class, CallNotPermittedException.class)
                .to(e -> "fallback for " + e.getClass().getSimpleName());
        assertEquals("ok", byType.call(() -> "ok"));
        assertEquals("fallback for IOException", byType.call(() -> {
            throw new IOException();
        }));
        IllegalStateException other = new IllegalStateException();
        assertSame(other, assertThrows(IllegalStateException.class, () -> byType.call(() -> {
            throw other;
        })));
        Fallback<Integer> byPredicate = Fallback.<Integer>when(e -> e.getMessage() != null
                && e.getMessage().startsWith("503")).toValue(-1);
        assertEquals(-1, byPredicate.call(() -> {
            throw new IOException("503 unavailable");
        }));
        assertThrows(IOException.class, () -> byPredicate.call(() -> {
            throw new IOException("404");
        }));
    }

    @Test
    void asyncFallback() throws Exception {
        Fallback<String> f = Fallback.<String>always().toValue("cached");
        assertEquals("cached", f.callAsync(() -> CompletableFuture.failedFuture(new IOException()))
                .toCompletableFuture().get());
        assertEquals("live", f.callAsync(() -> CompletableFuture.completedFuture("live")).toCompletableFuture().get());
        Fallback<String> failing = Fallback.<String>always().to(e -> {
            throw new IllegalStateException("fallback broke");
        });
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> failing.callAsync(() -> CompletableFuture.failedFuture(new IOException())).toCompletableFuture().get());
        assertEquals("fallback broke", e.getCause().getMessage());
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> Fallback.on());
        assertThrows(IllegalArgumentException.class, () -> Fallback.on(String.class));
        assertThrows(NullPointerException.class, () -> Fallback.when(null));
        assertThrows(NullPointerException.class, () -> Fallback.always().to(null));
    }
}
