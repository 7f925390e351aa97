package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Attaching, restoring, and every misuse of scopes. */
class ScopeTest {

    private static final Context.Key<String> K = Context.Key.named("k");

    @AfterEach
    void nothingLeftAttached() {
        assertSame(Context.background(), Context.current(), "a test left a context attached");
    }

    @Test
    void attachMakesCurrentAndCloseRestores() {
        Context a = Context.background().withValue(K, "a");
        Context b = a.withValue(K, "b");
        try (Scope sa = a.attach()) {
            assertSame(a, Context.current());
            assertEquals("a", K.get());
            try (Scope sb = b.attach()) {
                assertSame(b, Context.current());
                assertEquals("b", K.get());
            }
            assertSame(a, Context.current());
        }
    }

    @Test
    void sameContextAttachedTwiceNestsCorrectly() {
        Context a = Context.background().withValue(K, "a");
        try (Scope s1 = a.attach()) {
            try (Scope s2 = a.attach()) {
                assertSame(a, Context.current());
            }
            assertSame(a, Context.current());
        }
    }

    @Test
    void theBackgroundAttachedInsideAScopeIsCurrentAndItsCloseRestoresTheOuterContext() {
        // the thread's slot holds null for the background: attaching it, plainly or interruptibly,
        // inside another scope must still make it current and restore the outer context on close
        Context a = Context.background().withValue(K, "a");
        try (Scope sa = a.attach()) {
            try (Scope sb = Context.background().attach()) {
                assertSame(Context.background(), Context.current());
                assertEquals(null, K.get());
                try (Scope sc = a.attach()) {
                    assertSame(a, Context.current());
                }
                assertSame(Context.background(), Context.current());
            }
            assertSame(a, Context.current());
            try (Scope sb = Context.background().attachInterruptibly()) {
                assertSame(Context.background(), Context.current());
            }
            assertSame(a, Context.current());
            assertEquals("a", K.get());
        }
        assertSame(Context.background(), Context.current());
        assertFalse(Context.current().isDone());
    }

    @Test
    void anInterruptPendingBeforeAnInterruptibleScopeSurvivesItsClose() {
        // the thread's own interrupt (restored by code that caught InterruptedException) is not the
        // scope's to clear, even when the scope delivered one of its own on top
        CancelHandle h = Context.background().withCancel();
        Thread.currentThread().interrupt();
        try (Scope s = h.context().attachInterruptibly()) {
            h.cancel();
        }
        assertTrue(Thread.interrupted(), "the interrupt from before the scope is still pending (and cleared here)");
        // without one from before, the scope's own interrupt is cleared on close, as before
        CancelHandle h2 = Context.background().withCancel();
        try (Scope s = h2.context().attachInterruptibly()) {
            h2.cancel();
        }
        assertFalse(Thread.interrupted(), "the scope's own interrupt does not leak past its close");
    }

    @Test
    void closingTwiceIsHarmless() {
        Context a = Context.background().withValue(K, "a");
        Scope s = a.attach();
        s.close();
        s.close();
        assertSame(Context.background(), Context.current());
    }

    @Test
    void outOfOrderCloseIsReportedAndUnwindsInnerScopes() {
        Context a = Context.background().withValue(K, "a");
        Context b = a.withValue(K, "b");
        Scope sa = a.attach();
        Scope sb = b.attach();
        IllegalStateException e = assertThrows(IllegalStateException.class, sa::close);
        assertTrue(e.getMessage().contains("out of order"), e.getMessage());
        assertSame(Context.background(), Context.current(), "state restored to before the outer scope");
        IllegalStateException late = assertThrows(IllegalStateException.class, sb::close);
        assertTrue(late.getMessage().contains("unwound"), late.getMessage());
        assertSame(Context.background(), Context.current(), "a late close corrupts nothing");
        Context c = Context.background().withValue(K, "c");
        try (Scope sc = c.attach()) {
            assertSame(c, Context.current(), "attaching works normally afterwards");
        }
    }

