package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.ManualTicker;
import dev.resilience.core.ConfigurationException.Problem;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Building named instances from keys: validation, defaults, behaviour, caching, pipelines. */
class ResilienceRegistryTest {

    @Test
    void configurationKeysAreTheKindsAndPropertiesItReads() {
        Map<String, List<String>> keys = ResilienceRegistry.configurationKeys();
        assertEquals(List.of("ratelimiter", "circuitbreaker", "throttle", "bulkhead", "adaptivelimiter", "retry", "timeout",
                "pipeline"), List.copyOf(keys.keySet()));
        for (Map.Entry<String, List<String>> kind : keys.entrySet()) {
            // An unknown property's problem lists the kind's properties: the same list.
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> ResilienceRegistry.of(Map.of("resilience." + kind.getKey() + ".x.zzzzzzzzzzzz", "1")));
            assertTrue(e.getMessage().contains("properties: " + String.join(", ", kind.getValue())), e.getMessage());
        }
        assertThrows(UnsupportedOperationException.class, () -> keys.put("x", List.of()));
    }

    private static final long MS = 1_000_000L;

    private final ManualTicker ticker = new ManualTicker();

    private ResilienceRegistry registry(Map<String, String> config) {
        return ResilienceRegistry.builder().ticker(ticker).properties(config).build();
    }

    private static List<String> keys(ConfigurationException e) {
        return e.problems().stream().map(Problem::key).toList();
    }

    private static Problem problem(ConfigurationException e, String key) {
        return e.problems().stream().filter(p -> p.key().equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no problem for " + key + " in " + e.problems()));
    }

    // ------------------------------------------------------------------ validation

    @Test
    void fiveDifferentMistakesAreReportedTogetherEachWithItsKey() {
        Map<String, String> config = Map.of(
                "resilience.circuitbreaker.payments.failure-rate-treshold", "50",   // typo
                "resilience.circuitbreaker.payments.open-duration", "5 seconds",    // bad duration
                "resilience.ratelimiter.api.rate", "-5",                            // negative rate
                "resilience.ratelimitr.search.rate", "10",                          // unknown kind
                "resilience.retry.payments.max-attempts", "3",
                "resilience.pipeline.checkout.policies", "retry:paymnts, circuitbreaker:payments"); // unknown name
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(config));
        assertEquals(List.of(
                "resilience.circuitbreaker.payments.failure-rate-treshold",
                "resilience.circuitbreaker.payments.open-duration",
                "resilience.pipeline.checkout.policies",
                "resilience.ratelimiter.api.rate",
                "resilience.ratelimitr.search.rate"), keys(e), e.getMessage());

        Problem typo = problem(e, "resilience.circuitbreaker.payments.failure-rate-treshold");
        assertEquals("50", typo.value());
        assertTrue(typo.message().contains("did you mean failure-rate-threshold?"), typo.message());
        Problem duration = problem(e, "resilience.circuitbreaker.payments.open-duration");
        assertEquals("5 seconds", duration.value());
        assertTrue(duration.message().contains("unknown unit 'seconds'"), duration.message());
        assertTrue(problem(e, "resilience.ratelimiter.api.rate").message().contains("must not be negative"),
                "the builder's own check");
        assertTrue(problem(e, "resilience.ratelimitr.search.rate").message().contains("did you mean ratelimiter?"));
        Problem pipeline = problem(e, "resilience.pipeline.checkout.policies");
        assertEquals("retry:paymnts, circuitbreaker:payments", pipeline.value());
        assertTrue(pipeline.message().contains("no retry named 'paymnts'") && pipeline.message().contains("did you mean payments?"),
                pipeline.message());
        assertEquals(5, e.problems().size());
        assertTrue(e.getMessage().startsWith("5 configuration problems:"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> e.problems().clear());
    }

    @Test
    void combinationsAndPipelinePoliciesAreValidatedToo() {
        Map<String, String> config = Map.of(
                "resilience.circuitbreaker.a.count-window", "10",
                "resilience.circuitbreaker.a.time-window", "10s",            // two windows
                "resilience.circuitbreaker.a.failure-rate-threshold", "50",
                "resilience.circuitbreaker.b.count-window", "10",            // a window without a threshold
                "resilience.retry.r.backoff-delay", "1s",                    // applies only to backoff=fixed
                "resilience.adaptivelimiter.s.max-limit", "10",
                "resilience.adaptivelimiter.s.min-limit", "20",              // min > max: the algorithm says so
                "resilience.pipeline.p.policies", "retry:r, retry:r, adaptivelimiter:s, hedge, ,timeout:default");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(config));
        List<String> messages = e.problems().stream().map(Problem::toString).toList();
        assertTrue(messages.contains("resilience.circuitbreaker.a.count-window=10: count-window and time-window exclude each other"),
                messages.toString());
        assertTrue(messages.contains("resilience.circuitbreaker.b.count-window=10: applies only with failure-rate-threshold"
                + " or slow-call-rate-threshold"), messages.toString());
        assertTrue(messages.contains("resilience.retry.r.backoff-delay=1s: applies only with backoff=fixed"
                + " (here backoff is exponential)"), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("resilience.adaptivelimiter.s=: settings that do not go together:"
                + " max must be at least min")), messages.toString());
        String policies = "resilience.pipeline.p.policies=retry:r, retry:r, adaptivelimiter:s, hedge, ,timeout:default: ";
        assertTrue(messages.contains(policies + "'retry:r': referenced twice"), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.startsWith(policies + "'hedge': unknown policy kind")), messages.toString());
        assertTrue(messages.contains(policies + "'': an empty entry"), messages.toString());
        assertTrue(messages.contains("resilience.timeout.default.timeout=: required"),
                "timeout:default has nothing to build from: " + messages);
        assertTrue(messages.stream().noneMatch(m -> m.startsWith(policies + "'adaptivelimiter:s'")),
                "an adaptive limiter is a pipeline policy like any other: " + messages);
        assertEquals(8, e.problems().size(), messages.toString());
    }

    @Test
    void hugeNumbersAreRefusedOrSaturateButNeverWrap() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.of(
                "resilience.bulkhead.b.max-concurrent", "99999999999",
                "resilience.ratelimiter.r.rate", "1e400",
                "resilience.ratelimiter.r2.rate", "2e9",
                "resilience.timeout.t.timeout", "PT99999999999999999999S")));
        assertEquals(List.of("resilience.bulkhead.b.max-concurrent", "resilience.ratelimiter.r.rate",
                "resilience.ratelimiter.r2.rate", "resilience.timeout.t.timeout"), keys(e));
        assertTrue(problem(e, "resilience.bulkhead.b.max-concurrent").message().contains("out of range"));
        assertTrue(problem(e, "resilience.ratelimiter.r2.rate").message().contains("at most 1e9"));

        ResilienceRegistry registry = registry(Map.of(
                "resilience.timeout.t.timeout", "99999999999999999999s",
                "resilience.circuitbreaker.c.open-duration", "99999999999999999999d"));
        Duration timeout = registry.timeout("t").timeout();
        assertFalse(timeout.isNegative());
        assertTrue(timeout.compareTo(Duration.ofDays(365 * 100)) > 0, timeout.toString());
        CircuitBreaker breaker = registry.circuitBreaker("c");
        for (int i = 0; i < 6; i++) {
            breaker.tryAcquire().onFailure(new IOException());
        }
        ticker.advance(Duration.ofDays(365 * 100));
        assertEquals(CircuitBreaker.State.OPEN, breaker.state(), "open for ~146 years, not a wrapped negative");
    }

    @Test
    void keysOutsideResilienceAreIgnored() {
        ResilienceRegistry registry = registry(Map.of(
                "java.home", "/usr/lib/jvm",
                "resilience4j.circuitbreaker.instances.x.failure-rate-threshold", "abc",
                "spring.application.name", "shop",
                "resilienceX", "?",
                "resilience.bulkhead.b.max-concurrent", "2"));
        assertEquals(2, registry.bulkhead("b").maxConcurrent());
    }

    @Test
    void malformedKeysUnderResilienceAreProblems() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.of(
                "resilience.ratelimiter.rate", "10",
                "resilience.bulkhead..max-concurrent", "1",
                "resilience.bulkhead.b.max-concurrent", "")));
        assertEquals(3, e.problems().size(), e.getMessage());
        assertEquals("no value", problem(e, "resilience.bulkhead.b.max-concurrent").message());
    }

    // ------------------------------------------------------------------ defaults, overrides, behaviour

    @Test
    void aLimiterWithBurstTwoGrantsTwoThenRefusesUntilItRefills() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.ratelimiter.default.rate", "1",
                "resilience.ratelimiter.default.burst", "5",
                "resilience.ratelimiter.api.burst", "2",
                "resilience.ratelimiter.api.max-wait", "0"));
        RateLimiter api = registry.rateLimiter("api");
        assertTrue(api.tryAcquire());
        assertTrue(api.tryAcquire());
        assertFalse(api.tryAcquire(), "burst 2 overrides the default 5");
        assertThrows(RequestNotPermittedException.class, () -> api.call(() -> "x"), "max-wait 0: no waiting");
        ticker.advance(999 * MS);
        assertFalse(api.tryAcquire());
        ticker.advance(1 * MS);
        assertTrue(api.tryAcquire(), "rate 1/s, inherited from the default");

        RateLimiter other = registry.rateLimiter("anything");
        assertEquals(5, other.burst(), "an unconfigured name gets the defaults");
        assertEquals(1.0, other.rate());
    }

    @Test
    void aBreakerOpensAfterTheConfiguredFailuresAndProbesAfterItsOpenDuration() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.circuitbreaker.default.open-duration", "10s",
                "resilience.circuitbreaker.payments.consecutive-failures", "3"));
        CircuitBreaker breaker = registry.circuitBreaker("payments");
        for (int i = 0; i < 2; i++) {
            breaker.tryAcquire().onFailure(new IOException());
        }
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        breaker.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, breaker.state(), "the third consecutive failure trips");
        assertFalse(breaker.tryAcquire().isPermitted());
        ticker.advance(Duration.ofSeconds(10));
        Permit probe = breaker.tryAcquire();
        assertTrue(probe.isPermitted(), "open-duration 10s from the default");
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        probe.onSuccess();
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state(), "max-requests 1: one success closes");
    }

    @Test
    void aRateWindowTripsAtItsThreshold() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.circuitbreaker.default.failure-rate-threshold", "50%",
                "resilience.circuitbreaker.default.count-window", "4",
                "resilience.circuitbreaker.default.consecutive-failures", "0"));
        CircuitBreaker breaker = registry.circuitBreaker("search");
        breaker.tryAcquire().onSuccess();
        breaker.tryAcquire().onFailure(new IOException());
        breaker.tryAcquire().onSuccess();
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state(), "3 calls: below minimum-calls (the window, 4)");
        breaker.tryAcquire().onFailure(new IOException());
        assertEquals(CircuitBreaker.State.OPEN, breaker.state(), "2 of 4 failed: 50 %");
    }

    @Test
    void aBulkheadAndAnAdaptiveLimiterAsConfigured() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.bulkhead.inventory.max-concurrent", "2",
                "resilience.adaptivelimiter.search.initial-limit", "8",
                "resilience.adaptivelimiter.search.min-limit", "2",
                "resilience.adaptivelimiter.search.backoff-ratio", "50%",
                "resilience.adaptivelimiter.vegas.algorithm", "VEGAS",
                "resilience.adaptivelimiter.vegas.initial-limit", "5",
                "resilience.adaptivelimiter.vegas.max-limit", "10"));
        Bulkhead bulkhead = registry.bulkhead("inventory");
        assertTrue(bulkhead.tryAcquire().isPermitted());
        assertTrue(bulkhead.tryAcquire().isPermitted());
        assertFalse(bulkhead.tryAcquire().isPermitted());

        AdaptiveLimiter aimd = registry.adaptiveLimiter("search");
        assertEquals(8, aimd.limit());
        aimd.tryAcquire().onFailure(new java.util.concurrent.TimeoutException());
        assertEquals(4, aimd.limit(), "AIMD backs off to 50 %");
        assertEquals(5, registry.adaptiveLimiter("vegas").limit());
        assertEquals(20, registry.adaptiveLimiter("unconfigured").limit(), "the registry's default initial limit");
    }

    @Test
    void anAdaptiveThrottleAsConfiguredAndInAPipeline() throws Exception {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.throttle.quotes.k", "2",
                "resilience.throttle.quotes.protection", "0",
                "resilience.throttle.quotes.window", "1s",
                "resilience.throttle.quotes.window-buckets", "10",
                "resilience.throttle.quotes.recovery-scaling", "false",
                "resilience.throttle.quotes.record-exceptions", "java.io.IOException",
                "resilience.retry.quotes.max-attempts", "2",
                "resilience.retry.quotes.backoff", "fixed",
                "resilience.retry.quotes.backoff-delay", "0"));
        AdaptiveThrottle t = registry.adaptiveThrottle("quotes");
        assertSame(t, registry.adaptiveThrottle("quotes"));
        assertEquals(Policy.Kind.CIRCUIT_BREAKER, t.kind());
        assertTrue(t.toString().contains("K 2.0, protection 0"), t.toString());
        t.tryAcquire().onFailure(new IllegalStateException("not recorded: an accept"));
        t.tryAcquire().onFailure(new java.io.IOException("recorded"));
        assertEquals(new AdaptiveThrottle.Stats(2, 1, 1, 0.0), t.stats());
        ticker.advance(2_000 * MS);
        assertEquals(0, t.stats().requests(), "a 1 s window");
        Pipeline<String> p = registry.pipeline("quotes");
        assertEquals(List.of(Policy.Kind.RETRY, Policy.Kind.CIRCUIT_BREAKER), p.kinds());
        assertEquals("ok", p.call(() -> "ok"));
        assertEquals(Set.of("quotes"), registry.configuredNames(AdaptiveThrottle.class));
        assertSame(t, registry.instances(AdaptiveThrottle.class).get("quotes"));

        ConfigurationException e = assertThrows(ConfigurationException.class, () -> registry(Map.of(
                "resilience.throttle.a.k", "0.5",
                "resilience.throttle.a.min-k", "3",
                "resilience.throttle.b.window-buckets", "0",
                "resilience.throttle.c.protection", "-1",
                "resilience.throttle.d.min-k", "1.8",
                "resilience.throttle.d.k", "1.2",
                "resilience.throttle.e.forced-pass-interval", "0",
                "resilience.throttle.f.recovery-time", "0",
                "resilience.throttle.g.recovery-scaling", "false",
                "resilience.throttle.g.recovery-time", "1s")));
        List<String> keys = e.problems().stream().map(ConfigurationException.Problem::key).toList();
        assertTrue(keys.containsAll(List.of("resilience.throttle.a.k", "resilience.throttle.b.window-buckets",
                "resilience.throttle.c.protection", "resilience.throttle.d", "resilience.throttle.e.forced-pass-interval",
                "resilience.throttle.f.recovery-time", "resilience.throttle.g.recovery-time")), e.getMessage());
        assertTrue(e.getMessage().contains("applies only with recovery-scaling=true (here recovery-scaling is false)"),
                e.getMessage());
    }

    @Test
    void aThrottlesRecoveryTimeAsConfigured() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.throttle.fast.window", "1s",
                "resilience.throttle.fast.window-buckets", "10",
                "resilience.throttle.fast.recovery-time", "100ms",
                "resilience.throttle.capped.window", "1s",
                "resilience.throttle.capped.window-buckets", "10",
                "resilience.throttle.off.recovery-scaling", "false"));
        assertTrue(registry.adaptiveThrottle("fast").toString().contains("recoveryTime PT0.1S"),
                registry.adaptiveThrottle("fast").toString());
        assertTrue(registry.adaptiveThrottle("capped").toString().contains("recoveryTime PT0.9S"),
                "the default 2 s, at most the 9 completed buckets: " + registry.adaptiveThrottle("capped"));
        assertTrue(registry.adaptiveThrottle("default").toString().contains("recoveryTime PT2S"),
                registry.adaptiveThrottle("default").toString());
        assertTrue(registry.adaptiveThrottle("off").toString().contains("recoveryTime off"),
                registry.adaptiveThrottle("off").toString());
    }

    @Test
    void aGradient2AdaptiveLimiterAsConfigured() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.adaptivelimiter.g.algorithm", "Gradient2",
                "resilience.adaptivelimiter.g.initial-limit", "10",
                "resilience.adaptivelimiter.g.min-limit", "2",
                "resilience.adaptivelimiter.g.smoothing", "50%",
                "resilience.adaptivelimiter.g.rtt-tolerance", "1",
                "resilience.adaptivelimiter.g.long-window", "100",
                "resilience.adaptivelimiter.g.queue-size", "2",
                "resilience.adaptivelimiter.d.algorithm", "gradient2"));
        AdaptiveLimiter g = registry.adaptiveLimiter("g");
        assertEquals(10, g.limit());
        assertTrue(g.toString().contains("Gradient2[2..200, smoothing 0.5, rttTolerance 1.0, longWindow 100, queueSize 2]"),
                g.toString());
        Permit[] permits = new Permit[10];
        for (int i = 0; i < permits.length; i++) {
            permits[i] = g.tryAcquire();
        }
        ticker.advance(10 * MS);
        permits[0].onSuccess();
        assertEquals(11, g.limit(), "a busy sample at a steady round trip adds smoothing x queue-size: 10 + 0.5 x 2");
        for (int i = 1; i < permits.length; i++) {
            permits[i].release();
        }
        assertTrue(registry.adaptiveLimiter("d").toString().contains(
                "Gradient2[1..200, smoothing 0.2, rttTolerance 1.5, longWindow 600, queueSize 4]"),
                "concurrency-limits' defaults, with the registry's limits: " + registry.adaptiveLimiter("d"));
    }

    @Test
    void vegasThresholdsAsConfiguredAndChecked() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.adaptivelimiter.v.algorithm", "vegas",
                "resilience.adaptivelimiter.v.alpha", "1",
                "resilience.adaptivelimiter.v.beta", "3",
                "resilience.adaptivelimiter.d.algorithm", "vegas"));
        assertTrue(registry.adaptiveLimiter("v").toString().contains("Vegas[1..200, alpha 1.0, beta 3.0]"),
                registry.adaptiveLimiter("v").toString());
        assertTrue(registry.adaptiveLimiter("d").toString().contains("Vegas[1..200]"), "defaults 3 and 6");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.of(
                "resilience.adaptivelimiter.a.alpha", "1",                         // aimd by default
                "resilience.adaptivelimiter.b.algorithm", "vegas",
                "resilience.adaptivelimiter.b.alpha", "0",
                "resilience.adaptivelimiter.c.algorithm", "vegas",
                "resilience.adaptivelimiter.c.beta", "-1",
                "resilience.adaptivelimiter.e.algorithm", "vegas",
                "resilience.adaptivelimiter.e.alpha", "7")));                     // above the default beta, 6
        List<String> messages = e.problems().stream().map(Problem::toString).toList();
        assertTrue(messages.contains("resilience.adaptivelimiter.a.alpha=1: applies only with algorithm=vegas"
                + " (here algorithm is aimd)"), messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.b.alpha").message().contains("alpha must be in [1, 1000]"),
                messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.c.beta").message().contains("beta must be in [1, 1000]"),
                messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("resilience.adaptivelimiter.e")
                && m.contains("beta must be at least alpha: alpha 7.0, beta 6.0")), messages.toString());
        assertEquals(4, e.problems().size(), messages.toString());
    }

    @Test
    void vegasSampleWindowAsConfiguredAndChecked() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.adaptivelimiter.v.algorithm", "vegas",
                "resilience.adaptivelimiter.v.sample-window", "10",
                "resilience.adaptivelimiter.one.algorithm", "vegas",
                "resilience.adaptivelimiter.one.sample-window", "1"));
        assertTrue(registry.adaptiveLimiter("v").toString().contains("Vegas[1..200, sample window 10]"),
                registry.adaptiveLimiter("v").toString());
        assertTrue(registry.adaptiveLimiter("one").toString().contains("Vegas[1..200]"),
                "1: each call's own round trip: " + registry.adaptiveLimiter("one"));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.of(
                "resilience.adaptivelimiter.z.algorithm", "vegas",
                "resilience.adaptivelimiter.z.sample-window", "0",
                "resilience.adaptivelimiter.g.algorithm", "gradient2",
                "resilience.adaptivelimiter.g.sample-window", "10",
                "resilience.adaptivelimiter.a.sample-window", "10",               // aimd by default
                "resilience.adaptivelimiter.big.algorithm", "vegas",
                "resilience.adaptivelimiter.big.sample-window", "100001")));
        List<String> messages = e.problems().stream().map(Problem::toString).toList();
        assertTrue(problem(e, "resilience.adaptivelimiter.z.sample-window").message()
                .contains("sampleWindow must be in [1, 100000]: 0"), messages.toString());
        assertTrue(messages.contains("resilience.adaptivelimiter.g.sample-window=10: applies only with algorithm=vegas"
                + " (here algorithm is gradient2)"), messages.toString());
        assertTrue(messages.contains("resilience.adaptivelimiter.a.sample-window=10: applies only with algorithm=vegas"
                + " (here algorithm is aimd)"), messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.big.sample-window").message()
                .contains("sampleWindow must be in [1, 100000]: 100001"), messages.toString());
        assertEquals(4, e.problems().size(), messages.toString());
    }

    @Test
    void gradient2PropertiesAreCheckedAndApplyOnlyToGradient2() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.ofEntries(
                Map.entry("resilience.adaptivelimiter.a.smoothing", "0.2"),          // the algorithm is aimd by default
                Map.entry("resilience.adaptivelimiter.v.algorithm", "vegas"),
                Map.entry("resilience.adaptivelimiter.v.queue-size", "4"),           // not with vegas
                Map.entry("resilience.adaptivelimiter.g.algorithm", "gradient2"),
                Map.entry("resilience.adaptivelimiter.g.smoothing", "0"),
                Map.entry("resilience.adaptivelimiter.g.rtt-tolerance", "0.5"),
                Map.entry("resilience.adaptivelimiter.g.long-window", "0"),
                Map.entry("resilience.adaptivelimiter.g.queue-size", "-1"),
                Map.entry("resilience.adaptivelimiter.h.algorithm", "gradient2"),
                Map.entry("resilience.adaptivelimiter.h.backoff-ratio", "0.5"),      // aimd's
                Map.entry("resilience.adaptivelimiter.t.algorithm", "gradient"))));
        List<String> messages = e.problems().stream().map(Problem::toString).toList();
        assertTrue(messages.contains("resilience.adaptivelimiter.a.smoothing=0.2: applies only with algorithm=gradient2"
                + " (here algorithm is aimd)"), messages.toString());
        assertTrue(messages.contains("resilience.adaptivelimiter.v.queue-size=4: applies only with algorithm=gradient2"
                + " (here algorithm is vegas)"), messages.toString());
        assertTrue(messages.contains("resilience.adaptivelimiter.h.backoff-ratio=0.5: applies only with algorithm=aimd"
                + " (here algorithm is gradient2)"), messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.g.smoothing").message().contains("smoothing must be in (0, 1]"),
                "the algorithm's own check: " + messages);
        assertTrue(problem(e, "resilience.adaptivelimiter.g.rtt-tolerance").message().contains("rttTolerance must be at least 1"),
                messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.g.long-window").message().contains("longWindow must be at least 1"),
                messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.g.queue-size").message().contains("queueSize must not be negative"),
                messages.toString());
        assertTrue(problem(e, "resilience.adaptivelimiter.t.algorithm").message().contains("did you mean gradient2?"),
                messages.toString());
        assertEquals(8, e.problems().size(), messages.toString());
    }

    @Test
    void aDefaultThatDoesNotApplyToAnInstancesChoiceIsNotInherited() throws Exception {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.retry.default.backoff-initial", "10ms",
                "resilience.retry.default.max-attempts", "4",
                "resilience.retry.fast.backoff", "fixed",
                "resilience.retry.fast.backoff-delay", "0"));
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(IOException.class, () -> registry.retry("fast").call(() -> {
            attempts.incrementAndGet();
            throw new IOException("down");
        }));
        assertEquals(4, attempts.get(), "max-attempts from the default; backoff-initial not inherited by a fixed backoff");
    }

    @Test
    void timeoutsAsConfigured() {
        ResilienceRegistry registry = registry(Map.of("resilience.timeout.default.timeout", "PT0.25S",
                "resilience.timeout.slow.timeout", "2m"));
        assertEquals(Duration.ofMillis(250), registry.timeout("short").timeout());
        assertEquals(Duration.ofMinutes(2), registry.timeout("slow").timeout());
    }

    @Test
    void aNameWhoseDefaultsLackARequiredPropertyCannotBeBuilt() {
        ResilienceRegistry registry = registry(Map.of());
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> registry.rateLimiter("api"));
        assertEquals(List.of(new Problem("resilience.ratelimiter.api.rate", "",
                "required: set it, or resilience.ratelimiter.default.rate for every ratelimiter")), e.problems());
        assertEquals("anything", registry.retry("anything").name(), "a retry needs no property");
        assertThrows(ConfigurationException.class, () -> registry.rateLimiter("api"), "still not cached");
    }

    // ------------------------------------------------------------------ caching

    @Test
    void eachNameIsOneInstance() {
        ResilienceRegistry registry = registry(Map.of("resilience.ratelimiter.default.rate", "10",
                "resilience.pipeline.a.policies", "ratelimiter"));
        assertSame(registry.rateLimiter("a"), registry.rateLimiter("a"));
        assertNotSame(registry.rateLimiter("a"), registry.rateLimiter("b"));
        assertSame(registry.retry("a"), registry.retry("a"));
        assertSame(registry.circuitBreaker("a"), registry.circuitBreaker("a"));
        assertSame(registry.pipeline("a"), registry.pipeline("a"));
        assertEquals("a", registry.rateLimiter("a").name());
    }

    @Test
    void concurrentFirstRequestsGetOneInstance() throws Exception {
        ResilienceRegistry registry = registry(Map.of("resilience.ratelimiter.default.rate", "10",
                "resilience.retry.p.max-attempts", "2"));
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Object> limiters = Collections.synchronizedList(new ArrayList<>());
        List<Object> pipelines = Collections.synchronizedList(new ArrayList<>());
        List<Thread> started = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    limiters.add(registry.rateLimiter("shared"));
                    pipelines.add(registry.pipeline("p"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            started.add(t);
        }
        start.countDown();
        for (Thread t : started) {
            t.join();
        }
        assertEquals(threads, limiters.size());
        Set<Object> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        distinct.addAll(limiters);
        assertEquals(1, distinct.size());
        distinct.clear();
        distinct.addAll(pipelines);
        assertEquals(1, distinct.size());
        assertSame(registry.rateLimiter("shared"), limiters.get(0));
    }

    @Test
    void propertiesWorkAsAMapDoesDefaultsIncluded() {
        Properties defaults = new Properties();
        defaults.setProperty("resilience.ratelimiter.default.rate", "600/m");
        Properties properties = new Properties(defaults);
        properties.setProperty("resilience.ratelimiter.api.burst", "3");
        properties.put("resilience.ratelimiter.ignored.rate", 5); // not a string: not a property
        ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(properties).build();
        RateLimiter api = registry.rateLimiter("api");
        assertEquals(10.0, api.rate(), 1e-9);
        assertEquals(3, api.burst());
        assertEquals(1, ResilienceRegistry.of(properties).rateLimiter("x").burst());
    }

    @Test
    void theBuilderTakesEachSettingOnce() {
        ResilienceRegistry.Builder b = ResilienceRegistry.builder().ticker(ticker).properties(Map.of());
        assertThrows(IllegalStateException.class, () -> b.ticker(ticker));
        assertThrows(IllegalStateException.class, () -> b.properties(new Properties()));
        assertThrows(NullPointerException.class, () -> ResilienceRegistry.builder().properties((Map<String, String>) null));
    }

    // ------------------------------------------------------------------ pipelines

    private static final Map<String, String> ORDERS = Map.of(
            "resilience.retry.p.max-attempts", "3",
            "resilience.retry.p.backoff", "fixed",
            "resilience.retry.p.backoff-delay", "0",
            "resilience.timeout.short.timeout", "300ms",
            "resilience.pipeline.each.policies", "retry:p, timeout:short",
            "resilience.pipeline.whole.policies", "timeout:short, retry:p");

    /** Each attempt takes 200 ms and fails. */
    private String slowFailure(AtomicInteger attempts) throws IOException {
        attempts.incrementAndGet();
        ticker.advance(200 * MS);
        throw new IOException("slow failure " + attempts.get());
    }

    @Test
    void aPipelineRunsItsPoliciesInTheConfiguredOrder() {
        ResilienceRegistry registry = registry(ORDERS);
        AtomicInteger each = new AtomicInteger();
        Pipeline<String> retryOutside = registry.pipeline("each");
        assertThrows(IOException.class, () -> retryOutside.call(() -> slowFailure(each)));
        assertEquals(3, each.get(), "retry outside the timeout: every attempt gets 300 ms");

        AtomicInteger whole = new AtomicInteger();
        Pipeline<String> timeoutOutside = registry.pipeline("whole");
        assertThrows(TimeoutExceededException.class, () -> timeoutOutside.call(() -> slowFailure(whole)));
        assertEquals(2, whole.get(), "timeout outside the retry: 300 ms for all attempts");
    }

    @Test
    void aPipelineUsesTheRegistrysOwnInstances() throws Exception {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.ratelimiter.default.rate", "1",
                "resilience.ratelimiter.default.max-wait", "0",
                "resilience.pipeline.api.policies", "ratelimiter:default"));
        assertTrue(registry.rateLimiter("default").tryAcquire(), "takes the only permit");
        Pipeline<String> api = registry.pipeline("api");
        assertThrows(RequestNotPermittedException.class, () -> api.call(() -> "x"), "the same limiter, now empty");
        ticker.advance(Duration.ofSeconds(1));
        assertEquals("x", api.call(() -> "x"));
    }

    @Test
    void withoutPoliciesAPipelineHoldsTheKindsConfiguredUnderItsNameInTheDefaultOrder() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.timeout.checkout.timeout", "1s",
                "resilience.bulkhead.checkout.max-concurrent", "4",
                "resilience.retry.checkout.max-attempts", "2",
                "resilience.adaptivelimiter.checkout.max-limit", "50"));
        assertEquals(List.of(Policy.Kind.RETRY, Policy.Kind.TIMEOUT, Policy.Kind.CONCURRENCY_LIMIT,
                Policy.Kind.CONCURRENCY_LIMIT), registry.pipeline("checkout").kinds(),
                "the bulkhead, then the adaptive limiter: both are concurrency limits");
        assertSame(registry.adaptiveLimiter("checkout").name(), registry.pipeline("checkout").policyNames().get(3));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> registry.pipeline("nothing"));
        assertEquals(List.of("resilience.pipeline.nothing.policies"), keys(e));
    }

    @Test
    void defaultPoliciesWithoutNamesMeanTheInstancesNamedLikeThePipeline() {
        ResilienceRegistry registry = registry(Map.of(
                "resilience.pipeline.default.policies", "timeout, retry",
                "resilience.timeout.default.timeout", "1s",
                "resilience.timeout.search.timeout", "2s"));
        Pipeline<Object> search = registry.pipeline("search");
        assertEquals(List.of(Policy.Kind.TIMEOUT, Policy.Kind.RETRY), search.kinds());
        assertSame(registry.timeout("search"), registry.timeout("search"));
        assertEquals(Duration.ofSeconds(2), registry.timeout("search").timeout());
    }
}
