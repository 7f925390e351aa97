package dev.resilience.benchmarks.lab;

import dev.resilience.benchmarks.lab.RunStats.Outcome;
import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.ContextDoneException;
import dev.resilience.context.Scope;
import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.Backoff;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.LimitAlgorithm;
import dev.resilience.core.Policy;
import dev.resilience.core.RefusedException;
import dev.resilience.core.Retry;
import dev.resilience.core.RetryBudget;
import dev.resilience.core.TimeoutExceededException;
import dev.resilience.http.HttpPolicy;
import dev.resilience.http.HttpStatusException;
import dev.resilience.http.ResilientHttpClient;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Random;

/**
 * This toolkit: {@link ResilientHttpClient} over an {@link HttpPolicy} in the order the README gives
 * for a dependency in trouble, outermost first: a budgeted retry, the breaker (or the client-side
 * throttle), an adaptive concurrency limit, a per-attempt timeout. Each call runs under
 * {@code Context.background().withTimeout(remaining time to D)}, so every attempt's request timeout
 * is the smaller of the remaining deadline and the per-attempt timeout and the dependency receives
 * the deadline as {@code grpc-timeout}.
 *
 * <ul>
 *   <li>Retry: 3 attempts, exponential backoff from 50 ms x2 capped at 1 s with full jitter (as
 *       the peers' tuned rows), retrying what {@link HttpPolicy#isRetryable} says (connection
 *       errors, 5xx/429, per-attempt timeouts), a 503's {@code Retry-After} replacing the backoff;
 *       a {@link RetryBudget} of 10 % of calls sent plus 2 a second (at most 20 banked): Google SRE's
 *       per-client 10 %.</li>
 *   <li>{@code ours}: breaker at 50 % failures of at least 20 calls over a 10 s window in 1 s
 *       buckets, 5 s open, 5 probes half-open (the tuned peers' settings). Until 2026-12-01 the
 *       builder kept its default {@code readyToTrip} (more than 5 consecutive failures) beside the
 *       rate threshold, so the recorded lab runs of 2026-11-30 opened it on 6 failures in a row too;
 *       the first two runs of 2026-12-01 had the rate threshold alone (as in the peers), which in
 *       {@code c} opened the breaker only about 2.5 s into the outage (the budget keeps attempts near
 *       1x, so failures outweighed the 10 s window's earlier successes slowly) and recovery took 3 s.
 *       Since the third run ({@code runs/lab-2026-12-01-c}) the breaker also opens on {@value #CONSECUTIVE_FAILURES_TO_TRIP}
 *       failures in a row, as a user who knows the dependency can go down would configure it
 *       (0.3<sup>20</sup>: never at 30 % independent errors).</li>
 *   <li>{@code ours-throttle}: {@link AdaptiveThrottle} with its defaults (K 1.5, 10 s window,
 *       protection 5, dropped calls counted as requests) in the breaker's place.</li>
 *   <li>Adaptive limit: Vegas starting at 20, between 2 and 200. Vegas estimates the queue from the
 *       lowest round trip it has seen, so under sustained overload it keeps a few calls queued at the
 *       dependency. Until 2026-12-01 these setups used Gradient2 (concurrency-limits' default algorithm
 *       and constants, same bounds), which the lab showed letting the queue grow: its long-term round
 *       trip is an average that follows a sustained rise, so at 3 C its limit settled at 70-100 calls
 *       (p50 of successes about 225 ms against 21 ms unloaded) and in {@code a15} it climbed to its maximum
 *       while every attempt timed out. {@code ours-gradient2} keeps that configuration for
 *       comparison.</li>
 *   <li>Up to run lab-2026-12-03-p Vegas' queue thresholds were concurrency-limits' 3 and 6, adjusted on
 *       every call (today's {@code ours-percall}): in the ramp {@code d} the limit
 *       settles at 8 or 9 in front of the dependency's 4 workers of 20 ms, and at 9 a call can wait
 *       two services (p99 of admitted calls 41 ms at 8, 56-62 ms at 9, against the goal's bar of 2x
 *       the unloaded p99, about 51 ms). {@code ours-vegas13} (thresholds 1 and 3, run
 *       {@code lab-2026-12-03-h}, where it was called {@code ours} and {@code ours-percall} was
 *       {@code ours-vegas-default}) was meant to keep fewer queued and did the opposite: a sample
 *       that found a worker free reads as an empty queue and grows the limit by 3, one that waited
 *       shrinks it by 1, so the limit swung between 6 and 27 (p99 84-101 ms, goodput 185/s).</li>
 *   <li>Since run lab-2026-12-03-q the {@code ours} setups use Vegas 2 and 4 over a sample window
 *       of 10 ({@code vegas(20, 2, 200, 2, 4, 10)}): it grows on the mean round trip of 10 calls and
 *       shrinks on a single call (runs lab-2026-12-03-n to -p ran it as {@code ours-gs24},
 *       {@code ours-gs24-throttle} and {@code ours-gs24-inbound}, -n to -o2 through the lab's copy of
 *       the rule, GrowSlowVegas, before it became the library's; those names remain as aliases of
 *       today's {@code ours} setups). The setups of the runs up to -p, Vegas 3 and 6 adjusted on
 *       every call, are {@code ours-percall}, {@code ours-percall-throttle} and
 *       {@code ours-percall-inbound} (run only when {@code --setups} names them). Until 2026-12-03 a
 *       window also shrank only on its mean; the setups {@code ours-w36}, {@code ours-w13},
 *       {@code ours-w24} (runs -i to -m, commits up to b57c7cd) ran that rule: at 3 C it held the
 *       ramp's p99 in every repetition but in {@code b} wasted 2-15 % of the dependency's busy time,
 *       most of it in the fault's first second.</li>
 *   <li>{@code ours-gradient2}: {@code ours} with Gradient2 (concurrency-limits' default algorithm and
 *       constants, from 20, between 2 and 200) in place of Vegas.</li>
 *   <li>{@code ours-inbound}: {@code ours}, and the dependency puts an adaptive limit in front of its
 *       queue ({@link LabServer}).</li>
 * </ul>
 */
