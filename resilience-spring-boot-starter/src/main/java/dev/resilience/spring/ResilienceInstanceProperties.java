package dev.resilience.spring;

import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The named instances, as an IDE completes them: {@code resilience.<kind>.<name>.<property>}. This
 * type only describes the keys (Spring Boot's configuration processor turns it into metadata); the
 * values are read and checked by the toolkit's {@code ResilienceRegistry}, which reports every
 * problem at once and refuses what this type would let through (a bare number as a duration, a
 * property of the wrong kind). The name {@code default} holds every instance's defaults.
 *
 * <p>Durations: {@code 250ms}, {@code 5s}, {@code 1m}, {@code PT5S} (a unit is required: Spring's
 * "bare number means milliseconds" is refused, as a likely mistake). Rates: {@code 50/s},
 * {@code 600/m}, {@code 10}. Percentages: {@code 50} or {@code 50%}.
 *
 * @param ratelimiter rate limiters by name
 * @param circuitbreaker circuit breakers by name
 * @param throttle client-side throttles by name
 * @param bulkhead bulkheads by name
 * @param adaptivelimiter adaptive concurrency limiters by name
 * @param retry retries by name
 * @param timeout timeouts by name
 * @param pipeline pipelines by name
 */
@ConfigurationProperties(prefix = "resilience")
public record ResilienceInstanceProperties(
        Map<String, RateLimiter> ratelimiter,
        Map<String, CircuitBreaker> circuitbreaker,
        Map<String, Throttle> throttle,
        Map<String, Bulkhead> bulkhead,
        Map<String, AdaptiveLimiter> adaptivelimiter,
        Map<String, Retry> retry,
        Map<String, Timeout> timeout,
        Map<String, Pipeline> pipeline) {

    /**
     * A rate limiter.
     *
     * @param rate permits per second ({@code 50}, {@code 50/s}, {@code 600/m}); required; reloadable
     * @param burst permits that may be taken at once (default 1); reloadable
     * @param maxWait the longest a call waits for a permit (default: only the caller's deadline)
     * @param warmup a cold start's warm-up period (replaces {@code burst})
     * @param coldFactor how much slower a cold limiter starts (with {@code warmup}; default 3)
     */
    public record RateLimiter(String rate, Integer burst, String maxWait, String warmup, Double coldFactor) {
    }

    /**
     * A circuit breaker (gobreaker's state machine).
     *
     * @param consecutiveFailures opens at this many failures in a row (default 6, none when a rate
     *     threshold is set; 0 never); reloadable
     * @param failureRateThreshold opens at this failure percentage (needs a window); reloadable
     * @param slowCallRateThreshold opens at this slow-call percentage (needs a window); reloadable
     * @param slowCallDuration a call this slow is slow; reloadable
     * @param minimumCalls calls before a rate counts (default 100, at most the count window); reloadable
     * @param countWindow the last this many calls
     * @param timeWindow the calls of this long
     * @param timeWindowBucket the time window's bucket (default 1s)
     * @param openDuration how long it stays open (default 60s); reloadable
     * @param openBackoffMultiplier each reopening's factor (with {@code open-backoff-max})
     * @param openBackoffMax the longest open duration (with {@code open-backoff-multiplier})
     * @param maxRequests half-open probes, and the successes that close it (default 1); reloadable
     * @param halfOpenTimeout how long half-open waits for its probes (default: the open duration)
     * @param interval how often a closed breaker clears its counts (default never)
     * @param intervalBucket the interval's bucket
     * @param ignoreExceptions exception classes that count neither way (a 4xx's
     *     {@code org.springframework.web.client.HttpClientErrorException}, a validation error)
     * @param recordExceptions the only exception classes that count as failures (default: every exception)
     */
    public record CircuitBreaker(Integer consecutiveFailures, String failureRateThreshold, String slowCallRateThreshold,
            String slowCallDuration, Integer minimumCalls, Integer countWindow, String timeWindow,
            String timeWindowBucket, String openDuration, Double openBackoffMultiplier, String openBackoffMax,
            Integer maxRequests, String halfOpenTimeout, String interval, String intervalBucket,
            List<String> ignoreExceptions, List<String> recordExceptions) {
    }

    /**
     * A bulkhead.
     *
     * @param maxConcurrent calls at once; required; reloadable
     * @param maxWait how long a call waits for a slot (default 0)
     */
    public record Bulkhead(Integer maxConcurrent, String maxWait) {
    }

    /**
     * A client-side throttle (Google SRE's adaptive throttling, go-zero's default breaker): drops
     * calls with probability {@code (requests - protection - k * accepts) / (requests + 1)}.
     *
     * @param k how many times what the dependency accepts the client may send (default 1.5)
     * @param minK lowers {@code k} towards this while recent buckets only fail (go-zero: 1.1; default off)
     * @param protection requests of a window never dropped (default 5)
     * @param window the rolling window (default 10s)
     * @param windowBuckets its buckets (default 40)
     * @param forcedPassInterval while dropping, one call passes when none has for this long (default 1s)
     * @param recoveryScaling drops fade out as recent buckets are all accepts (default true)
     * @param countDroppedCalls dropped calls count as requests, as the SRE book counts them (default true)
     * @param ignoreExceptions exception classes that count neither way (besides the caller's cancellation)
     * @param recordExceptions the only exception classes that count against the dependency (default every exception)
     * @param recoveryTime drops end after this long of buckets whose calls were all accepted (default 2s; with recovery scaling)
     */
    public record Throttle(Double k, Double minK, Integer protection, String window, Integer windowBuckets,
            String forcedPassInterval, Boolean recoveryScaling, Boolean countDroppedCalls, List<String> ignoreExceptions,
            List<String> recordExceptions, String recoveryTime) {
    }

    /**
     * An adaptive concurrency limiter.
     *
     * @param algorithm {@code aimd} (default), {@code vegas} or {@code gradient2} (Netflix concurrency-limits' default)
     * @param initialLimit the first limit (default 20)
     * @param minLimit the lowest limit (default 1)
     * @param maxLimit the highest limit (default 200)
     * @param backoffRatio aimd's decrease factor (default 0.9)
     * @param timeout aimd: a call this slow counts as a drop (default 5s)
     * @param smoothing gradient2: how much of each new estimate is taken (default 0.2)
     * @param rttTolerance gradient2: how much slower than the long-term round trip is still fine (default 1.5)
     * @param longWindow gradient2: samples in the long-term round trip's average (default 600)
     * @param queueSize gradient2: calls allowed to queue above the estimate (default 4)
     * @param alpha vegas: the queue, in multiples of log10(limit), below which the limit grows (default 3)
     * @param beta vegas: the queue, in multiples of log10(limit), above which it shrinks (default 6)
     * @param sampleWindow vegas: the calls whose mean round trip decides a growth; a shrink takes one
     *     (default 1: each call's own)
     */
    public record AdaptiveLimiter(String algorithm, Integer initialLimit, Integer minLimit, Integer maxLimit,
            String backoffRatio, String timeout, String smoothing, Double rttTolerance, Integer longWindow,
            Integer queueSize, Double alpha, Double beta, Integer sampleWindow) {
    }

    /**
     * A retry.
     *
     * @param maxAttempts attempts in all, the first included (default 3)
     * @param backoff {@code exponential} (default) or {@code fixed}
     * @param backoffDelay the fixed backoff's delay
     * @param backoffInitial the exponential backoff's first delay (default 100ms)
     * @param backoffMultiplier the exponential backoff's factor (default 2)
     * @param backoffMax the exponential backoff's longest delay (default 10s)
     * @param backoffJitter {@code none}, {@code full} (default), {@code equal} or {@code decorrelated}
     * @param maxDelay the longest wait between attempts
     * @param budgetRatio retries per request the budget allows (default 0.2 when a budget key is set)
     * @param budgetMinPerSecond retries per second always allowed (default 10)
     * @param budgetMaxBalance the most retries saved up (default 100)
     * @param retryExceptions the only exception classes retried (default: every exception but refusals)
     * @param ignoreExceptions exception classes never retried (a 4xx's
     *     {@code org.springframework.web.client.HttpClientErrorException})
     */
    public record Retry(Integer maxAttempts, String backoff, String backoffDelay, String backoffInitial,
            Double backoffMultiplier, String backoffMax, String backoffJitter, String maxDelay, String budgetRatio,
            String budgetMinPerSecond, Integer budgetMaxBalance, List<String> retryExceptions,
            List<String> ignoreExceptions) {
    }

    /**
     * A timeout.
     *
     * @param timeout the deadline of each call; required
     * @param interruptOnTimeout whether to interrupt a call that overruns (default false)
     */
    public record Timeout(String timeout, Boolean interruptOnTimeout) {
    }

    /**
     * A pipeline.
     *
     * @param policies {@code kind:name} entries, outermost first (default: the kinds configured under the pipeline's name)
     */
    public record Pipeline(String policies) {
    }
}