    @Test
    void closingOnAnotherThreadIsReportedAndChangesNothing() throws Exception {
        Context a = Context.background().withValue(K, "a");
        Scope s = a.attach();
        try {
            CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
                try {
                    s.close();
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            assertTrue(other.get() instanceof IllegalStateException);
            assertSame(a, Context.current());
        } finally {
            s.close();
        }
    }

    @Test
    void attachedContextCannotCancelItsCreator() throws ExecutionException, InterruptedException {
        CancelHandle h = Context.background().withCancel();
        try (Scope s = h.attach()) {
            Context seen = Context.current();
            assertSame(h.context(), seen);
            for (var m : Context.class.getMethods()) {
                assertTrue(!m.getName().startsWith("cancel"), "Context exposes " + m);
            }
        }
        h.cancel();
        assertTrue(h.context().isDone());
    }

    @Test
    void theScopeOutsideAnOutOfOrderCloseStillClosesInOrder() {
        // the out-of-order close of the middle scope must leave the outer one innermost again: its
        // close then restores as an in-order close, and the unwound inner scope's late close is reported
        Context a = Context.background().withValue(K, "a");
        Context b = a.withValue(K, "b");
        Context c = b.withValue(K, "c");
        Scope sa = a.attach();
        Scope sb = b.attach();
        Scope sc = c.attach();
        IllegalStateException outOfOrder = assertThrows(IllegalStateException.class, sb::close);
        assertTrue(outOfOrder.getMessage().contains("1 scope(s)"), outOfOrder.getMessage());
        assertSame(a, Context.current(), "the context from before the middle scope");
        sa.close(); // in order now: no exception
        assertSame(Context.background(), Context.current());
        IllegalStateException late = assertThrows(IllegalStateException.class, sc::close);
        assertTrue(late.getMessage().contains("already been unwound"), late.getMessage());
        try (Scope again = a.attach(); Scope inner = b.attach()) {
            assertSame(b, Context.current(), "attaching works normally afterwards, nested too");
        }
        assertSame(Context.background(), Context.current());
    }

    @Test
    void aScopeUnwoundEarlierIsNotMistakenForANewerOneAtTheSameDepth() {
        Context.Key<String> k = Context.Key.named("k");
        Context c1 = Context.background().withValue(k, "1");
        Context c2 = Context.background().withValue(k, "2");
        Context c3 = Context.background().withValue(k, "3");
        Context c4 = Context.background().withValue(k, "4");
        Scope a = c1.attach();
        Scope b = c2.attach();
        assertThrows(IllegalStateException.class, a::close); // out of order: b is unwound
        Scope c = c3.attach();
        Scope d = c4.attach(); // at the depth b had
        IllegalStateException late = assertThrows(IllegalStateException.class, b::close,
                "b was unwound: its late close is reported");
        assertTrue(late.getMessage().contains("already been unwound"), late.getMessage());
        assertEquals("4", Context.current().get(k), "and changes nothing: c4 is still current");
        b.close(); // reported once; a second close is a no-op
        d.close();
        assertEquals("3", Context.current().get(k));
        c.close();
        assertSame(Context.background(), Context.current());
    }

    @Test
    void unwindingWithdrawsTheInterruptOfAnInnerInterruptibleScope() {
        CancelHandle inner = Context.background().withCancel();
        Scope a = Context.background().withValue(Context.Key.named("x"), "a").attach();
        Scope b = inner.context().attachInterruptibly();
        assertThrows(IllegalStateException.class, a::close); // unwinds b, which is never closed
        inner.cancel();
        assertFalse(Thread.interrupted(), "an unwound scope's context must not interrupt this thread later");
        assertThrows(IllegalStateException.class, b::close);
        assertSame(Context.background(), Context.current());
    }

    @Test
    void anInterruptibleScopeClosedOutOfOrderWithdrawsItsOwnInterrupt() {
        // The out-of-order path withdraws the closing scope's own registration, not only the inner ones'.
        CancelHandle outerHandle = Context.background().withCancel();
        Scope outer = outerHandle.context().attachInterruptibly();
        Scope inner = Context.background().withValue(K, "inner").attach();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("1 scope(s)"), e.getMessage());
        assertSame(Context.background(), Context.current());
        outerHandle.cancel();
        assertFalse(Thread.interrupted(), "a closed scope's context must not interrupt this thread later");
        // the level it held carries nothing of it: a plain scope there keeps the caller's own interrupt
        Scope plain = Context.background().withValue(K, "plain").attach();
        Thread.currentThread().interrupt();
        plain.close();
        assertTrue(Thread.interrupted(), "the caller's own interrupt survives a plain close");
        assertThrows(IllegalStateException.class, inner::close);
        assertSame(Context.background(), Context.current());
    }