final class OursSetup extends Setup {

    /**
     * Failures in a row that open the {@code ours} breakers beside the rate threshold: a dependency
     * that is down fails every call, and a rate over a 10 s window needs seconds of failures to
     * outweigh the successes before the outage (more so when a retry budget keeps attempts near 1x).
     */
    static final int CONSECUTIVE_FAILURES_TO_TRIP = 20;

    private final ResilientHttpClient client;
    private final HttpRequest request;
    private final boolean inbound;
    private final AdaptiveLimiter limiter;

    private OursSetup(String name, LabHttp http, Policy guard, LimitAlgorithm algorithm, long seed, boolean inbound) {
        super(name, http);
        this.inbound = inbound;
        Random random = new Random(seed);
        Retry retry = Retry.builder(name).maxAttempts(3)
                .backoff(Backoff.exponential(Duration.ofMillis(50), 2, Duration.ofSeconds(1), Backoff.Jitter.FULL))
                .budget(RetryBudget.of(0.1, 2, 20))
                .retryOn(HttpPolicy::isRetryable)
                .delayHint(Object.class, (result, failure) -> failure instanceof HttpStatusException
                        ? ResilientHttpClient.retryAfter(((HttpStatusException) failure).response(HttpResponse.class))
                                .orElse(null)
                        : null)
                .random(random::nextDouble)
                .build();
        this.limiter = AdaptiveLimiter.builder(name).algorithm(algorithm).build();
        HttpPolicy policy = HttpPolicy.builder(name).add(retry).add(guard).add(limiter)
                .timeout(Duration.ofNanos(PER_ATTEMPT_NANOS)).build();
        this.client = ResilientHttpClient.builder(http).policy(policy).build();
        this.request = HttpRequest.newBuilder(http.uri()).GET().build();
    }

    /**
     * The limit of the {@code ours} setups since run lab-2026-12-03-q: Vegas 2 and 4 from 20, between 2
     * and 200, growing on the mean of 10 calls and shrinking on one (see the class comment).
     */
    static LimitAlgorithm vegas() {
        return LimitAlgorithm.vegas(20, 2, 200, 2, 4, 10);
    }

    /**
     * The limit of the {@code ours-percall} setups, and of the {@code ours} setups up to run
     * lab-2026-12-03-p: Vegas from 20, between 2 and 200, with concurrency-limits' thresholds 3 and 6,
     * adjusted on every call.
     */
    static LimitAlgorithm perCallVegas() {
        return LimitAlgorithm.vegas(20, 2, 200);
    }

    /** The limit of {@code ours-vegas13}: Vegas with the queue thresholds 1 and 3, tried and not kept. */
    static LimitAlgorithm vegas13() {
        return LimitAlgorithm.vegas(20, 2, 200, 1, 3);
    }

    /** The limit of {@code ours-gradient2}, and of every {@code ours} setup until 2026-12-01. */
    static LimitAlgorithm gradient2() {
        return LimitAlgorithm.gradient2(20, 2, 200);
    }

    static OursSetup breaker(String name, LabHttp http, LimitAlgorithm algorithm, long seed, boolean inbound) {
        CircuitBreaker breaker = CircuitBreaker.builder(name)
                .timeWindow(Duration.ofSeconds(10), Duration.ofSeconds(1))
                .failureRateThreshold(50, 20)
                .readyToTrip(c -> c.consecutiveFailures() >= CONSECUTIVE_FAILURES_TO_TRIP)
                .openDuration(Duration.ofSeconds(5))
                .maxRequests(5)
                .build();
        return new OursSetup(name, http, breaker, algorithm, seed, inbound);
    }

    static OursSetup throttle(String name, LabHttp http, LimitAlgorithm algorithm, long seed) {
        Random random = new Random(seed ^ 0x5DEECE66DL);
        AdaptiveThrottle throttle = AdaptiveThrottle.builder(name).random(random::nextDouble).build();
        return new OursSetup(name, http, throttle, algorithm, seed, false);
    }

    @Override
    int clientLimit() {
        return limiter.limit();
    }

    @Override
    boolean inboundLimit() {
        return inbound;
    }

    @Override
    Outcome call(long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining < 1_000_000L) {
            return Outcome.TIMEOUT;
        }
        try (CancelHandle call = Context.background().withTimeout(Duration.ofNanos(remaining));
             Scope s = call.attach()) {
            HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
            return r.statusCode() / 100 == 2 ? Outcome.OK : Outcome.ERROR;
        } catch (RefusedException e) {
            return Outcome.REFUSED; // breaker open, throttled, over the adaptive limit
        } catch (ContextDoneException | TimeoutExceededException | HttpTimeoutException e) {
            return Outcome.TIMEOUT;
        } catch (IOException | InterruptedException | RuntimeException e) {
            return classify(e);
        }
    }
}
