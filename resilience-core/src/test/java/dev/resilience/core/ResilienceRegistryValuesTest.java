package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.context.internal.Checks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The value formats of the registry's keys, and the suggestions for typos. */
class ResilienceRegistryValuesTest {

    private static String why(Runnable parse) {
        return assertThrows(IllegalArgumentException.class, parse::run).getMessage();
    }

    @Test
    void durations() {
        assertEquals(Duration.ofNanos(10), ConfigValues.duration("10ns"));
        assertEquals(Duration.ofNanos(100_000), ConfigValues.duration("100us"));
        assertEquals(Duration.ofNanos(100_000), ConfigValues.duration("100µs"));
        assertEquals(Duration.ofMillis(250), ConfigValues.duration("250ms"));
        assertEquals(Duration.ofSeconds(5), ConfigValues.duration("5s"));
        assertEquals(Duration.ofMillis(1500), ConfigValues.duration("1.5s"));
        assertEquals(Duration.ofMinutes(1), ConfigValues.duration("1m"));
        assertEquals(Duration.ofHours(2), ConfigValues.duration("2h"));
        assertEquals(Duration.ofDays(1), ConfigValues.duration("1d"));
        assertEquals(Duration.ofSeconds(5), ConfigValues.duration("PT5S"));
        assertEquals(Duration.ofMillis(1500), ConfigValues.duration("PT1.5S"));
        assertEquals(Duration.ZERO, ConfigValues.duration("0"));
        assertEquals(Duration.ofSeconds(-5), ConfigValues.duration("-5s"), "negative: the builder refuses it, naming the key");
        assertTrue(why(() -> ConfigValues.duration("5")).startsWith("not a duration"));
        assertTrue(why(() -> ConfigValues.duration("5 sec")).startsWith("unknown unit 'sec'"));
        assertTrue(why(() -> ConfigValues.duration("P5X")).contains("ISO-8601"));
    }

    @Test
    void durationsBeyondTheHorizonSaturateAndNeverWrap() {
        Duration horizon = Duration.ofNanos(Checks.MAX_NANOS);
        assertEquals(horizon, ConfigValues.duration("99999999999999999999s"));
        assertEquals(horizon, ConfigValues.duration("9223372036854775807d"));
        assertEquals(horizon, ConfigValues.duration("PT9223372036854775807S"));
        assertEquals(horizon.negated(), ConfigValues.duration("-99999999999999999999h"));
        assertTrue(why(() -> ConfigValues.duration("PT99999999999999999999S")).contains("ISO-8601"));
    }

    @Test
    void rates() {
        assertEquals(10.0, ConfigValues.rate("10"));
        assertEquals(0.5, ConfigValues.rate("0.5"));
        assertEquals(10.0, ConfigValues.rate("10/s"));
        assertEquals(10.0, ConfigValues.rate("600/m"));
        assertEquals(10.0, ConfigValues.rate("36000 / h"));
        assertEquals(1000.0, ConfigValues.rate("1e3"));
        assertEquals(Double.POSITIVE_INFINITY, ConfigValues.rate("unlimited"));
        assertEquals(-5.0, ConfigValues.rate("-5"), "negative: the builder refuses it");
        assertTrue(why(() -> ConfigValues.rate("10/d")).contains("use /s, /m or /h"));
        assertEquals("not a number", why(() -> ConfigValues.rate("Infinity")));
        assertEquals("not a number", why(() -> ConfigValues.rate("NaN")));
        assertEquals("not a number", why(() -> ConfigValues.rate("0x10")));
        assertEquals("not a number", why(() -> ConfigValues.rate("10d")));
        assertEquals("out of range: too large", why(() -> ConfigValues.rate("1e400")));
    }

    @Test
    void percentagesRatiosIntegersBooleansChoices() {
        assertEquals(50.0, ConfigValues.percent("50"));
        assertEquals(50.0, ConfigValues.percent("50%"));
        assertEquals(12.5, ConfigValues.percent("12.5 %"));
        assertEquals(0.2, ConfigValues.fraction("0.2"));
        assertEquals(0.2, ConfigValues.fraction("20%"), 1e-12);
        assertEquals(42, ConfigValues.integer("42"));
        assertEquals(-1, ConfigValues.integer("-1"));
        assertEquals(Integer.MAX_VALUE, ConfigValues.integer("2147483647"));
        assertTrue(why(() -> ConfigValues.integer("2147483648")).startsWith("out of range"));
        assertTrue(why(() -> ConfigValues.integer("99999999999999999999")).startsWith("out of range"));
        assertEquals("not a whole number", why(() -> ConfigValues.integer("1.5")));
        assertTrue(ConfigValues.bool("true"));
        assertTrue(ConfigValues.bool("TRUE"));
        assertFalse(ConfigValues.bool("false"));
        assertEquals("not a boolean: use true or false", why(() -> ConfigValues.bool("yes")));
        assertEquals("vegas", ConfigValues.choice("Vegas", List.of("aimd", "vegas")));
        assertEquals("must be one of aimd, vegas (did you mean vegas?)", why(() -> ConfigValues.choice("vgas", List.of("aimd", "vegas"))));
    }

    @Test
    void suggestionsAreForTyposOnly() {
        List<String> kinds = List.of("ratelimiter", "circuitbreaker", "bulkhead", "retry");
        assertEquals(" (did you mean circuitbreaker?)", ConfigValues.suggestion("circuit-breaker", kinds));
        assertEquals(" (did you mean retry?)", ConfigValues.suggestion("rety", kinds));
        assertEquals("", ConfigValues.suggestion("cache", kinds));
        assertEquals(3, ConfigValues.distance("kitten", "sitting"));
        assertEquals(0, ConfigValues.distance("", ""));
    }

    @Test
    void everyFormatThroughTheRegistry() {
        ResilienceRegistry registry = ResilienceRegistry.of(Map.of(
                "resilience.ratelimiter.a.rate", "600/m",
                "resilience.ratelimiter.b.rate", "unlimited",
                "resilience.ratelimiter.c.rate", "0.5",
                "resilience.timeout.t.timeout", "100us",
                "resilience.timeout.t.interrupt-on-timeout", "true",
                "resilience.circuitbreaker.c.failure-rate-threshold", "50%",
                "resilience.circuitbreaker.c.slow-call-rate-threshold", "80",
                "resilience.circuitbreaker.c.slow-call-duration", "PT2S",
                "resilience.circuitbreaker.c.time-window", "10s",
                "resilience.retry.r.budget-min-per-second", "60/m"));
        assertEquals(10.0, registry.rateLimiter("a").rate(), 1e-9);
        assertEquals(Double.POSITIVE_INFINITY, registry.rateLimiter("b").rate());
        assertEquals(0.5, registry.rateLimiter("c").rate(), 1e-9);
        assertEquals(Duration.ofNanos(100_000), registry.timeout("t").timeout());
        assertEquals("c", registry.circuitBreaker("c").name());
        assertEquals("r", registry.retry("r").name());
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ResilienceRegistry.of(Map.of(
                "resilience.circuitbreaker.c.failure-rate-threshold", "150%",
                "resilience.circuitbreaker.c.count-window", "10",
                "resilience.timeout.t.timeout", "1s",
                "resilience.timeout.t.interrupt-on-timeout", "yes")));
        assertEquals(2, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("failureRateThreshold must be a percentage in (0, 100]: 150.0"), e.getMessage());
    }
}
