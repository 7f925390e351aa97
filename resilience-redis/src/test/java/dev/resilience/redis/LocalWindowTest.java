package dev.resilience.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.ManualTicker;
import org.junit.jupiter.api.Test;

/** The quota's local fallback window on a manual clock, without Redis. */
class LocalWindowTest {

    private static final long SECOND = 1_000_000_000L;

    private static int granted(DistributedQuota.LocalWindow w, int tries) {
        int n = 0;
        for (int i = 0; i < tries; i++) {
            if (w.take(1, FallbackCause.TIMEOUT).granted()) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aTickerSetBackGrantsNothingTwice() {
        ManualTicker ticker = new ManualTicker(10 * SECOND); // windows counted from the first reading
        DistributedQuota.LocalWindow w = new DistributedQuota.LocalWindow(5, SECOND, ticker);
        assertEquals(5, granted(w, 6), "window [10 s, 11 s)");
        ticker.set(9 * SECOND + SECOND / 2); // back into the window before
        assertEquals(0, granted(w, 5), "the window it had reached is spent: going back grants nothing");
        assertFalse(w.isIdle(ticker.read()), "its used window lies ahead: the entry must not be dropped");
        Decision refused = w.take(1, FallbackCause.TIMEOUT);
        assertEquals(SECOND + SECOND / 2, refused.resetNanos(), "until the end of the window it had reached");
        ticker.set(10 * SECOND + SECOND / 10); // the same window again
        assertEquals(0, granted(w, 5), "5 per window, at most, over both readings of it");
        ticker.set(11 * SECOND);
        assertEquals(5, granted(w, 6), "the next window");
    }

    @Test
    void readingsThatWrapPastLongMaxValueMoveOnWindowByWindow() {
        ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - SECOND / 2);
        DistributedQuota.LocalWindow w = new DistributedQuota.LocalWindow(5, SECOND, ticker);
        assertEquals(5, granted(w, 6));
        Decision refused = w.take(1, FallbackCause.TIMEOUT);
        assertEquals(SECOND, refused.resetNanos(), "a whole window: the first reading starts it");
        for (int i = 1; i <= 4; i++) {
            ticker.advance(SECOND); // the first advance wraps the reading
            assertEquals(5, granted(w, 6), "window " + i + " after the first");
            Decision r = w.take(1, FallbackCause.TIMEOUT);
            assertTrue(r.resetNanos() > 0 && r.resetNanos() <= SECOND, r.toString());
            assertFalse(w.isIdle(ticker.read()));
        }
        ticker.advance(SECOND);
        assertTrue(w.isIdle(ticker.read()), "a window later, nothing used in it");
    }
}
