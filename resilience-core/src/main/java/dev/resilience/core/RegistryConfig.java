package dev.resilience.core;

import dev.resilience.context.Ticker;
import dev.resilience.core.ConfigurationException.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A parsed and validated configuration of {@link ResilienceRegistry}: immutable, so a reload swaps
 * one for another. Holds, per kind and name, the settings given under
 * {@code resilience.<kind>.<name>.<property>}, and knows how to merge them with the kind's
 * {@code default} block and build an instance from them.
 */
final class RegistryConfig {

    static final String PREFIX = "resilience.";
    static final String DEFAULT = "default";
    /** The name of the throwaway builders that check single values. */
    private static final String CHECK = "config-check";

    /** The kinds of instance, by their key segment. */
    enum Kind {
        RATE_LIMITER("ratelimiter", Policy.Kind.RATE_LIMITER),
        CIRCUIT_BREAKER("circuitbreaker", Policy.Kind.CIRCUIT_BREAKER),
        THROTTLE("throttle", Policy.Kind.CIRCUIT_BREAKER),
        BULKHEAD("bulkhead", Policy.Kind.CONCURRENCY_LIMIT),
        ADAPTIVE_LIMITER("adaptivelimiter", Policy.Kind.CONCURRENCY_LIMIT),
        RETRY("retry", Policy.Kind.RETRY),
        TIMEOUT("timeout", Policy.Kind.TIMEOUT),
        PIPELINE("pipeline", null);

        final String key;
        /** The policy kind this kind builds, or null if it cannot be a pipeline policy. */
        final Policy.Kind stage;

        Kind(String key, Policy.Kind stage) {
            this.key = key;
            this.stage = stage;
        }

        static Kind of(String key) {
            for (Kind k : values()) {
                if (k.key.equals(key)) {
                    return k;
                }
            }
            return null;
        }

        static List<String> keys() {
            List<String> keys = new ArrayList<>();
            for (Kind k : values()) {
                keys.add(k.key);
            }
            return keys;
        }
    }

    /**
     * One parsed value.
     *
     * @param key the full key it was given under (a default's key when inherited)
     * @param raw the value as given, trimmed
     * @param value the parsed value
     */
    record Setting(String key, String raw, Object value) {
    }

