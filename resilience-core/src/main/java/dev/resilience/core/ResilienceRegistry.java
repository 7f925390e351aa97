package dev.resilience.core;

import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.core.ConfigurationException.Problem;
import dev.resilience.core.RegistryConfig.Kind;
import dev.resilience.core.RegistryConfig.Ref;
import dev.resilience.core.RegistryConfig.Setting;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Named {@link RateLimiter}s, {@link CircuitBreaker}s, {@link AdaptiveThrottle}s, {@link Bulkhead}s, {@link AdaptiveLimiter}s,
 * {@link Retry}s, {@link Timeout}s and {@link Pipeline}s built from flat configuration: a
 * {@code Map<String, String>} or {@link Properties}, such as a {@code .properties} file, system
 * properties or a framework's whole environment (keys outside {@code resilience.} are ignored).
 *
 * <pre>{@code
 * ResilienceRegistry registry = ResilienceRegistry.of(properties);   // validates everything, or throws
 * RateLimiter limiter = registry.rateLimiter("payments");            // built on first use, then cached
 * Pipeline<Receipt> pipeline = registry.pipeline("payments");
 * Receipt r = pipeline.call(() -> pay(order));
 * }</pre>
 *
 * <pre>
 * resilience.ratelimiter.default.burst=10
 * resilience.ratelimiter.payments.rate=50/s
 * resilience.circuitbreaker.payments.failure-rate-threshold=50%
 * resilience.circuitbreaker.payments.count-window=20
 * resilience.circuitbreaker.payments.open-duration=30s
 * resilience.retry.payments.max-attempts=3
 * resilience.retry.payments.backoff-initial=50ms
 * resilience.timeout.short.timeout=250ms
 * resilience.pipeline.payments.policies=retry:payments, circuitbreaker:payments, ratelimiter:payments, timeout:short
 * </pre>
 *
 * <p><b>Keys.</b> {@code resilience.<kind>.<name>.<property>}: {@code <kind>} is one of
 * {@code ratelimiter}, {@code circuitbreaker}, {@code throttle}, {@code bulkhead},
 * {@code adaptivelimiter}, {@code retry}, {@code timeout}, {@code pipeline}; {@code <name>} is the instance's name (it may
 * contain dots); properties are the builders' setters in lower kebab-case (as Spring's relaxed
 * binding writes them in YAML). The name {@code default} holds defaults for every instance of its
 * kind: an instance takes each default it does not set itself. A default that does not apply to an
 * instance's choices (an exponential backoff's {@code backoff-initial} for a retry with
 * {@code backoff=fixed}) is not inherited, nor are the alternatives an instance replaces
 * ({@code count-window} and {@code time-window}; {@code burst} and {@code warmup}); a property set on
 * an instance (or the default block) that does not apply there is a problem.
 *
 * <table class="striped">
 * <caption>Properties by kind</caption>
 * <thead><tr><th>Kind</th><th>Property</th><th>Builder</th><th>Default</th></tr></thead>
 * <tbody>
 * <tr><td rowspan="5">ratelimiter</td><td>{@code rate} (required; reloadable)</td><td>{@code rate}</td><td>-</td></tr>
 * <tr><td>{@code burst} (reloadable)</td><td>{@code burst}</td><td>1</td></tr>
 * <tr><td>{@code max-wait}</td><td>{@code maxWait}</td><td>only the context's deadline</td></tr>
 * <tr><td>{@code warmup} (replaces {@code burst})</td><td>{@code warmup}</td><td>none</td></tr>
 * <tr><td>{@code cold-factor} (with {@code warmup})</td><td>{@code warmup}</td><td>3</td></tr>
 * <tr><td rowspan="17">circuitbreaker</td><td>{@code consecutive-failures}: opens at this many in a row; 0 never</td>
 *     <td>{@code consecutiveFailures}</td><td>6 (more than 5); none when a rate threshold is set</td></tr>
 * <tr><td>{@code failure-rate-threshold} (percentage; needs a window)</td><td>{@code failureRateThreshold}</td><td>none</td></tr>
 * <tr><td>{@code slow-call-rate-threshold} (percentage; needs a window)</td><td>{@code slowCallRateThreshold}</td><td>none</td></tr>
 * <tr><td>{@code slow-call-duration} (with the slow-call threshold)</td><td>{@code slowCallRateThreshold}</td><td>-</td></tr>
 * <tr><td>{@code minimum-calls} (with a threshold)</td><td>both thresholds</td><td>100, at most {@code count-window}</td></tr>
 * <tr><td>{@code count-window} (calls)</td><td>{@code countWindow}</td><td>none</td></tr>
 * <tr><td>{@code time-window} (duration)</td><td>{@code timeWindow}</td><td>none</td></tr>
 * <tr><td>{@code time-window-bucket} (with {@code time-window})</td><td>{@code timeWindow}</td><td>1s</td></tr>
 * <tr><td>{@code open-duration}</td><td>{@code openDuration}</td><td>60s</td></tr>
 * <tr><td>{@code open-backoff-multiplier} (with {@code open-backoff-max})</td><td>{@code openBackoff}</td><td>none</td></tr>
 * <tr><td>{@code open-backoff-max} (with {@code open-backoff-multiplier})</td><td>{@code openBackoff}</td><td>none</td></tr>
 * <tr><td>{@code max-requests}: half-open probes, and successes that close</td><td>{@code maxRequests}</td><td>1</td></tr>
 * <tr><td>{@code half-open-timeout}</td><td>{@code halfOpenTimeout}</td><td>the open duration</td></tr>
 * <tr><td>{@code interval}</td><td>{@code interval}</td><td>0 (never clear counts)</td></tr>
 * <tr><td>{@code interval-bucket} (with {@code interval})</td><td>{@code interval}</td><td>none</td></tr>
 * <tr><td>{@code ignore-exceptions}: exception classes that count neither way</td><td>{@code isExcluded} (with the defaults)</td><td>none</td></tr>
 * <tr><td>{@code record-exceptions}: the only exception classes that are failures (others are successes)</td><td>{@code isSuccessful}</td><td>every exception</td></tr>
 * <tr><td rowspan="11">throttle ({@link AdaptiveThrottle})</td><td>{@code k}</td><td>{@code k}</td><td>1.5</td></tr>
 * <tr><td>{@code min-k}: lowers K towards it while recent buckets only fail</td><td>{@code lowerKWhileFailing}</td><td>off</td></tr>
 * <tr><td>{@code protection}</td><td>{@code protection}</td><td>5</td></tr>
 * <tr><td>{@code window}</td><td>{@code window}</td><td>10s</td></tr>
 * <tr><td>{@code window-buckets}</td><td>{@code window}</td><td>40</td></tr>
 * <tr><td>{@code forced-pass-interval}</td><td>{@code forcedPassInterval}</td><td>1s</td></tr>
 * <tr><td>{@code recovery-scaling}</td><td>{@code recoveryScaling}</td><td>true</td></tr>
 * <tr><td>{@code recovery-time}</td><td>{@code recoveryTime}</td><td>2s</td></tr>
 * <tr><td>{@code count-dropped-calls}</td><td>{@code countDroppedCalls}</td><td>true</td></tr>
 * <tr><td>{@code ignore-exceptions}: exception classes that count neither way</td><td>{@code isExcluded} (with the defaults)</td><td>none</td></tr>
 * <tr><td>{@code record-exceptions}: the only exception classes that are failures (others are accepts)</td><td>{@code isSuccessful}</td><td>every exception</td></tr>
 * <tr><td rowspan="2">bulkhead</td><td>{@code max-concurrent} (required; reloadable)</td><td>{@code maxConcurrent}</td><td>-</td></tr>
 * <tr><td>{@code max-wait}</td><td>{@code maxWait}</td><td>0</td></tr>
 * <tr><td rowspan="12">adaptivelimiter</td><td>{@code algorithm}: {@code aimd}, {@code vegas} or {@code gradient2}</td>
 *     <td>{@code LimitAlgorithm.aimd}/{@code vegas}/{@code gradient2}</td><td>aimd</td></tr>
 * <tr><td>{@code initial-limit}</td><td>all</td><td>20, within [min, max]</td></tr>
 * <tr><td>{@code min-limit}</td><td>all</td><td>1</td></tr>
 * <tr><td>{@code max-limit}</td><td>all</td><td>200</td></tr>
 * <tr><td>{@code backoff-ratio} (ratio or percentage; aimd)</td><td>{@code aimd}</td><td>0.9</td></tr>
 * <tr><td>{@code timeout} (aimd)</td><td>{@code aimd}</td><td>5s</td></tr>
 * <tr><td>{@code smoothing} (ratio or percentage; gradient2)</td><td>{@code gradient2}</td><td>0.2</td></tr>
 * <tr><td>{@code rtt-tolerance} (gradient2)</td><td>{@code gradient2}</td><td>1.5</td></tr>
 * <tr><td>{@code long-window} (samples; gradient2)</td><td>{@code gradient2}</td><td>600</td></tr>
 * <tr><td>{@code queue-size} (gradient2)</td><td>{@code gradient2}</td><td>4</td></tr>
 * <tr><td>{@code alpha}, {@code beta} (vegas; queue thresholds in multiples of log10(limit))</td><td>{@code vegas}</td><td>3, 6</td></tr>
 * <tr><td>{@code sample-window} (vegas; calls whose mean round trip decides a growth; a shrink takes one)</td><td>{@code vegas}</td><td>1</td></tr>
 * <tr><td rowspan="13">retry</td><td>{@code max-attempts} (the first included)</td><td>{@code maxAttempts}</td><td>3</td></tr>
 * <tr><td>{@code backoff}: {@code exponential} or {@code fixed}</td><td>{@code backoff}</td><td>exponential</td></tr>
 * <tr><td>{@code backoff-delay} (fixed; then required)</td><td>{@code Backoff.fixed}</td><td>-</td></tr>
 * <tr><td>{@code backoff-initial} (exponential)</td><td>{@code Backoff.exponential}</td><td>100ms</td></tr>
 * <tr><td>{@code backoff-multiplier} (exponential)</td><td>{@code Backoff.exponential}</td><td>2</td></tr>
 * <tr><td>{@code backoff-max} (exponential)</td><td>{@code Backoff.exponential}</td><td>10s</td></tr>
 * <tr><td>{@code backoff-jitter} (exponential): {@code none}, {@code full}, {@code equal}, {@code decorrelated}</td>
 *     <td>{@code Backoff.exponential}</td><td>full</td></tr>
 * <tr><td>{@code max-delay}</td><td>{@code maxDelay}</td><td>no limit</td></tr>
 * <tr><td>{@code budget-ratio} (ratio or percentage)</td><td>{@code budget(RetryBudget.of)}</td><td>0.2 (if any budget key is set)</td></tr>
 * <tr><td>{@code budget-min-per-second} (rate)</td><td>{@code budget(RetryBudget.of)}</td><td>10 (if any budget key is set)</td></tr>
 * <tr><td>{@code budget-max-balance}</td><td>{@code budget(RetryBudget.of)}</td><td>100 (if any budget key is set)</td></tr>
 * <tr><td>{@code retry-exceptions}: the only exception classes retried</td><td>{@code retryOn} (with the defaults)</td><td>every exception</td></tr>
 * <tr><td>{@code ignore-exceptions}: exception classes never retried</td><td>{@code retryOn} (with the defaults)</td><td>none</td></tr>
 * <tr><td rowspan="2">timeout</td><td>{@code timeout} (required)</td><td>{@code timeout}</td><td>-</td></tr>
 * <tr><td>{@code interrupt-on-timeout}</td><td>{@code interruptOnTimeout}</td><td>false</td></tr>
 * <tr><td>pipeline</td><td>{@code policies}</td><td>{@code Pipeline.Builder}</td><td>the kinds configured under the pipeline's name</td></tr>
 * </tbody>
 * </table>
 *
 * <p><b>Values.</b> Durations: {@code 10ns}, {@code 100us}, {@code 250ms}, {@code 5s}, {@code 1m},
 * {@code 2h}, {@code 1d} (decimals allowed: {@code 1.5s}), {@code 0}, or ISO-8601 such as
 * {@code PT5S}; a duration beyond the toolkit's horizon (2^62 ns, about 146 years) means the
 * horizon, as in every builder. Rates: permits per second ({@code 10}, {@code 0.5}), or
 * {@code 10/s}, {@code 600/m}, {@code 36000/h}, or {@code unlimited}. Percentages: {@code 50} or
 * {@code 50%}. Ratios: {@code 0.2} or {@code 20%}. Exception classes: fully qualified names separated
 * by commas, each a {@code Throwable} on the class path (loaded through the thread's context class
 * loader); a class covers its subclasses. Whole numbers must fit an {@code int}. Booleans:
 * {@code true} or {@code false}. Every value is checked by the builder that takes it, so the ranges
 * are the builders' own.
 *
 * <p><b>Pipelines.</b> {@code resilience.pipeline.<name>.policies} lists {@code kind:name} entries,
 * outermost first, e.g. {@code retry:payments, circuitbreaker:payments, ratelimiter:default,
 * timeout:short}; the members are this registry's own (cached) instances, and a name must be
 * configured (or be {@code default}). An entry without a name ({@code retry}) means the instance
 * named like the pipeline, configured or not, which lets {@code resilience.pipeline.default.policies}
 * give every pipeline the same shape. Without {@code policies} (its own or the default's), a
 * pipeline holds the kinds configured under its name, in {@link Pipeline#DEFAULT_ORDER}. Kinds:
 * {@code retry}, {@code circuitbreaker}, {@code throttle}, {@code ratelimiter}, {@code timeout},
 * {@code bulkhead}, {@code adaptivelimiter}, each at most once.
 *
 * <p><b>Validation.</b> {@link #of(Map)}, {@link #of(Properties)} and {@link Builder#build()}
 * validate the whole configuration at once: every key's kind and property (with a suggestion for a
 * typo), every value's format and range, that the settings of each configured instance go together
 * (by building it and dropping it), and every pipeline's policies. They throw one
 * {@link ConfigurationException} with every problem. A name that is not configured gets the
 * defaults; if those lack a required property, asking for it throws a
 * {@link ConfigurationException} naming the missing key.
 *
 * <p><b>Instances</b> are built on first request and cached: each name of each kind is one instance,
 * whichever thread asks first, and all later requests return it. No lock is held while a request
 * is served from the cache, except once by the first request for an instance built before a reload
 * that raced it: that request applies the reload's changes to it (as the reload does, under the
 * registry's reload lock, on the caller's thread; a breaker's state listeners may hear of it there).
 *
 * <p><b>Reload.</b> {@link #reload(Map)} validates the new configuration completely (including
 * that every instance built so far could be built from it) and either throws, changing nothing, or
 * makes it the configuration of instances built from then on (new names become available) and
 * applies to the live instances what they can take: a rate limiter's {@code rate} and
 * {@code burst} ({@link RateLimiter#setRate(double)}, {@link RateLimiter#setBurst(int)}; not with
 * warm-up), a bulkhead's {@code max-concurrent} ({@link Bulkhead#setMaxConcurrent(int)}) and a
 * circuit breaker's {@code failure-rate-threshold}, {@code slow-call-rate-threshold} with
 * {@code slow-call-duration}, {@code minimum-calls}, {@code consecutive-failures},
 * {@code open-duration} and {@code max-requests}
 * ({@link CircuitBreaker#setFailureRateThreshold(double)} and its siblings; a rate threshold only on a
 * breaker built with a rate window, the slow-call one only on a breaker built with it; one breaker's
 * changes applied in one step, so no failure is judged by some of them without the others).
 * Every other change of a live instance is listed in {@link ReloadResult#needsRestart()} and not
 * applied: that instance keeps its settings until the registry is built anew, and is
 * listed again by later reloads until the configuration matches it.
 */
public final class ResilienceRegistry {

    /**
     * What a {@link #reload(Map)} did to the instances built so far. Keys are instance keys
     * ({@code resilience.ratelimiter.payments.rate}), also when the value comes from a default.
     *
     * @param applied settings changed on a live instance
     * @param needsRestart settings that changed but that a live instance cannot take: it keeps its
     *     old value until the registry is built anew
     */
    public record ReloadResult(List<String> applied, List<String> needsRestart) {
        /**
         * A result; both lists are copied.
         *
         * @throws NullPointerException if either list is or holds null
         */
        public ReloadResult {
            applied = List.copyOf(applied);
            needsRestart = List.copyOf(needsRestart);
        }
    }

    /** A cached instance and the settings it runs with. */
    private static final class Entry {
        final Object instance;
        /** The settings the instance runs with (for a pipeline, its resolved policies). */
        volatile Map<String, Setting> actual;
        /** The configuration {@link #actual} was last compared with. */
        volatile RegistryConfig syncedTo;

        Entry(Object instance, Map<String, Setting> actual, RegistryConfig syncedTo) {
            this.instance = instance;
            this.actual = actual;
            this.syncedTo = syncedTo;
        }
    }

    /** Made on first use: looking up the logging backend is not free, and most runs never log here. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger(ResilienceRegistry.class.getName());
    }

    private final Ticker ticker;
    private final Consumer<Object> onCreated;
    private volatile RegistryConfig config;
    private final Map<Kind, ConcurrentHashMap<String, Entry>> caches = new EnumMap<>(Kind.class);
    /** Serialises reloads and the catching up of instances built during one; never held by a plain lookup. */
    private final ReentrantLock syncLock = new ReentrantLock();

    private ResilienceRegistry(Ticker ticker, Consumer<Object> onCreated, RegistryConfig config) {
        this.ticker = ticker;
        this.onCreated = onCreated;
        this.config = config;
        for (Kind kind : Kind.values()) {
            caches.put(kind, new ConcurrentHashMap<>());
        }
    }

    /**
     * A registry of {@code configuration}, validated completely, on the system ticker.
     *
     * @throws ConfigurationException listing every problem of the configuration
     * @throws NullPointerException if {@code configuration} is null
     */
    public static ResilienceRegistry of(Map<String, String> configuration) {
        return builder().properties(configuration).build();
    }

    /**
     * A registry of {@code configuration} (its string properties, defaults included), validated
     * completely, on the system ticker.
     *
     * @throws ConfigurationException listing every problem of the configuration
     * @throws NullPointerException if {@code configuration} is null
     */
    public static ResilienceRegistry of(Properties configuration) {
        return builder().properties(configuration).build();
    }

    /** Starts building a registry, to set its ticker. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The rate limiter {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built (a required property has no value)
     * @throws NullPointerException if {@code name} is null
     */
    public RateLimiter rateLimiter(String name) {
        return (RateLimiter) get(Kind.RATE_LIMITER, name);
    }

    /**
     * The circuit breaker {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public CircuitBreaker circuitBreaker(String name) {
        return (CircuitBreaker) get(Kind.CIRCUIT_BREAKER, name);
    }

    /**
     * The client-side throttle {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public AdaptiveThrottle adaptiveThrottle(String name) {
        return (AdaptiveThrottle) get(Kind.THROTTLE, name);
    }

    /**
     * The bulkhead {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built (a required property has no value)
     * @throws NullPointerException if {@code name} is null
     */
    public Bulkhead bulkhead(String name) {
        return (Bulkhead) get(Kind.BULKHEAD, name);
    }

    /**
     * The adaptive limiter {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public AdaptiveLimiter adaptiveLimiter(String name) {
        return (AdaptiveLimiter) get(Kind.ADAPTIVE_LIMITER, name);
    }

    /**
     * The retry {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public Retry retry(String name) {
        return (Retry) get(Kind.RETRY, name);
    }

    /**
     * The timeout {@code name}, built on first request.
     *
     * @throws ConfigurationException if it cannot be built (a required property has no value)
     * @throws NullPointerException if {@code name} is null
     */
    public Timeout timeout(String name) {
        return (Timeout) get(Kind.TIMEOUT, name);
    }

    /**
     * The pipeline {@code name}, built on first request from this registry's instances. A pipeline
     * holds no result-typed state (a registry's pipelines have no fallback), so one instance serves
     * every {@code T}.
     *
     * @param <T> the result type of the calls
     * @throws ConfigurationException if it has no policies, or one of them cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    @SuppressWarnings("unchecked") // no T-typed state: see above
    public <T> Pipeline<T> pipeline(String name) {
        return (Pipeline<T>) get(Kind.PIPELINE, name);
    }

    /**
     * The instances of {@code type} built so far, by name: {@code RateLimiter.class},
     * {@code CircuitBreaker.class}, {@code AdaptiveThrottle.class}, {@code Bulkhead.class}, {@code AdaptiveLimiter.class},
     * {@code Retry.class}, {@code Timeout.class} or {@code Pipeline.class}. A snapshot, sorted by name.
     *
     * @param <T> the type of instance
     * @throws IllegalArgumentException if {@code type} is not one of those
     * @throws NullPointerException if {@code type} is null
     */
    public <T> SortedMap<String, T> instances(Class<T> type) {
        ConcurrentHashMap<String, Entry> cache = caches.get(kindOf(type));
        TreeMap<String, T> out = new TreeMap<>();
        cache.forEach((name, e) -> out.put(name, type.cast(e.instance)));
        return Collections.unmodifiableSortedMap(out);
    }

    /**
     * The names the current configuration gives instances of {@code type} (see
     * {@link #instances(Class)}), without {@code default}; sorted. A name that is not configured can
     * still be asked for: it gets the defaults.
     *
     * @throws IllegalArgumentException if {@code type} is not a kind of instance of this registry
     * @throws NullPointerException if {@code type} is null
     */
    public SortedSet<String> configuredNames(Class<?> type) {
        TreeSet<String> names = new TreeSet<>(config.names(kindOf(type)));
        names.remove(RegistryConfig.DEFAULT);
        return Collections.unmodifiableSortedSet(names);
    }

    /**
     * What this registry reads: each kind's key segment ({@code ratelimiter}, {@code circuitbreaker},
     * ...) with the names of its properties, as in {@code resilience.<kind>.<name>.<property>}; in the
     * order the registry documents them. For a framework's binder that maps its own spellings of keys
     * (relaxed names, environment variables) onto the registry's.
     *
     * @return an unmodifiable map
     */
    public static Map<String, List<String>> configurationKeys() {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        for (Map.Entry<Kind, Map<String, RegistryConfig.Prop>> e : RegistryConfig.PROPS.entrySet()) {
            keys.put(e.getKey().key, List.copyOf(e.getValue().keySet()));
        }
        return Collections.unmodifiableMap(keys);
    }

    private static Kind kindOf(Class<?> type) {
        Objects.requireNonNull(type, "type");
        if (type == RateLimiter.class) {
            return Kind.RATE_LIMITER;
        } else if (type == CircuitBreaker.class) {
            return Kind.CIRCUIT_BREAKER;
        } else if (type == AdaptiveThrottle.class) {
            return Kind.THROTTLE;
        } else if (type == Bulkhead.class) {
            return Kind.BULKHEAD;
        } else if (type == AdaptiveLimiter.class) {
            return Kind.ADAPTIVE_LIMITER;
        } else if (type == Retry.class) {
            return Kind.RETRY;
        } else if (type == Timeout.class) {
            return Kind.TIMEOUT;
        } else if (type == Pipeline.class) {
            return Kind.PIPELINE;
        }
        throw new IllegalArgumentException("type must be RateLimiter, CircuitBreaker, AdaptiveThrottle, Bulkhead,"
                + " AdaptiveLimiter, Retry, Timeout or Pipeline: " + type.getName());
    }

    /**
     * Validates {@code configuration} completely and, if it has no problem, makes it this
     * registry's configuration and applies what the live instances can take; see the class comment.
     *
     * @return what was applied to live instances and what needs a restart
     * @throws ConfigurationException listing every problem; nothing was changed
     * @throws NullPointerException if {@code configuration} is null
     */
    public ReloadResult reload(Map<String, String> configuration) {
        RegistryConfig next = RegistryConfig.parse(new HashMap<>(configuration), ticker);
        List<String> applied = new ArrayList<>();
        List<String> needsRestart = new ArrayList<>();
        syncLock.lock();
        try {
            List<Problem> problems = new ArrayList<>();
            caches.forEach((kind, cache) -> cache.keySet().forEach(name -> {
                try {
                    buildable(next, kind, name);
                } catch (ConfigurationException e) {
                    problems.addAll(e.problems());
                }
            }));
            if (!problems.isEmpty()) {
                throw new ConfigurationException(RegistryConfig.sortedUnique(problems));
            }
            config = next;
            caches.forEach((kind, cache) -> cache.forEach((name, e) -> sync(kind, name, e, next, applied, needsRestart)));
        } finally {
            syncLock.unlock();
        }
        applied.sort(null);
        needsRestart.sort(null);
        return new ReloadResult(applied, needsRestart);
    }

    /**
     * Like {@link #reload(Map)}, with {@code configuration}'s string properties, defaults included.
     *
     * @return what was applied to live instances and what needs a restart
     * @throws ConfigurationException listing every problem; nothing was changed
     * @throws NullPointerException if {@code configuration} is null
     */
    public ReloadResult reload(Properties configuration) {
        return reload(toMap(configuration));
    }

    @Override
    public String toString() {
        StringJoiner built = new StringJoiner(", ", "ResilienceRegistry[", "]");
        caches.forEach((kind, cache) -> {
            if (!cache.isEmpty()) {
                built.add(kind.key + " " + new TreeSet<>(cache.keySet()));
            }
        });
        return built.toString();
    }

    // ------------------------------------------------------------------ the cache

    private Object get(Kind kind, String name) {
        Objects.requireNonNull(name, "name");
        ConcurrentHashMap<String, Entry> cache = caches.get(kind);
        Entry e = cache.get(name);
        if (e == null) {
            Entry[] made = new Entry[1];
            if (kind == Kind.PIPELINE) {
                // Members are looked up before, not inside, computeIfAbsent (which may not touch
                // another mapping's lock while holding its own); a pipeline built by a losing racer
                // is dropped, and its members are the cached ones anyway.
                RegistryConfig c = config;
                List<Ref> refs = c.pipeline(name);
                Entry fresh = new Entry(buildPipeline(name, refs), pipelineBasis(name, refs), c);
                e = cache.computeIfAbsent(name, n -> made[0] = fresh);
            } else {
                e = cache.computeIfAbsent(name, n -> {
                    RegistryConfig c = config;
                    return made[0] = new Entry(c.build(kind, n, ticker), c.effective(kind, n, new ArrayList<>()), c);
                });
            }
            if (made[0] == e && onCreated != null) {
                created(e.instance);
            }
        }
        if (e.syncedTo != config) {
            // Built from a configuration that a reload has replaced since: catch up as that reload would have.
            syncLock.lock();
            try {
                sync(kind, name, e, config, new ArrayList<>(), new ArrayList<>());
            } finally {
                syncLock.unlock();
            }
        }
        return e.instance;
    }

    /** Tells the {@link Builder#onCreated} callback; what it throws is logged, not passed on. */
    private void created(Object instance) {
        try {
            onCreated.accept(instance);
        } catch (Exception | LinkageError e) { // a checked one thrown past the signature too
            try {
                Log.LOG.log(System.Logger.Level.ERROR, "onCreated threw for " + instance + "; the instance is in use anyway", e);
            } catch (RuntimeException ignored) {
                // logging itself failed
            }
        }
    }

    /**
     * Builds the pipeline of {@code refs}, outermost first, from this registry's instances.
     */
    private Pipeline<Object> buildPipeline(String name, List<Ref> refs) {
        Pipeline.Builder<Object> b = Pipeline.builder(name);
        for (Ref ref : refs) {
            switch (ref.kind()) {
                case RETRY -> b.add(retry(ref.name()));
                case CIRCUIT_BREAKER -> b.add(circuitBreaker(ref.name()));
                case THROTTLE -> b.add(adaptiveThrottle(ref.name()));
                case RATE_LIMITER -> b.add(rateLimiter(ref.name()));
                case TIMEOUT -> b.add(timeout(ref.name()));
                case BULKHEAD -> b.add(bulkhead(ref.name()));
                case ADAPTIVE_LIMITER -> b.add(adaptiveLimiter(ref.name()));
                default -> throw new IllegalStateException("not a pipeline policy: " + ref);
            }
        }
        if (ticker != null) {
            b.ticker(ticker);
        }
        return b.build();
    }

    private static Map<String, Setting> pipelineBasis(String name, List<Ref> refs) {
        String key = RegistryConfig.prefix(Kind.PIPELINE, name) + ".policies";
        return Map.of("policies", new Setting(key, refs.toString(), refs));
    }

    /** Checks that {@code kind}/{@code name} could be built from {@code c}, members included. */
    private void buildable(RegistryConfig c, Kind kind, String name) {
        if (kind != Kind.PIPELINE) {
            c.build(kind, name, ticker);
            return;
        }
        List<Problem> problems = new ArrayList<>();
        for (Ref ref : c.pipeline(name)) {
            try {
                c.build(ref.kind(), ref.name(), ticker);
            } catch (ConfigurationException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(RegistryConfig.sortedUnique(problems));
        }
    }

    /**
     * Compares what live instance {@code e} runs with to what {@code c} says, applies the changes
     * it can take and lists the rest. Called under {@link #syncLock}.
     */
    private void sync(Kind kind, String name, Entry e, RegistryConfig c, List<String> applied, List<String> needsRestart) {
        if (e.syncedTo == c) {
            return;
        }
        Map<String, Setting> now = e.actual;
        Map<String, Setting> next = basis(c, kind, name);
        TreeSet<String> changed = new TreeSet<>(now.keySet());
        changed.addAll(next.keySet());
        changed.removeIf(p -> Objects.equals(value(now, p), value(next, p)));
        TreeSet<String> done = kind == Kind.RATE_LIMITER ? applyToRateLimiter((RateLimiter) e.instance, now, next, changed)
                : kind == Kind.BULKHEAD ? applyToBulkhead((Bulkhead) e.instance, next, changed)
                : kind == Kind.CIRCUIT_BREAKER ? applyToBreaker((CircuitBreaker) e.instance, now, next, changed)
                : new TreeSet<>();
        Map<String, Setting> actual = new TreeMap<>(next);
        String prefix = RegistryConfig.prefix(kind, name) + ".";
        for (String p : changed) {
            if (done.contains(p)) {
                applied.add(prefix + p);
            } else {
                needsRestart.add(prefix + p);
                if (now.containsKey(p)) {
                    actual.put(p, now.get(p));
                } else {
                    actual.remove(p);
                }
            }
        }
        e.actual = Map.copyOf(actual);
        e.syncedTo = c;
    }

    /** What {@code c} says {@code kind}/{@code name} should run with. */
    private static Map<String, Setting> basis(RegistryConfig c, Kind kind, String name) {
        if (kind != Kind.PIPELINE) {
            return c.effective(kind, name, new ArrayList<>());
        }
        try {
            return pipelineBasis(name, c.pipeline(name));
        } catch (ConfigurationException unresolvable) {
            return Map.of(); // only for a pipeline built during a reload that removed it: it keeps its policies
        }
    }

    private static Object value(Map<String, Setting> settings, String property) {
        Setting s = settings.get(property);
        return s == null ? null : s.value();
    }

    /** Applies changes of {@code rate} and {@code burst}; returns those applied. */
    private static TreeSet<String> applyToRateLimiter(RateLimiter limiter, Map<String, Setting> now,
            Map<String, Setting> next, TreeSet<String> changed) {
        TreeSet<String> done = new TreeSet<>();
        if (now.containsKey("warmup") || next.containsKey("warmup")) {
            return done; // a warm-up limiter takes neither setRate nor setBurst
        }
        Double rate = (Double) value(next, "rate");
        Integer burst = (Integer) value(next, "burst");
        int newBurst = burst == null ? 1 : burst; // the builder's default
        // Apply first whichever lowers burst x interval, so the limiter never sees a pair beyond
        // its horizon on the way (the final pair was validated).
        boolean burstFirst = newBurst < limiter.burst();
        for (int step = 0; step < 2; step++) {
            boolean doBurst = burstFirst == (step == 0);
            String p = doBurst ? "burst" : "rate";
            if (!changed.contains(p) || (!doBurst && rate == null)) {
                continue;
            }
            try {
                if (doBurst) {
                    limiter.setBurst(newBurst);
                } else {
                    limiter.setRate(rate);
                }
                done.add(p);
            } catch (IllegalArgumentException | IllegalStateException ex) {
                // Not taken: reported as needing a restart.
            }
        }
        return done;
    }

    /** Applies a change of {@code max-concurrent}; returns it if applied. */
    private static TreeSet<String> applyToBulkhead(Bulkhead bulkhead, Map<String, Setting> next, TreeSet<String> changed) {
        TreeSet<String> done = new TreeSet<>();
        Integer max = (Integer) value(next, "max-concurrent");
        if (changed.contains("max-concurrent") && max != null) {
            bulkhead.setMaxConcurrent(max);
            done.add("max-concurrent");
        }
        return done;
    }

    /**
     * Applies changes of a breaker's thresholds, open duration and half-open probes, all in one step
     * (no failure is judged by some of them without the others); returns those applied. A key
     * removed falls back to the builder's default where there is one ({@code max-requests} 1,
     * {@code open-duration} 60 s, {@code minimum-calls} 100 or the live breaker's count window if
     * smaller, {@code consecutive-failures} none beside a rate threshold, else 6). A rate threshold
     * removed while the other stays is turned off (no call counts as slow
     * once the slow-call one is). Not applied: both rate thresholds removed (and with them
     * {@code minimum-calls}, which then serves no live threshold), or a threshold the breaker was built
     * without the window or timing for.
     */
    private static TreeSet<String> applyToBreaker(CircuitBreaker breaker, Map<String, Setting> now,
            Map<String, Setting> next, TreeSet<String> changed) {
        TreeSet<String> done = new TreeSet<>();
        Integer maxRequests = null;
        if (changed.contains("max-requests")) {
            Integer max = (Integer) value(next, "max-requests");
            maxRequests = max == null ? CircuitBreaker.Builder.DEFAULT_MAX_REQUESTS : max;
            done.add("max-requests");
        }
        Duration openDuration = null;
        if (changed.contains("open-duration")) {
            Duration open = (Duration) value(next, "open-duration");
            openDuration = open == null ? CircuitBreaker.Builder.DEFAULT_OPEN_DURATION : open;
            done.add("open-duration");
        }
        Double failureRate = (Double) value(next, "failure-rate-threshold");
        Double slowRate = (Double) value(next, "slow-call-rate-threshold");
        Duration slowerThan = (Duration) value(next, "slow-call-duration");
        boolean failureKept = failureRate != null && breaker.hasRateWindow();
        boolean slowKept = slowRate != null && slowerThan != null && breaker.timesCalls();
        Double newFailureRate = null;
        if (changed.contains("failure-rate-threshold") && failureKept) {
            newFailureRate = failureRate;
            done.add("failure-rate-threshold");
        }
        Double newSlowRate = null;
        Duration newSlowerThan = null;
        if ((changed.contains("slow-call-rate-threshold") || changed.contains("slow-call-duration")) && slowKept) {
            newSlowRate = slowRate;
            newSlowerThan = slowerThan;
            for (String p : List.of("slow-call-rate-threshold", "slow-call-duration")) {
                if (changed.contains(p)) {
                    done.add(p);
                }
            }
        }
        // One threshold removed while the other stays: a breaker built from the new configuration has
        // the same window and trip rule with that threshold absent, which "off" matches (both removed:
        // it would trip on consecutive failures instead, which needs a restart).
        if (changed.contains("failure-rate-threshold") && failureRate == null && slowKept) { // slowKept: a window
            newFailureRate = CircuitBreaker.RATE_OFF;
            done.add("failure-rate-threshold");
        }
        if (changed.contains("slow-call-rate-threshold") && slowRate == null && failureKept && breaker.timesCalls()) {
            newSlowRate = CircuitBreaker.RATE_OFF;
            newSlowerThan = ChronoUnit.FOREVER.getDuration(); // capped: no call counts as slow any more
            done.add("slow-call-rate-threshold");
            if (changed.contains("slow-call-duration")) {
                done.add("slow-call-duration");
            }
        }
        Integer minimumCalls = null;
        if (changed.contains("minimum-calls") && (failureKept || slowKept)) { // both imply a rate window
            Integer min = (Integer) value(next, "minimum-calls");
            // the default from the live window: a new one needs a restart
            minimumCalls = min != null ? min : RegistryConfig.defaultMinimumCalls((Integer) value(now, "count-window"));
            done.add("minimum-calls");
        }
        // The run of failures that trips: applied only when the rate settings of the new configuration
        // were all taken (else the live breaker would trip by neither configuration's rules). Removed, it
        // falls back to what a fresh build does: none beside a rate threshold, else 6.
        Integer consecutive = null;
        boolean ratesTaken = List.of("failure-rate-threshold", "slow-call-rate-threshold", "slow-call-duration",
                "minimum-calls").stream().allMatch(p -> !changed.contains(p) || done.contains(p));
        if (changed.contains("consecutive-failures") && ratesTaken && !breaker.hasTripPredicate()) {
            Integer n = (Integer) value(next, "consecutive-failures");
            consecutive = n != null ? n
                    : CircuitBreaker.Builder.defaultConsecutiveFailures(failureRate != null || slowRate != null);
            done.add("consecutive-failures");
        }
        if (done.isEmpty()) {
            return done;
        }
        try {
            breaker.retune(new CircuitBreaker.Retuning(maxRequests, openDuration, minimumCalls, newFailureRate,
                    newSlowRate, newSlowerThan, consecutive));
        } catch (IllegalArgumentException | IllegalStateException ex) {
            done.clear(); // not taken (the values were validated): all reported as needing a restart
        }
        return done;
    }

    private static Map<String, String> toMap(Properties properties) {
        Map<String, String> map = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            map.put(key, properties.getProperty(key));
        }
        return map;
    }

    /**
     * Builds a {@link ResilienceRegistry}. Each setter may be called once.
     *
     * <pre>{@code
     * ResilienceRegistry registry = ResilienceRegistry.builder().ticker(ticker).properties(map).build();
     * }</pre>
     */
    public static final class Builder {
        private Ticker ticker;
        private Consumer<Object> onCreated;
        private Map<String, String> configuration;

        private Builder() {
        }

        /**
         * The clock of every instance built; default each builder's, {@link Ticker#system()}.
         *
         * @throws NullPointerException if {@code ticker} is null
         * @throws IllegalStateException if already set
         */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Called once with each instance the registry builds and keeps (a rate limiter, breaker,
         * bulkhead, adaptive limiter, retry, timeout or pipeline), on the thread that asked for it,
         * after it is cached and before it is returned; for example to bind it to metrics. An
         * exception it throws is logged and does not fail the request. Default: none.
         *
         * @throws NullPointerException if {@code onCreated} is null
         * @throws IllegalStateException if already set
         */
        public Builder onCreated(Consumer<Object> onCreated) {
            Checks.once(this.onCreated == null, "onCreated");
            this.onCreated = Objects.requireNonNull(onCreated, "onCreated");
            return this;
        }

        /**
         * The configuration (copied); keys outside {@code resilience.} are ignored. Default: empty, so
         * every instance gets its builder's defaults (and rate limiters, bulkheads and timeouts,
         * which have a required property, cannot be built).
         *
         * @throws NullPointerException if {@code configuration} is null
         * @throws IllegalStateException if already set
         */
        public Builder properties(Map<String, String> configuration) {
            Checks.once(this.configuration == null, "properties");
            this.configuration = new HashMap<>(Objects.requireNonNull(configuration, "configuration"));
            return this;
        }

        /**
         * The configuration: {@code configuration}'s string properties, defaults included (copied).
         *
         * @throws NullPointerException if {@code configuration} is null
         * @throws IllegalStateException if already set
         */
        public Builder properties(Properties configuration) {
            Checks.once(this.configuration == null, "properties");
            this.configuration = toMap(Objects.requireNonNull(configuration, "configuration"));
            return this;
        }

        /**
         * Validates the configuration completely and builds the registry; instances are built on
         * first request.
         *
         * @throws ConfigurationException listing every problem of the configuration
         */
        public ResilienceRegistry build() {
            RegistryConfig config = RegistryConfig.parse(configuration == null ? Map.of() : configuration, ticker);
            return new ResilienceRegistry(ticker, onCreated, config);
        }
    }
}
