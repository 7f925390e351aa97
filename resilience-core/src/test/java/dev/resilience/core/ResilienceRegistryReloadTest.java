package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.ManualTicker;
import dev.resilience.core.ConfigurationException.Problem;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Reloading: all or nothing, applied where the live instance can take it, reported where not. */
class ResilienceRegistryReloadTest {

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker();

    private static Map<String, String> with(Map<String, String> base, String... keysAndValues) {
        Map<String, String> map = new HashMap<>(base);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] == null) {
                map.remove(keysAndValues[i]);
            } else {
                map.put(keysAndValues[i], keysAndValues[i + 1]);
            }
        }
        return map;
    }

    private static final Map<String, String> BASE = Map.of(
            "resilience.ratelimiter.api.rate", "1",
            "resilience.ratelimiter.api.burst", "1",
            "resilience.circuitbreaker.payments.open-duration", "10s");

    @Test
    void aRateChangeReachesTheLiveLimiter() {
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(BASE).build();
        RateLimiter api = registry.rateLimiter("api");
        assertTrue(api.tryAcquire());
        ticker.advance(100 * MS);
        assertFalse(api.tryAcquire(), "1/s: nothing after 100 ms");

        ResilienceRegistry.ReloadResult result = registry.reload(with(BASE, "resilience.ratelimiter.api.rate", "10/s"));
        assertEquals(List.of("resilience.ratelimiter.api.rate"), result.applied());
        assertEquals(List.of(), result.needsRestart());
        assertSame(api, registry.rateLimiter("api"), "the same instance, changed");
        assertEquals(10.0, api.rate(), 1e-9);
        ticker.advance(100 * MS);
        assertTrue(api.tryAcquire(), "10/s: a permit every 100 ms");
        assertFalse(api.tryAcquire());
    }

    @Test
    void aBurstChangeFromTheDefaultsReachesEveryLimiterThatInheritsIt() {
        Map<String, String> config = Map.of("resilience.ratelimiter.default.rate", "1",
                "resilience.ratelimiter.default.burst", "1", "resilience.ratelimiter.own.burst", "1");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        RateLimiter inherits = registry.rateLimiter("inherits");
        RateLimiter own = registry.rateLimiter("own");
        ResilienceRegistry.ReloadResult result = registry.reload(with(config, "resilience.ratelimiter.default.burst", "3"));
        assertEquals(List.of("resilience.ratelimiter.inherits.burst"), result.applied(), "own sets its burst itself");
        assertEquals(3, inherits.burst());
        assertEquals(1, own.burst());
    }

    @Test
    void anInvalidReloadChangesNothingAndListsEveryProblem() {
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(BASE).build();
        RateLimiter api = registry.rateLimiter("api");
        Map<String, String> bad = with(BASE,
                "resilience.ratelimiter.api.rate", "20",                   // fine on its own
                "resilience.ratelimiter.api.burst", "-1",
                "resilience.circuitbreaker.payments.open-duration", "soon",
                "resilience.bulkhead.fresh.max-concurrent", "3",           // fine on its own
                "resilience.timeout.t.timout", "1s");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> registry.reload(bad));
        assertEquals(List.of("resilience.circuitbreaker.payments.open-duration", "resilience.ratelimiter.api.burst",
                "resilience.timeout.t.timout"), e.problems().stream().map(Problem::key).toList());
        assertEquals(1.0, api.rate(), 1e-9, "nothing applied");
        assertEquals(1, api.burst());
        assertThrows(ConfigurationException.class, () -> registry.bulkhead("fresh"), "nor any new name");
    }

    @Test
    void aBulkheadsSizeChangeReachesTheLiveBulkhead() throws Exception {
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker)
                .properties(with(BASE, "resilience.bulkhead.db.max-concurrent", "1")).build();
        Bulkhead db = registry.bulkhead("db");
        Permit first = db.tryAcquire();
        assertTrue(first.isPermitted());
        assertFalse(db.tryAcquire().isPermitted());
        ResilienceRegistry.ReloadResult result = registry.reload(with(BASE, "resilience.bulkhead.db.max-concurrent", "2"));
        assertEquals(List.of("resilience.bulkhead.db.max-concurrent"), result.applied());
        assertEquals(List.of(), result.needsRestart());
        Permit second = db.tryAcquire();
        assertTrue(second.isPermitted(), "the live bulkhead has two slots now");
        registry.reload(with(BASE, "resilience.bulkhead.db.max-concurrent", "1"));
        first.release();
        assertFalse(db.tryAcquire().isPermitted(), "one call still in flight fills the one slot left");
        second.release();
        Permit third = db.tryAcquire();
        assertTrue(third.isPermitted());
        third.release();
        assertEquals(0, db.inUse());
    }

    @Test
    void aChangeTheLiveInstanceCannotTakeIsReportedNotIgnored() {
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(BASE).build();
        RateLimiter api = registry.rateLimiter("api");
        CircuitBreaker payments = registry.circuitBreaker("payments");
        ResilienceRegistry.ReloadResult result = registry.reload(with(BASE,
                "resilience.ratelimiter.api.rate", "5",
                "resilience.ratelimiter.api.max-wait", "10ms",
                "resilience.circuitbreaker.payments.interval", "1m",
                "resilience.bulkhead.fresh.max-concurrent", "3"));
        assertEquals(List.of("resilience.ratelimiter.api.rate"), result.applied());
        assertEquals(List.of("resilience.circuitbreaker.payments.interval", "resilience.ratelimiter.api.max-wait"),
                result.needsRestart());
        assertEquals(5.0, api.rate(), 1e-9);
        assertEquals(3, registry.bulkhead("fresh").maxConcurrent(), "new names are available");

        for (int i = 0; i < 6; i++) {
            payments.tryAcquire().onFailure(new IOException());
        }
        ticker.advance(Duration.ofSeconds(10));
        assertTrue(payments.tryAcquire().isPermitted(), "the live breaker opened for its 10 s");

        ResilienceRegistry.ReloadResult again = registry.reload(with(BASE,
                "resilience.ratelimiter.api.rate", "5",
                "resilience.ratelimiter.api.max-wait", "10ms",
                "resilience.circuitbreaker.payments.interval", "1m",
                "resilience.bulkhead.fresh.max-concurrent", "3"));
        assertEquals(List.of(), again.applied());
        assertEquals(result.needsRestart(), again.needsRestart(), "still not applied, so still listed");

        ResilienceRegistry.ReloadResult back = registry.reload(with(BASE, "resilience.bulkhead.fresh.max-concurrent", "3"));
        assertEquals(List.of("resilience.ratelimiter.api.rate"), back.applied());
        assertEquals(List.of(), back.needsRestart(), "the configuration matches the live instances again");
        assertEquals(1.0, api.rate(), 1e-9);
    }

    @Test
    void aBreakersThresholdsOpenDurationAndProbesReachTheLiveBreaker() {
        Map<String, String> config = Map.of(
                "resilience.circuitbreaker.orders.failure-rate-threshold", "80",
                "resilience.circuitbreaker.orders.count-window", "10",
                "resilience.circuitbreaker.orders.minimum-calls", "4",
                "resilience.circuitbreaker.orders.open-duration", "1m");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        CircuitBreaker orders = registry.circuitBreaker("orders");
        for (int i = 0; i < 3; i++) {
            orders.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, orders.state(), "3 calls, under the minimum of 4");

        ResilienceRegistry.ReloadResult result = registry.reload(with(config,
                "resilience.circuitbreaker.orders.failure-rate-threshold", "50",
                "resilience.circuitbreaker.orders.minimum-calls", "2",
                "resilience.circuitbreaker.orders.open-duration", "1s",
                "resilience.circuitbreaker.orders.max-requests", "2"));
        assertEquals(List.of("resilience.circuitbreaker.orders.failure-rate-threshold",
                "resilience.circuitbreaker.orders.max-requests", "resilience.circuitbreaker.orders.minimum-calls",
                "resilience.circuitbreaker.orders.open-duration"), result.applied());
        assertEquals(List.of(), result.needsRestart());
        assertSame(orders, registry.circuitBreaker("orders"));

        Permit success = orders.tryAcquire();
        success.onSuccess();
        orders.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, orders.state(), "4 of 5 failed, over the new minimum and 50 %");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(CircuitBreaker.State.HALF_OPEN, orders.state(), "open for the new 1 s");
        Permit a = orders.tryAcquire();
        Permit b = orders.tryAcquire();
        assertTrue(a.isPermitted() && b.isPermitted(), "two probes");
        a.onSuccess();
        b.onSuccess();
        assertEquals(CircuitBreaker.State.CLOSED, orders.state());

        ResilienceRegistry.ReloadResult again = registry.reload(with(config,
                "resilience.circuitbreaker.orders.failure-rate-threshold", "50",
                "resilience.circuitbreaker.orders.minimum-calls", "2",
                "resilience.circuitbreaker.orders.open-duration", "1s",
                "resilience.circuitbreaker.orders.max-requests", "2"));
        assertEquals(List.of(), again.applied(), "nothing changed since");
        assertEquals(List.of(), again.needsRestart());
    }

    @Test
    void aBreakerSettingRemovedFallsBackToItsDefaultOrWaitsForARestart() {
        Map<String, String> config = Map.of(
                "resilience.circuitbreaker.orders.failure-rate-threshold", "50",
                "resilience.circuitbreaker.orders.count-window", "4",
                "resilience.circuitbreaker.orders.minimum-calls", "1",
                "resilience.circuitbreaker.orders.open-duration", "1s",
                "resilience.circuitbreaker.plain.open-duration", "1s");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        CircuitBreaker orders = registry.circuitBreaker("orders");
        CircuitBreaker plain = registry.circuitBreaker("plain");
        ResilienceRegistry.ReloadResult result = registry.reload(with(config,
                "resilience.circuitbreaker.orders.minimum-calls", null,            // back to the default: 4
                "resilience.circuitbreaker.orders.open-duration", null,            // back to 60 s
                "resilience.circuitbreaker.plain.failure-rate-threshold", "50",    // no window to judge it
                "resilience.circuitbreaker.plain.count-window", "10"));
        assertEquals(List.of("resilience.circuitbreaker.orders.minimum-calls",
                "resilience.circuitbreaker.orders.open-duration"), result.applied());
        assertEquals(List.of("resilience.circuitbreaker.plain.count-window",
                "resilience.circuitbreaker.plain.failure-rate-threshold"), result.needsRestart());
        for (int i = 0; i < 3; i++) {
            orders.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, orders.state(), "3 calls: the default minimum is the window's 4");
        orders.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, orders.state());
        ticker.advance(Duration.ofSeconds(59));
        assertEquals(CircuitBreaker.State.OPEN, orders.state(), "the default 60 s");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals(CircuitBreaker.State.HALF_OPEN, orders.state(), "the default 60 s, not longer");
        for (int i = 0; i < 5; i++) {
            plain.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, plain.state(), "still the live gobreaker default: more than 5 in a row");

        ResilienceRegistry.ReloadResult removed = registry.reload(with(config,
                "resilience.circuitbreaker.orders.minimum-calls", null,
                "resilience.circuitbreaker.orders.open-duration", null,
                "resilience.circuitbreaker.orders.failure-rate-threshold", null,  // and its window with it
                "resilience.circuitbreaker.orders.count-window", null,
                "resilience.circuitbreaker.orders.consecutive-failures", "3"));
        assertEquals(List.of(), removed.applied());
        assertEquals(List.of("resilience.circuitbreaker.orders.consecutive-failures",
                "resilience.circuitbreaker.orders.count-window", "resilience.circuitbreaker.orders.failure-rate-threshold"),
                removed.needsRestart(), "a threshold cannot be taken from a live breaker, nor its window, nor a trip"
                        + " predicate given; plain's changes were withdrawn, so it is not listed");
    }

    @Test
    void aRunOfFailuresChangesLiveAndFallsBackToItsDefaultWhenRemoved() {
        Map<String, String> config = Map.of(
                "resilience.circuitbreaker.plain.consecutive-failures", "2",
                "resilience.circuitbreaker.rated.failure-rate-threshold", "90",
                "resilience.circuitbreaker.rated.count-window", "20",
                "resilience.circuitbreaker.rated.minimum-calls", "10",
                "resilience.circuitbreaker.rated.consecutive-failures", "3");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        CircuitBreaker plain = registry.circuitBreaker("plain");
        CircuitBreaker rated = registry.circuitBreaker("rated");
        ResilienceRegistry.ReloadResult result = registry.reload(with(config,
                "resilience.circuitbreaker.plain.consecutive-failures", null,   // back to 6
                "resilience.circuitbreaker.rated.consecutive-failures", null)); // back to none: the rate alone
        assertEquals(List.of("resilience.circuitbreaker.plain.consecutive-failures",
                "resilience.circuitbreaker.rated.consecutive-failures"), result.applied());
        assertEquals(List.of(), result.needsRestart());
        for (int i = 0; i < 5; i++) {
            plain.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, plain.state(), "5 in a row: under the default 6");
        plain.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, plain.state());
        for (int i = 0; i < 9; i++) {
            rated.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, rated.state(), "9 in a row: no run trips it, and under 10 calls");
        rated.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, rated.state(), "10 of 10 failed: the rate");

        ResilienceRegistry.ReloadResult back = registry.reload(config);
        assertEquals(List.of("resilience.circuitbreaker.plain.consecutive-failures",
                "resilience.circuitbreaker.rated.consecutive-failures"), back.applied());
        plain.reset();
        for (int i = 0; i < 2; i++) {
            plain.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.OPEN, plain.state(), "2 in a row again");
        rated.reset();
        for (int i = 0; i < 3; i++) {
            rated.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.OPEN, rated.state(), "3 in a row again, under 10 calls");
    }

    @Test
    void aRunOfFailuresReplacedByARateTheBreakerCannotTakeStays() {
        Map<String, String> config = Map.of("resilience.circuitbreaker.orders.consecutive-failures", "3");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        CircuitBreaker orders = registry.circuitBreaker("orders");
        ResilienceRegistry.ReloadResult result = registry.reload(Map.of(
                "resilience.circuitbreaker.orders.failure-rate-threshold", "50",
                "resilience.circuitbreaker.orders.count-window", "10"));
        assertEquals(List.of(), result.applied(), "its run alone would be applied as none: a breaker that never trips");
        assertEquals(List.of("resilience.circuitbreaker.orders.consecutive-failures",
                "resilience.circuitbreaker.orders.count-window", "resilience.circuitbreaker.orders.failure-rate-threshold"),
                result.needsRestart());
        for (int i = 0; i < 3; i++) {
            orders.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.OPEN, orders.state(), "the live breaker keeps its run of 3");
    }

    @Test
    void aRateThresholdRemovedWhileTheOtherStaysIsTurnedOff() {
        Map<String, String> config = new HashMap<>();
        for (String name : List.of("a", "b")) {
            config.put("resilience.circuitbreaker." + name + ".failure-rate-threshold", "50");
            config.put("resilience.circuitbreaker." + name + ".slow-call-rate-threshold", "50");
            config.put("resilience.circuitbreaker." + name + ".slow-call-duration", "100ms");
            config.put("resilience.circuitbreaker." + name + ".count-window", "10");
            config.put("resilience.circuitbreaker." + name + ".minimum-calls", "4");
        }
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        CircuitBreaker a = registry.circuitBreaker("a");
        CircuitBreaker b = registry.circuitBreaker("b");
        ResilienceRegistry.ReloadResult result = registry.reload(with(config,
                "resilience.circuitbreaker.a.failure-rate-threshold", null,
                "resilience.circuitbreaker.b.slow-call-rate-threshold", null,
                "resilience.circuitbreaker.b.slow-call-duration", null));
        assertEquals(List.of("resilience.circuitbreaker.a.failure-rate-threshold",
                "resilience.circuitbreaker.b.slow-call-duration", "resilience.circuitbreaker.b.slow-call-rate-threshold"),
                result.applied());
        assertEquals(List.of(), result.needsRestart(), "each matches a breaker built from the new configuration");
        for (int i = 0; i < 4; i++) {
            a.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, a.state(), "4 of 4 failed: a's failure rate is off");
        for (int i = 0; i < 4; i++) {
            slowSuccess(a);
        }
        assertEquals(CircuitBreaker.State.OPEN, a.state(), "4 of 8 slow: its slow-call rate still trips");
        for (int i = 0; i < 4; i++) {
            slowSuccess(b);
        }
        assertEquals(CircuitBreaker.State.CLOSED, b.state(), "4 calls of 200 ms: none counts as slow now");
        for (int i = 0; i < 4; i++) {
            b.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.OPEN, b.state(), "4 of 8 failed: its failure rate still trips");

        ResilienceRegistry.ReloadResult both = registry.reload(with(config,
                "resilience.circuitbreaker.a.failure-rate-threshold", null,
                "resilience.circuitbreaker.a.slow-call-rate-threshold", null,
                "resilience.circuitbreaker.a.slow-call-duration", null,
                "resilience.circuitbreaker.a.minimum-calls", null,
                "resilience.circuitbreaker.a.count-window", null));
        assertTrue(both.needsRestart().contains("resilience.circuitbreaker.a.slow-call-rate-threshold"),
                "both gone: a new breaker trips on consecutive failures instead, which a live one cannot take: "
                        + both.needsRestart());
    }

    private void slowSuccess(CircuitBreaker breaker) {
        Permit p = breaker.tryAcquire();
        assertTrue(p.isPermitted());
        ticker.advance(Duration.ofMillis(200));
        p.onSuccess();
    }

    @Test
    void aMinimumOfCallsRemovedWithItsThresholdStaysAndItsDefaultComesFromTheLiveWindow() {
        Map<String, String> config = Map.of(
                "resilience.circuitbreaker.orders.failure-rate-threshold", "50",
                "resilience.circuitbreaker.orders.count-window", "4",
                "resilience.circuitbreaker.orders.minimum-calls", "1",
                "resilience.circuitbreaker.items.failure-rate-threshold", "50",
                "resilience.circuitbreaker.items.count-window", "20",
                "resilience.circuitbreaker.items.minimum-calls", "2");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        CircuitBreaker orders = registry.circuitBreaker("orders");
        CircuitBreaker items = registry.circuitBreaker("items");
        ResilienceRegistry.ReloadResult result = registry.reload(with(config,
                // orders: its rate trip replaced by a run of failures, which needs a restart
                "resilience.circuitbreaker.orders.failure-rate-threshold", null,
                "resilience.circuitbreaker.orders.count-window", null,
                "resilience.circuitbreaker.orders.minimum-calls", null,
                "resilience.circuitbreaker.orders.consecutive-failures", "3",
                // items: a larger window (a restart) and the minimum back to its default
                "resilience.circuitbreaker.items.count-window", "200",
                "resilience.circuitbreaker.items.minimum-calls", null));
        assertEquals(List.of("resilience.circuitbreaker.items.minimum-calls"), result.applied());
        assertEquals(List.of("resilience.circuitbreaker.items.count-window",
                "resilience.circuitbreaker.orders.consecutive-failures", "resilience.circuitbreaker.orders.count-window",
                "resilience.circuitbreaker.orders.failure-rate-threshold", "resilience.circuitbreaker.orders.minimum-calls"),
                result.needsRestart());
        orders.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, orders.state(),
                "the live breaker keeps the threshold and the minimum it trips by (a minimum of 100 would never"
                        + " be reached in a window of 4)");
        for (int i = 0; i < 19; i++) {
            items.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, items.state(), "19 calls: the default minimum is the live window's 20");
        items.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, items.state());
    }

    @Test
    void aReloadThatWouldLeaveALiveInstanceUnbuildableIsRefused() {
        Map<String, String> config = Map.of("resilience.ratelimiter.default.rate", "10");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        RateLimiter adHoc = registry.rateLimiter("ad-hoc");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> registry.reload(Map.of()));
        assertEquals(List.of("resilience.ratelimiter.ad-hoc.rate"), e.problems().stream().map(Problem::key).toList());
        assertEquals(10.0, adHoc.rate(), 1e-9);
    }

    @Test
    void aWarmUpLimiterCannotTakeARateChange() {
        Map<String, String> config = Map.of("resilience.ratelimiter.warm.rate", "10",
                "resilience.ratelimiter.warm.warmup", "5s");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        RateLimiter warm = registry.rateLimiter("warm");
        ResilienceRegistry.ReloadResult result = registry.reload(with(config, "resilience.ratelimiter.warm.rate", "20"));
        assertEquals(List.of(), result.applied());
        assertEquals(List.of("resilience.ratelimiter.warm.rate"), result.needsRestart());
        assertEquals(10.0, warm.rate(), 1e-9);
    }

    @Test
    void aPipelineWhosePoliciesChangeNeedsARestart() {
        Map<String, String> config = Map.of("resilience.retry.p.max-attempts", "2",
                "resilience.timeout.p.timeout", "1s", "resilience.pipeline.p.policies", "retry, timeout");
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(config).build();
        Pipeline<String> p = registry.pipeline("p");
        Properties next = new Properties();
        with(config, "resilience.pipeline.p.policies", "timeout, retry").forEach(next::setProperty);
        ResilienceRegistry.ReloadResult result = registry.reload(next);
        assertEquals(List.of("resilience.pipeline.p.policies"), result.needsRestart());
        assertSame(p, registry.pipeline("p"));
        assertEquals(List.of(Policy.Kind.RETRY, Policy.Kind.TIMEOUT), p.kinds(), "the live pipeline is unchanged");
    }
}