    /**
     * A policy of a pipeline: the instance of {@code kind} named {@code name}. Its methods are written
     * out: a record's own are linked on first call through {@code ObjectMethods}' bootstrap, which an
     * application would pay for at startup.
     */
    record Ref(Kind kind, String name) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Ref r && r.kind == kind && r.name.equals(name);
        }

        @Override
        public int hashCode() {
            return 31 * kind.hashCode() + name.hashCode();
        }

        @Override
        public String toString() {
            return kind.key + ":" + name;
        }
    }

    /** A property's value format. */
    enum Format { DURATION, INT, NUMBER, RATE, PERCENT, FRACTION, BOOL, EXCEPTIONS, CHOICE, TEXT }

    /**
     * When a property applies, given the merged settings of an instance: if one of {@code anyOf} is
     * set (when given), and if {@code choice} has value {@code value}, {@code dflt} when unset (when given).
     */
    record Need(List<String> anyOf, String choice, String value, String dflt) {
        static final Need NOTHING = new Need(List.of(), null, null, null);

        /** Why the property does not apply with {@code s}, or null if it does. */
        String why(Map<String, Setting> s) {
            if (!anyOf.isEmpty()) {
                boolean found = false;
                for (String p : anyOf) {
                    found |= s.containsKey(p);
                }
                if (!found) {
                    return "applies only with " + String.join(" or ", anyOf);
                }
            }
            if (choice != null) {
                Setting v = s.get(choice);
                String actual = v == null ? dflt : String.valueOf(v.value()); // a choice's text, a flag's true or false
                if (!actual.equals(value)) {
                    return "applies only with " + choice + "=" + value + " (here " + choice + " is " + actual + ")";
                }
            }
            return null;
        }
    }

    /**
     * A property of a kind (a table of data, not of functions: this class is loaded at the start of
     * every application that configures a registry, where each lambda class costs time).
     *
     * @param format the value's format
     * @param choices the accepted values of a {@link Format#CHOICE}
     * @param excludes properties this one replaces: an instance setting it does not inherit them
     * @param needs the conditions under which this property applies, all of them
     */
    record Prop(Format format, List<String> choices, List<String> excludes, List<Need> needs) {
        Prop excluding(String... names) {
            return new Prop(format, choices, List.of(names), needs);
        }

        Prop needing(Need... conditions) {
            return new Prop(format, choices, excludes, List.of(conditions));
        }

        Object parse(String s) {
            switch (format) {
                case DURATION: return ConfigValues.duration(s);
                case INT: return ConfigValues.integer(s);
                case NUMBER: return ConfigValues.number(s);
                case RATE: return ConfigValues.rate(s);
                case PERCENT: return ConfigValues.percent(s);
                case FRACTION: return ConfigValues.fraction(s);
                case BOOL: return ConfigValues.bool(s);
                case EXCEPTIONS: return ConfigValues.exceptionClasses(s);
                case CHOICE: return ConfigValues.choice(s, choices);
                default: return s;
            }
        }

        /** Why this property does not apply with the merged settings {@code s}, or null if it does. */
        String why(Map<String, Setting> s) {
            for (Need n : needs) {
                String why = n.why(s);
                if (why != null) {
                    return why;
                }
            }
            return null;
        }
    }

    /** Thrown by an instance factory when a required property has no value. */
    private static final class MissingProperty extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String property;

        MissingProperty(String property) {
            super(property, null, false, false);
            this.property = property;
        }
    }

    // ------------------------------------------------------------------ the properties of each kind

    private static final Format DURATION = Format.DURATION;
    private static final Format INT = Format.INT;
    private static final Format NUMBER = Format.NUMBER;
    private static final Format RATE = Format.RATE;
    private static final Format PERCENT = Format.PERCENT;
    private static final Format FRACTION = Format.FRACTION;
    private static final Format BOOL = Format.BOOL;
    private static final Format EXCEPTIONS = Format.EXCEPTIONS;
    private static final Duration SECOND = Duration.ofSeconds(1);

    static final Map<Kind, Map<String, Prop>> PROPS = properties();

    private static Prop prop(Format format) {
        return new Prop(format, List.of(), List.of(), List.of());
    }

    private static Prop choice(String... choices) {
        return new Prop(Format.CHOICE, List.of(choices), List.of(), List.of());
    }

    private static Need needsAny(String... props) {
        return new Need(List.of(props), null, null, null);
    }

    private static Need needsChoice(String prop, String value, String dflt) {
        return new Need(List.of(), prop, value, dflt);
    }

    private static void atLeast(Object v, int min) {
        if ((Integer) v < min) {
            throw new IllegalArgumentException("must be at least " + min + ": " + v);
        }
    }

    private static Map<Kind, Map<String, Prop>> properties() {
        Map<Kind, Map<String, Prop>> all = new EnumMap<>(Kind.class);

        Map<String, Prop> rl = new LinkedHashMap<>();
        rl.put("rate", prop(RATE));
        rl.put("burst", prop(INT).excluding("warmup", "cold-factor"));
        rl.put("max-wait", prop(DURATION));
        rl.put("warmup", prop(DURATION).excluding("burst"));
        rl.put("cold-factor", prop(NUMBER).excluding("burst").needing(needsAny("warmup")));
        all.put(Kind.RATE_LIMITER, rl);

        Map<String, Prop> cb = new LinkedHashMap<>();
        Need threshold = needsAny("failure-rate-threshold", "slow-call-rate-threshold");
        Need window = needsAny("count-window", "time-window");
        cb.put("max-requests", prop(INT));
        cb.put("interval", prop(DURATION));
        cb.put("interval-bucket", prop(DURATION).needing(needsAny("interval")));
        cb.put("open-duration", prop(DURATION));
        cb.put("open-backoff-multiplier", prop(NUMBER).needing(needsAny("open-backoff-max")));
        cb.put("open-backoff-max", prop(DURATION).needing(needsAny("open-backoff-multiplier")));
        cb.put("half-open-timeout", prop(DURATION));
        cb.put("consecutive-failures", prop(INT));
        cb.put("failure-rate-threshold", prop(PERCENT).needing(window));
        cb.put("slow-call-rate-threshold", prop(PERCENT).needing(window, needsAny("slow-call-duration")));
        cb.put("slow-call-duration", prop(DURATION).needing(needsAny("slow-call-rate-threshold")));
        cb.put("minimum-calls", prop(INT).needing(threshold));
        cb.put("count-window", prop(INT).excluding("time-window", "time-window-bucket").needing(threshold));
        cb.put("time-window", prop(DURATION).excluding("count-window").needing(threshold));
        cb.put("time-window-bucket", prop(DURATION).excluding("count-window").needing(needsAny("time-window")));
        cb.put("ignore-exceptions", prop(EXCEPTIONS));
        cb.put("record-exceptions", prop(EXCEPTIONS));
        all.put(Kind.CIRCUIT_BREAKER, cb);

        Map<String, Prop> th = new LinkedHashMap<>();
        th.put("k", prop(NUMBER));
        th.put("min-k", prop(NUMBER));
        th.put("protection", prop(INT));
        th.put("window", prop(DURATION));
        th.put("window-buckets", prop(INT));
        th.put("forced-pass-interval", prop(DURATION));
        th.put("recovery-scaling", prop(BOOL));
        th.put("recovery-time", prop(DURATION).needing(needsChoice("recovery-scaling", "true", "true")));
        th.put("count-dropped-calls", prop(BOOL));
        th.put("ignore-exceptions", prop(EXCEPTIONS));
        th.put("record-exceptions", prop(EXCEPTIONS));
        all.put(Kind.THROTTLE, th);

        Map<String, Prop> bh = new LinkedHashMap<>();
        bh.put("max-concurrent", prop(INT));
        bh.put("max-wait", prop(DURATION));
        all.put(Kind.BULKHEAD, bh);

        Map<String, Prop> al = new LinkedHashMap<>();
        al.put("algorithm", choice("aimd", "vegas", "gradient2"));
        al.put("initial-limit", prop(INT));
        al.put("min-limit", prop(INT));
        al.put("max-limit", prop(INT));
        al.put("backoff-ratio", prop(FRACTION).needing(needsChoice("algorithm", "aimd", "aimd")));
        al.put("timeout", prop(DURATION).needing(needsChoice("algorithm", "aimd", "aimd")));
        Need gradient2 = needsChoice("algorithm", "gradient2", "aimd");
        al.put("smoothing", prop(FRACTION).needing(gradient2));
        al.put("rtt-tolerance", prop(NUMBER).needing(gradient2));
        al.put("long-window", prop(INT).needing(gradient2));
        al.put("queue-size", prop(INT).needing(gradient2));
        Need vegas = needsChoice("algorithm", "vegas", "aimd");
        al.put("alpha", prop(NUMBER).needing(vegas));
        al.put("beta", prop(NUMBER).needing(vegas));
        al.put("sample-window", prop(INT).needing(vegas));
        all.put(Kind.ADAPTIVE_LIMITER, al);

        Map<String, Prop> rt = new LinkedHashMap<>();
        Need exponential = needsChoice("backoff", "exponential", "exponential");
        rt.put("max-attempts", prop(INT));
        rt.put("backoff", choice("exponential", "fixed"));
        rt.put("backoff-delay", prop(DURATION).needing(needsChoice("backoff", "fixed", "exponential")));
        rt.put("backoff-initial", prop(DURATION).needing(exponential));
        rt.put("backoff-multiplier", prop(NUMBER).needing(exponential));
        rt.put("backoff-max", prop(DURATION).needing(exponential));
        rt.put("backoff-jitter", choice("none", "full", "equal", "decorrelated").needing(exponential));
        rt.put("max-delay", prop(DURATION));
        rt.put("budget-ratio", prop(FRACTION));
        rt.put("budget-min-per-second", prop(RATE));
        rt.put("budget-max-balance", prop(INT));
        rt.put("retry-exceptions", prop(EXCEPTIONS));
        rt.put("ignore-exceptions", prop(EXCEPTIONS));
        all.put(Kind.RETRY, rt);

        Map<String, Prop> to = new LinkedHashMap<>();
        to.put("timeout", prop(DURATION));
        to.put("interrupt-on-timeout", prop(BOOL));
        all.put(Kind.TIMEOUT, to);

        all.put(Kind.PIPELINE, Map.of("policies", prop(Format.TEXT)));

        for (Map.Entry<Kind, Map<String, Prop>> e : all.entrySet()) {
            e.setValue(Collections.unmodifiableMap(e.getValue()));
        }
        return Collections.unmodifiableMap(all);
    }

    /**
     * Asks the real builder whether it takes {@code v} for {@code property} of {@code kind} (throws if
     * not): one method, not a lambda per property, so a registry links less code at startup.
     */
    static void check(Kind kind, String property, Object v) {
        switch (kind.key + "." + property) {
            case "ratelimiter.rate" -> RateLimiter.builder(CHECK).rate((Double) v);
            case "ratelimiter.burst" -> RateLimiter.builder(CHECK).burst((Integer) v);
            case "ratelimiter.max-wait" -> RateLimiter.builder(CHECK).maxWait((Duration) v);
            case "ratelimiter.warmup" -> RateLimiter.builder(CHECK).warmup((Duration) v);
            case "ratelimiter.cold-factor" -> RateLimiter.builder(CHECK).warmup(SECOND, (Double) v);
            case "circuitbreaker.max-requests" -> CircuitBreaker.builder(CHECK).maxRequests((Integer) v);
            case "circuitbreaker.interval" -> CircuitBreaker.builder(CHECK).interval((Duration) v);
            case "circuitbreaker.interval-bucket" -> CircuitBreaker.builder(CHECK).interval((Duration) v, (Duration) v);
            case "circuitbreaker.open-duration" -> CircuitBreaker.builder(CHECK).openDuration((Duration) v);
            case "circuitbreaker.open-backoff-multiplier" -> CircuitBreaker.builder(CHECK).openBackoff((Double) v, SECOND);
            case "circuitbreaker.open-backoff-max" -> CircuitBreaker.builder(CHECK).openBackoff(1.0, (Duration) v);
            case "circuitbreaker.half-open-timeout" -> CircuitBreaker.builder(CHECK).halfOpenTimeout((Duration) v);
            case "circuitbreaker.consecutive-failures" -> atLeast(v, 0);
            case "circuitbreaker.failure-rate-threshold" -> CircuitBreaker.builder(CHECK).failureRateThreshold((Double) v, 1);
            case "circuitbreaker.slow-call-rate-threshold" -> CircuitBreaker.builder(CHECK).slowCallRateThreshold((Double) v, SECOND, 1);
            case "circuitbreaker.slow-call-duration" -> CircuitBreaker.builder(CHECK).slowCallRateThreshold(50, (Duration) v, 1);
            case "circuitbreaker.minimum-calls" -> CircuitBreaker.builder(CHECK).failureRateThreshold(50, (Integer) v);
            case "circuitbreaker.count-window" -> CircuitBreaker.builder(CHECK).countWindow((Integer) v);
            case "circuitbreaker.time-window" -> CircuitBreaker.builder(CHECK).timeWindow((Duration) v, (Duration) v);
            case "circuitbreaker.time-window-bucket" -> CircuitBreaker.builder(CHECK).timeWindow((Duration) v, (Duration) v);
            case "circuitbreaker.ignore-exceptions" -> { }
            case "circuitbreaker.record-exceptions" -> { }
            case "throttle.k" -> AdaptiveThrottle.builder(CHECK).k((Double) v);
            case "throttle.min-k" -> AdaptiveThrottle.builder(CHECK).lowerKWhileFailing((Double) v);
            case "throttle.protection" -> AdaptiveThrottle.builder(CHECK).protection((Integer) v);
            case "throttle.window" -> AdaptiveThrottle.builder(CHECK).window((Duration) v, 1);
            case "throttle.window-buckets" -> AdaptiveThrottle.builder(CHECK).window(Duration.ofDays(1), (Integer) v);
            case "throttle.forced-pass-interval" -> AdaptiveThrottle.builder(CHECK).forcedPassInterval((Duration) v);
            case "throttle.recovery-time" -> AdaptiveThrottle.builder(CHECK).recoveryTime((Duration) v);
            case "bulkhead.max-concurrent" -> Bulkhead.builder(CHECK).maxConcurrent((Integer) v);
            case "bulkhead.max-wait" -> Bulkhead.builder(CHECK).maxWait((Duration) v);
            case "adaptivelimiter.initial-limit" -> atLeast(v, 1);
            case "adaptivelimiter.min-limit" -> atLeast(v, 1);
            case "adaptivelimiter.max-limit" -> atLeast(v, 1);
            case "adaptivelimiter.backoff-ratio" -> LimitAlgorithm.aimd(1, 1, 1, (Double) v, SECOND);
            case "adaptivelimiter.timeout" -> LimitAlgorithm.aimd(1, 1, 1, 0.5, (Duration) v);
            case "adaptivelimiter.smoothing" -> LimitAlgorithm.gradient2(1, 1, 1, (Double) v, 1.5, 1, 0);
            case "adaptivelimiter.rtt-tolerance" -> LimitAlgorithm.gradient2(1, 1, 1, 0.2, (Double) v, 1, 0);
            case "adaptivelimiter.long-window" -> LimitAlgorithm.gradient2(1, 1, 1, 0.2, 1.5, (Integer) v, 0);
            case "adaptivelimiter.queue-size" -> LimitAlgorithm.gradient2(1, 1, 1, 0.2, 1.5, 1, (Integer) v);
            case "adaptivelimiter.alpha" -> LimitAlgorithm.vegas(1, 1, 1, (Double) v, 1000);
            case "adaptivelimiter.beta" -> LimitAlgorithm.vegas(1, 1, 1, 1, (Double) v);
            case "adaptivelimiter.sample-window" -> LimitAlgorithm.vegas(1, 1, 1, 3, 6, (Integer) v);
            case "retry.max-attempts" -> Retry.builder(CHECK).maxAttempts((Integer) v);
            case "retry.backoff-delay" -> Backoff.fixed((Duration) v);
            case "retry.backoff-initial" -> Backoff.exponential((Duration) v, 1.0, (Duration) v);
            case "retry.backoff-multiplier" -> Backoff.exponential(SECOND, (Double) v, SECOND);
            case "retry.backoff-max" -> Backoff.exponential((Duration) v, 1.0, (Duration) v);
            case "retry.max-delay" -> Retry.builder(CHECK).maxDelay((Duration) v);
            case "retry.budget-ratio" -> RetryBudget.of((Double) v, 0, 1);
            case "retry.budget-min-per-second" -> RetryBudget.of(0, (Double) v, 1);
            case "retry.budget-max-balance" -> RetryBudget.of(0, 0, (Integer) v);
            case "retry.retry-exceptions" -> { }
            case "retry.ignore-exceptions" -> { }
            case "timeout.timeout" -> Timeout.builder(CHECK).timeout((Duration) v);
            case "timeout.interrupt-on-timeout" -> { }
            default -> { } // choices and free text: their parser checked them
        }
    }

    // ------------------------------------------------------------------ parsing

    /** kind -> name -> property -> setting; immutable. */
    private final Map<Kind, Map<String, Map<String, Setting>>> blocks;

    private RegistryConfig(Map<Kind, Map<String, Map<String, Setting>>> blocks) {
        this.blocks = blocks;
    }

    /**
     * Parses {@code raw} (keys outside {@code resilience.} are ignored) and validates all of it,
     * building each configured instance on {@code ticker} (may be null) and dropping it.
     *
     * @throws ConfigurationException listing every problem found
     */
    static RegistryConfig parse(Map<String, String> raw, Ticker ticker) {
        List<Problem> problems = new ArrayList<>();
        Set<String> broken = new HashSet<>();
        Map<Kind, Map<String, Map<String, Setting>>> blocks = new EnumMap<>(Kind.class);
        Map<String, String> sorted = new TreeMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String k = e.getKey();
            if (k != null && k.startsWith(PREFIX)) {
                sorted.put(k, e.getValue() == null ? "" : e.getValue().trim());
            }
        }
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            String[] parts = key.substring(PREFIX.length()).split("\\.", -1);
            if (parts.length < 3 || Arrays.asList(parts).contains("")) {
                problems.add(new Problem(key, value, "not a key of the form resilience.<kind>.<name>.<property>"));
                continue;
            }
            Kind kind = Kind.of(parts[0]);
            if (kind == null) {
                problems.add(new Problem(key, value, "unknown kind '" + parts[0] + "'"
                        + ConfigValues.suggestion(parts[0], Kind.keys()) + "; kinds: " + String.join(", ", Kind.keys())));
                continue;
            }
            String name = String.join(".", Arrays.asList(parts).subList(1, parts.length - 1));
            String property = parts[parts.length - 1];
            // The name is configured even if this key is refused, so pipelines naming it do not add a problem.
            Map<String, Map<String, Setting>> names = blocks.get(kind);
            if (names == null) {
                names = new TreeMap<>();
                blocks.put(kind, names);
            }
            Map<String, Setting> block = names.get(name);
            if (block == null) {
                block = new TreeMap<>();
                names.put(name, block);
            }
            Prop prop = PROPS.get(kind).get(property);
            String why = null;
            Object parsed = null;
            if (prop == null) {
                String suggestion = ConfigValues.suggestion(property, PROPS.get(kind).keySet());
                why = "unknown property '" + property + "' of " + kind.key + (suggestion.isEmpty()
                        ? "; properties: " + String.join(", ", PROPS.get(kind).keySet()) : suggestion);
            } else if (value.isEmpty()) {
                why = "no value";
            } else {
                try {
                    parsed = prop.parse(value);
                    check(kind, property, parsed);
                } catch (RuntimeException ex) { // whatever a parser or a builder's check throws is this value's problem
                    why = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
                }
            }
            if (why != null) {
                problems.add(new Problem(key, value, why));
                broken.add(kind.key + "." + name);
                continue;
            }
            block.put(property, new Setting(key, value, parsed));
        }
        for (Map.Entry<Kind, Map<String, Map<String, Setting>>> byKind : blocks.entrySet()) {
            Kind kind = byKind.getKey();
            for (Map.Entry<String, Map<String, Setting>> byName : byKind.getValue().entrySet()) {
                Map<String, Setting> settings = byName.getValue();
                for (Map.Entry<String, Setting> e : settings.entrySet()) {
                    String property = e.getKey();
                    for (String other : PROPS.get(kind).get(property).excludes()) {
                        if (settings.containsKey(other) && property.compareTo(other) < 0) {
                            problems.add(new Problem(e.getValue().key(), e.getValue().raw(), property + " and " + other
                                    + " exclude each other"));
                            broken.add(kind.key + "." + byName.getKey());
                        }
                    }
                }
                byName.setValue(Collections.unmodifiableMap(settings));
            }
            byKind.setValue(Collections.unmodifiableMap(byKind.getValue()));
        }
        RegistryConfig config = new RegistryConfig(Collections.unmodifiableMap(blocks));
        config.validate(ticker, broken, problems);
        if (!problems.isEmpty()) {
            throw new ConfigurationException(sortedUnique(problems));
        }
        return config;
    }

    private void validate(Ticker ticker, Set<String> broken, List<Problem> problems) {
        for (Kind kind : Kind.values()) {
            if (broken.contains(kind.key + "." + DEFAULT)) {
                continue; // its instances would only repeat the default's problems
            }
            for (String name : names(kind)) {
                if (broken.contains(kind.key + "." + name)) {
                    continue;
                }
                if (kind == Kind.PIPELINE) {
                    Setting policies = policies(name);
                    for (Ref ref : policies == null ? List.<Ref>of() : refs(name, policies, problems)) {
                        if (!name.equals(DEFAULT) && !broken.contains(ref.kind().key + "." + ref.name())
                                && !broken.contains(ref.kind().key + "." + DEFAULT)) {
                            tryBuild(ref.kind(), ref.name(), ticker, true, problems);
                        }
                    }
                } else {
                    tryBuild(kind, name, ticker, !name.equals(DEFAULT), problems);
                }
            }
        }
    }

    static List<Problem> sortedUnique(List<Problem> problems) {
        List<Problem> list = new ArrayList<>(new LinkedHashSet<>(problems));
        list.sort((a, b) -> a.key().compareTo(b.key())); // stable: a key's problems keep their order
        return List.copyOf(list);
    }

    // ------------------------------------------------------------------ lookups

    /** The names configured for {@code kind}, {@code default} among them if given. */
    Set<String> names(Kind kind) {
        return blocks.getOrDefault(kind, Map.of()).keySet();
    }

    private Map<String, Setting> block(Kind kind, String name) {
        return blocks.getOrDefault(kind, Map.of()).getOrDefault(name, Map.of());
    }

    static String prefix(Kind kind, String name) {
        return PREFIX + kind.key + "." + name;
    }

    /**
     * The settings of {@code kind}/{@code name}: its own, plus the default block's that it neither
     * sets nor excludes and that apply to it. Own settings that do not apply are problems.
     */
    Map<String, Setting> effective(Kind kind, String name, List<Problem> problems) {
        Map<String, Setting> own = block(kind, name);
        Map<String, Setting> merged = new TreeMap<>();
        if (!name.equals(DEFAULT)) {
            Set<String> hidden = new HashSet<>(own.keySet());
            for (String p : own.keySet()) {
                hidden.addAll(PROPS.get(kind).get(p).excludes());
            }
            for (Map.Entry<String, Setting> e : block(kind, DEFAULT).entrySet()) {
                if (!hidden.contains(e.getKey())) {
                    merged.put(e.getKey(), e.getValue());
                }
            }
        }
        merged.putAll(own);
        // An inherited default that does not apply here (say, an exponential backoff's initial delay
        // when this retry's backoff is fixed) is dropped; dropping one may make another inapplicable.
        boolean dropped = true;
        while (dropped) {
            dropped = false;
            for (java.util.Iterator<String> i = merged.keySet().iterator(); i.hasNext(); ) {
                String p = i.next();
                if (!own.containsKey(p) && PROPS.get(kind).get(p).why(merged) != null) {
                    i.remove();
                    dropped = true;
                }
            }
        }
        for (Map.Entry<String, Setting> e : own.entrySet()) {
            String why = PROPS.get(kind).get(e.getKey()).why(merged);
            if (why != null) {
                problems.add(new Problem(e.getValue().key(), e.getValue().raw(), why));
            }
        }
        return Collections.unmodifiableMap(merged);
    }

    /** The {@code policies} of pipeline {@code name}: its own, else the default block's, else null. */
    Setting policies(String name) {
        Setting own = block(Kind.PIPELINE, name).get("policies");
        return own != null ? own : block(Kind.PIPELINE, DEFAULT).get("policies");
    }

    /**
     * The policies of pipeline {@code name}, outermost first: as its {@code policies} say, or, when
     * neither it nor the default block has any, the kinds configured under the same name, in
     * {@link Pipeline#DEFAULT_ORDER}.
     *
     * @throws ConfigurationException if they cannot be resolved, or there are none
     */
    List<Ref> pipeline(String name) {
        Setting policies = policies(name);
        List<Problem> problems = new ArrayList<>();
        List<Ref> refs = new ArrayList<>();
        if (policies != null) {
            refs.addAll(refs(name, policies, problems));
        } else {
            for (Policy.Kind stage : Pipeline.DEFAULT_ORDER) {
                for (Kind kind : Kind.values()) {
                    if (kind.stage == stage && names(kind).contains(name)) {
                        refs.add(new Ref(kind, name));
                    }
                }
            }
            if (refs.isEmpty()) {
                problems.add(new Problem(prefix(Kind.PIPELINE, name) + ".policies", "",
                        "pipeline '" + name + "' has no policies: set this key, or configure a retry, circuitbreaker,"
                                + " throttle, ratelimiter, timeout, bulkhead or adaptivelimiter named '" + name + "'"));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(sortedUnique(problems));
        }
        return List.copyOf(refs);
    }

    /**
     * Parses a {@code policies} value: {@code kind:name} or {@code kind} (the pipeline's own name),
     * comma-separated, outermost first. Adds a problem for each entry it cannot take.
     */
    private List<Ref> refs(String pipeline, Setting policies, List<Problem> problems) {
        List<Ref> refs = new ArrayList<>();
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        for (String entry : policies.raw().split(",", -1)) {
            String item = entry.trim();
            int colon = item.indexOf(':');
            String kindKey = (colon < 0 ? item : item.substring(0, colon).trim()).toLowerCase(Locale.ROOT);
            String name = colon < 0 ? pipeline : item.substring(colon + 1).trim();
            Kind kind = Kind.of(kindKey);
            String why = null;
            if (item.isEmpty()) {
                why = "an empty entry";
            } else if (kind == null) {
                why = "unknown policy kind '" + kindKey + "'" + ConfigValues.suggestion(kindKey, Kind.keys())
                        + "; use retry, circuitbreaker, throttle, ratelimiter, timeout, bulkhead or adaptivelimiter";
            } else if (kind == Kind.PIPELINE) {
                why = "a pipeline cannot hold a pipeline";
            } else if (name.isEmpty()) {
                why = "no name after ':'";
            } else if (colon >= 0 && !name.equals(DEFAULT) && !names(kind).contains(name)) {
                Set<String> known = new HashSet<>(names(kind));
                known.add(DEFAULT);
                why = "no " + kind.key + " named '" + name + "' is configured (no " + prefix(kind, name) + ".* keys)"
                        + ConfigValues.suggestion(name, known);
            } else if (refs.contains(new Ref(kind, name))) {
                why = "referenced twice";
            } else if (!kinds.add(kind)) {
                why = "a second " + kind.key + ": a pipeline holds at most one policy of each kind";
            }
            if (why != null) {
                problems.add(new Problem(policies.key(), policies.raw(), "'" + item + "': " + why));
            } else {
                refs.add(new Ref(kind, name));
            }
        }
        return refs;
    }

    // ------------------------------------------------------------------ building

    /**
     * Builds {@code kind}/{@code name} (not a pipeline) from its effective settings.
     *
     * @throws ConfigurationException naming the keys at fault
     */
    Object build(Kind kind, String name, Ticker ticker) {
        List<Problem> problems = new ArrayList<>();
        Object instance = tryBuild(kind, name, ticker, true, problems);
        if (!problems.isEmpty()) {
            throw new ConfigurationException(sortedUnique(problems));
        }
        return instance;
    }

    /**
     * Builds {@code kind}/{@code name}, or adds why it cannot be built to {@code problems} and
     * returns null. A missing required property is a problem only if {@code complete}.
     */
    private Object tryBuild(Kind kind, String name, Ticker ticker, boolean complete, List<Problem> problems) {
        int before = problems.size();
        Map<String, Setting> s = effective(kind, name, problems);
        if (problems.size() > before) {
            return null;
        }
        try {
            return instance(kind, name, s, ticker);
        } catch (MissingProperty e) {
            if (complete) {
                problems.add(new Problem(prefix(kind, name) + "." + e.property, "", "required"
                        + (name.equals(DEFAULT) ? "" : ": set it, or " + prefix(kind, DEFAULT) + "." + e.property
                                + " for every " + kind.key)));
            }
        } catch (RuntimeException e) { // a builder's check, whatever it throws
            problems.add(new Problem(prefix(kind, name), "", "settings that do not go together: " + e.getMessage()));
        }
        return null;
    }

    private static Object instance(Kind kind, String name, Map<String, Setting> s, Ticker ticker) {
        switch (kind) {
            case RATE_LIMITER: {
                RateLimiter.Builder b = RateLimiter.builder(name).rate(required(s, "rate", Double.class));
                Integer burst = optional(s, "burst", Integer.class);
                if (burst != null) {
                    b.burst(burst);
                }
                Duration maxWait = optional(s, "max-wait", Duration.class);
                if (maxWait != null) {
                    b.maxWait(maxWait);
                }
                Duration warmup = optional(s, "warmup", Duration.class);
                Double coldFactor = optional(s, "cold-factor", Double.class);
                if (warmup != null && coldFactor == null) {
                    b.warmup(warmup);
                } else if (warmup != null) {
                    b.warmup(warmup, coldFactor);
                }
                return (ticker == null ? b : b.ticker(ticker)).build();
            }
            case CIRCUIT_BREAKER:
                return circuitBreaker(name, s, ticker);
            case BULKHEAD: {
                Bulkhead.Builder b = Bulkhead.builder(name).maxConcurrent(required(s, "max-concurrent", Integer.class));
                Duration maxWait = optional(s, "max-wait", Duration.class);
                if (maxWait != null) {
                    b.maxWait(maxWait);
                }
                return (ticker == null ? b : b.ticker(ticker)).build();
            }
            case ADAPTIVE_LIMITER: {
                int min = orElse(s, "min-limit", 1);
                int max = orElse(s, "max-limit", Math.max(200, min));
                int initial = orElse(s, "initial-limit", Math.max(min, Math.min(20, max)));
                String chosen = optional(s, "algorithm", String.class);
                LimitAlgorithm algorithm = "vegas".equals(chosen) ? LimitAlgorithm.vegas(initial, min, max,
                                orElse(s, "alpha", 3.0), orElse(s, "beta", 6.0), orElse(s, "sample-window", 1))
                        : "gradient2".equals(chosen) ? LimitAlgorithm.gradient2(initial, min, max,
                                orElse(s, "smoothing", 0.2), orElse(s, "rtt-tolerance", 1.5),
                                orElse(s, "long-window", 600), orElse(s, "queue-size", 4))
                        : LimitAlgorithm.aimd(initial, min, max, orElse(s, "backoff-ratio", 0.9),
                                orElse(s, "timeout", Duration.ofSeconds(5)));
                AdaptiveLimiter.Builder b = AdaptiveLimiter.builder(name).algorithm(algorithm);
                return (ticker == null ? b : b.ticker(ticker)).build();
            }
            case THROTTLE:
                return throttle(name, s, ticker);
            case RETRY:
                return retry(name, s, ticker);
            case TIMEOUT: {
                Timeout.Builder b = Timeout.builder(name).timeout(required(s, "timeout", Duration.class));
                if (orElse(s, "interrupt-on-timeout", false)) {
                    b.interruptOnTimeout();
                }
                return (ticker == null ? b : b.ticker(ticker)).build();
            }
            default:
                throw new IllegalStateException("not an instance kind: " + kind);
        }
    }

    /** {@code minimum-calls} when not set: Resilience4j's 100, at most a count window's size. */
    static int defaultMinimumCalls(Integer countWindow) {
        return countWindow == null ? 100 : Math.min(100, countWindow);
    }

    private static CircuitBreaker circuitBreaker(String name, Map<String, Setting> s, Ticker ticker) {
        CircuitBreaker.Builder b = CircuitBreaker.builder(name);
        Integer maxRequests = optional(s, "max-requests", Integer.class);
        if (maxRequests != null) {
            b.maxRequests(maxRequests);
        }
        Duration interval = optional(s, "interval", Duration.class);
        Duration intervalBucket = optional(s, "interval-bucket", Duration.class);
        if (interval != null && intervalBucket == null) {
            b.interval(interval);
        } else if (interval != null) {
            b.interval(interval, intervalBucket);
        }
        Duration openDuration = optional(s, "open-duration", Duration.class);
        if (openDuration != null) {
            b.openDuration(openDuration);
        }
        Double multiplier = optional(s, "open-backoff-multiplier", Double.class);
        if (multiplier != null) {
            b.openBackoff(multiplier, required(s, "open-backoff-max", Duration.class));
        }
        Duration halfOpenTimeout = optional(s, "half-open-timeout", Duration.class);
        if (halfOpenTimeout != null) {
            b.halfOpenTimeout(halfOpenTimeout);
        }
        Integer countWindow = optional(s, "count-window", Integer.class);
        int minimumCalls = orElse(s, "minimum-calls", defaultMinimumCalls(countWindow));
        Double failureRate = optional(s, "failure-rate-threshold", Double.class);
        if (failureRate != null) {
            b.failureRateThreshold(failureRate, minimumCalls);
        }
        Double slowRate = optional(s, "slow-call-rate-threshold", Double.class);
        Integer consecutive = optional(s, "consecutive-failures", Integer.class);
        if (consecutive != null) {
            b.consecutiveFailures(consecutive); // 0: none (beside a rate threshold, the rate alone trips)
        }
        if (slowRate != null) {
            b.slowCallRateThreshold(slowRate, required(s, "slow-call-duration", Duration.class), minimumCalls);
        }
        if (countWindow != null) {
            b.countWindow(countWindow);
        }
        Duration timeWindow = optional(s, "time-window", Duration.class);
        if (timeWindow != null) {
            b.timeWindow(timeWindow, orElse(s, "time-window-bucket", SECOND));
        }
        Predicate<Throwable> excluded = excluded(s);
        if (excluded != null) {
            b.isExcluded(excluded);
        }
        Predicate<Throwable> successful = successful(s);
        if (successful != null) {
            b.isSuccessful(successful);
        }
        return (ticker == null ? b : b.ticker(ticker)).build();
    }

    private static AdaptiveThrottle throttle(String name, Map<String, Setting> s, Ticker ticker) {
        AdaptiveThrottle.Builder b = AdaptiveThrottle.builder(name);
        Double k = optional(s, "k", Double.class);
        if (k != null) {
            b.k(k);
        }
        Double minK = optional(s, "min-k", Double.class);
        if (minK != null) {
            b.lowerKWhileFailing(minK);
        }
        Integer protection = optional(s, "protection", Integer.class);
        if (protection != null) {
            b.protection(protection);
        }
        Duration window = optional(s, "window", Duration.class);
        Integer buckets = optional(s, "window-buckets", Integer.class);
        if (window != null || buckets != null) {
            b.window(window != null ? window : Duration.ofSeconds(10), buckets != null ? buckets : 40);
        }
        Duration forced = optional(s, "forced-pass-interval", Duration.class);
        if (forced != null) {
            b.forcedPassInterval(forced);
        }
        b.recoveryScaling(orElse(s, "recovery-scaling", true));
        Duration recovery = optional(s, "recovery-time", Duration.class);
        if (recovery != null) {
            b.recoveryTime(recovery);
        }
        b.countDroppedCalls(orElse(s, "count-dropped-calls", true));
        Predicate<Throwable> excluded = excluded(s);
        if (excluded != null) {
            b.isExcluded(excluded);
        }
        Predicate<Throwable> successful = successful(s);
        if (successful != null) {
            b.isSuccessful(successful);
        }
        return (ticker == null ? b : b.ticker(ticker)).build();
    }

    /** A breaker's or throttle's exclusions: the defaults plus {@code ignore-exceptions}; null if not set. */
    private static Predicate<Throwable> excluded(Map<String, Setting> s) {
        List<Class<? extends Throwable>> ignored = exceptions(s, "ignore-exceptions");
        if (ignored == null) {
            return null;
        }
        Predicate<Throwable> defaults = CircuitBreaker.defaultExclusions();
        return e -> defaults.test(e) || ConfigValues.instanceOfAny(e, ignored);
    }

    /** A breaker's or throttle's successes: any exception outside {@code record-exceptions}; null if not set. */
    private static Predicate<Throwable> successful(Map<String, Setting> s) {
        List<Class<? extends Throwable>> recorded = exceptions(s, "record-exceptions");
        return recorded == null ? null : e -> !ConfigValues.instanceOfAny(e, recorded);
    }

    private static Retry retry(String name, Map<String, Setting> s, Ticker ticker) {
        Retry.Builder b = Retry.builder(name);
        Integer maxAttempts = optional(s, "max-attempts", Integer.class);
        if (maxAttempts != null) {
            b.maxAttempts(maxAttempts);
        }
        if ("fixed".equals(optional(s, "backoff", String.class))) {
            b.backoff(Backoff.fixed(required(s, "backoff-delay", Duration.class)));
        } else if (anyStartsWith(s, "backoff")) {
            // Retry.Builder's own default backoff, with what is set replaced.
            b.backoff(Backoff.exponential(orElse(s, "backoff-initial", Duration.ofMillis(100)),
                    orElse(s, "backoff-multiplier", 2.0), orElse(s, "backoff-max", Duration.ofSeconds(10)),
                    Backoff.Jitter.valueOf(orElse(s, "backoff-jitter", "full").toUpperCase(Locale.ROOT))));
        }
        Duration maxDelay = optional(s, "max-delay", Duration.class);
        if (maxDelay != null) {
            b.maxDelay(maxDelay);
        }
        List<Class<? extends Throwable>> only = exceptions(s, "retry-exceptions");
        List<Class<? extends Throwable>> never = exceptions(s, "ignore-exceptions");
        if (only != null || never != null) {
            b.retryOn(e -> Retry.DEFAULT_RETRY_ON.test(e)
                    && (only == null || ConfigValues.instanceOfAny(e, only))
                    && (never == null || !ConfigValues.instanceOfAny(e, never)));
        }
        if (anyStartsWith(s, "budget-")) {
            double ratio = orElse(s, "budget-ratio", 0.2);
            double minPerSecond = orElse(s, "budget-min-per-second", 10.0);
            int maxBalance = orElse(s, "budget-max-balance", 100);
            b.budget(ticker == null ? RetryBudget.of(ratio, minPerSecond, maxBalance)
                    : RetryBudget.of(ratio, minPerSecond, maxBalance, ticker));
        }
        return (ticker == null ? b : b.ticker(ticker)).build();
    }

    @SuppressWarnings("unchecked") // the EXCEPTIONS parser makes this list
    private static List<Class<? extends Throwable>> exceptions(Map<String, Setting> s, String property) {
        return (List<Class<? extends Throwable>>) optional(s, property, List.class);
    }

    private static <T> T optional(Map<String, Setting> s, String property, Class<T> type) {
        Setting setting = s.get(property);
        return setting == null ? null : type.cast(setting.value());
    }

    private static <T> T required(Map<String, Setting> s, String property, Class<T> type) {
        T value = optional(s, property, type);
        if (value == null) {
            throw new MissingProperty(property);
        }
        return value;
    }

    @SuppressWarnings("unchecked") // the default's type is the property's type
    private static <T> T orElse(Map<String, Setting> s, String property, T dflt) {
        T value = (T) optional(s, property, dflt.getClass());
        return value == null ? dflt : value;
    }

    private static boolean anyStartsWith(Map<String, Setting> s, String prefix) {
        for (String p : s.keySet()) {
            if (p.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