    @Test
    void aPlainScopeAtTheDepthOfAnEarlierInterruptibleOneCarriesNoInterruptOfIt() {
        // A plain attach stores no interrupt registration: the level must already be empty, whether the
        // interruptible scope there was closed or unwound by an out-of-order close.
        CancelHandle first = Context.background().withCancel();
        Scope a = first.context().attachInterruptibly();
        a.close();
        Scope plain = Context.background().withValue(K, "plain").attach(); // the depth a had
        first.cancel();
        assertFalse(Thread.interrupted(), "a closed scope's context must not interrupt this thread");
        plain.close();

        CancelHandle second = Context.background().withCancel();
        Scope outer = Context.background().withValue(K, "outer").attach();
        Scope inner = second.context().attachInterruptibly();
        assertThrows(IllegalStateException.class, outer::close); // unwinds inner
        Scope again = Context.background().withValue(K, "again").attach(); // the depth outer had
        Scope deeper = Context.background().withValue(K, "deeper").attach(); // the depth inner had
        second.cancel();
        assertFalse(Thread.interrupted(), "an unwound scope's context must not interrupt this thread");
        deeper.close();
        assertEquals("again", Context.current().get(K));
        again.close();
        assertThrows(IllegalStateException.class, inner::close);
        assertSame(Context.background(), Context.current());

        CancelHandle fired = Context.background().withCancel();
        Scope delivered = fired.context().attachInterruptibly();
        fired.cancel(); // delivers its interrupt, which the close below clears
        delivered.close();
        assertFalse(Thread.interrupted());
        Scope later = Context.background().withValue(K, "later").attach(); // the depth delivered had
        Thread.currentThread().interrupt(); // the caller's own interrupt, not a scope's
        later.close();
        assertTrue(Thread.interrupted(), "a plain scope's close must not clear an interrupt no scope of it delivered");

        CancelHandle unwoundFired = Context.background().withCancel();
        Scope around = Context.background().withValue(K, "around").attach();
        Scope firedInside = unwoundFired.context().attachInterruptibly();
        unwoundFired.cancel(); // delivers its interrupt, which the unwinding below clears
        assertThrows(IllegalStateException.class, around::close); // unwinds firedInside
        assertFalse(Thread.interrupted());
        Scope atAround = Context.background().withValue(K, "at around").attach();
        Scope atInside = Context.background().withValue(K, "at inside").attach(); // the depth firedInside had
        Thread.currentThread().interrupt(); // the caller's own interrupt, not a scope's
        atInside.close();
        assertTrue(Thread.interrupted(), "a plain scope's close must not clear an interrupt an unwound scope delivered");
        atAround.close();
        assertThrows(IllegalStateException.class, firedInside::close);

        CancelHandle third = Context.background().withCancel();
        try (Scope s = third.context().attachInterruptibly()) { // the level is reused and still works
            third.cancel();
            assertTrue(Thread.interrupted(), "a live interruptible scope is interrupted when its context ends");
        }
    }
}
