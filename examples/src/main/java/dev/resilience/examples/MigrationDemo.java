package dev.resilience.examples;

import dev.resilience.core.Backoff;
import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.RequestNotPermittedException;
import dev.resilience.core.Retry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Migrating from Resilience4j: the same protection (a count-based circuit breaker tripping at 50 % of
 * 10 calls, 3 attempts with a 1 ms wait, a rate limit per second that does not wait) written with Resilience4j and with this
 * toolkit, driven through the same scripted calls; the two print the same outcomes.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.MigrationDemo}
 */
public final class MigrationDemo {

    private MigrationDemo() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** One protected call, whatever library protects it. */
    interface Protection {
        String call(Callable<String> task) throws Exception;
    }

    /** Resilience4j: retry around breaker around rate limiter (its decorator order, outermost first). */
    static Protection resilience4j(int perSecond) {
        io.github.resilience4j.circuitbreaker.CircuitBreaker breaker = io.github.resilience4j.circuitbreaker.CircuitBreaker.of(
                "payments", CircuitBreakerConfig.custom()
                        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                        .slidingWindowSize(10)
                        .minimumNumberOfCalls(10)
                        .failureRateThreshold(50)
                        .waitDurationInOpenState(Duration.ofSeconds(30))
                        .permittedNumberOfCallsInHalfOpenState(2)
                        .build());
        io.github.resilience4j.retry.Retry retry = io.github.resilience4j.retry.Retry.of("payments", RetryConfig.custom()
                .maxAttempts(3)
                .waitDuration(Duration.ofMillis(1))
                .retryExceptions(IOException.class)
                .build());
        io.github.resilience4j.ratelimiter.RateLimiter limiter = io.github.resilience4j.ratelimiter.RateLimiter.of(
                "payments", RateLimiterConfig.custom()
                        .limitForPeriod(perSecond)
                        .limitRefreshPeriod(Duration.ofSeconds(1))
                        .timeoutDuration(Duration.ZERO)
                        .build());
        return task -> io.github.resilience4j.retry.Retry.decorateCallable(retry,
                io.github.resilience4j.circuitbreaker.CircuitBreaker.decorateCallable(breaker,
                        io.github.resilience4j.ratelimiter.RateLimiter.decorateCallable(limiter, task))).call();
    }

    /** Ours: the same settings, under the names this toolkit uses. */
    static Protection ours(int perSecond) {
        CircuitBreaker breaker = CircuitBreaker.builder("payments")
                .countWindow(10)                          // slidingWindowType COUNT_BASED, slidingWindowSize 10
                .failureRateThreshold(50, 10)             // failureRateThreshold 50, minimumNumberOfCalls 10
                .openDuration(Duration.ofSeconds(30))     // waitDurationInOpenState
                .maxRequests(2)                           // permittedNumberOfCallsInHalfOpenState
                .build();
        Retry retry = Retry.builder("payments")
                .maxAttempts(3)                           // maxAttempts (attempts in all, as in Resilience4j)
                .backoff(Backoff.fixed(Duration.ofMillis(1)))   // waitDuration
                .retryOn(e -> e instanceof IOException)   // retryExceptions
                .build();
        RateLimiter limiter = RateLimiter.builder("payments")
                .rate(perSecond).burst(perSecond)         // limitForPeriod per limitRefreshPeriod 1 s
                .maxWait(Duration.ZERO)                   // timeoutDuration 0
                .build();
        Pipeline<String> pipeline = Pipeline.<String>builder("payments")
                .add(retry).add(breaker).add(limiter)
                .inDefaultOrder().build();                                 // the default order is the same: retry, breaker, limiter
        return pipeline::call;
    }

    /** The rate script: 7 calls at once; a limit of 5 per second admits 5. Outcomes as text. */
    static List<String> script(Protection p) {
        List<String> outcomes = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            outcomes.add(outcome(p, () -> "ok"));
        }
        return outcomes;
    }

    /**
     * Retry and breaker script on a fresh protection with the limiter out of the way (calls spread
     * over time are not the point here): each call's first attempt fails and its retry succeeds, so
     * the breaker's window fills half with failures; at 10 recorded calls it opens.
     */
    static List<String> breakerScript(Protection p) {
        List<String> outcomes = new ArrayList<>();
        int[] n = {0};
        for (int i = 0; i < 7; i++) {
            outcomes.add(outcome(p, () -> {
                if (n[0]++ % 2 == 0) {
                    throw new IOException("flaky");
                }
                return "ok after retry";
            }));
        }
        return outcomes;
    }

    private static String outcome(Protection p, Callable<String> task) {
        try {
            return p.call(task);
        } catch (RequestNotPermittedException | io.github.resilience4j.ratelimiter.RequestNotPermitted e) {
            return "rate limited";
        } catch (CallNotPermittedException | io.github.resilience4j.circuitbreaker.CallNotPermittedException e) {
            return "breaker open";
        } catch (Exception e) {
            return "failed: " + e.getMessage();
        }
    }

    /** Runs both scripts on both libraries; returns {ours, theirs} for each script. */
    static List<List<String>> run(PrintStream out) {
        List<String> theirs = script(resilience4j(5));
        List<String> mine = script(ours(5));
        out.println("[rate]    resilience4j: " + theirs);
        out.println("[rate]    ours:         " + mine);
        List<String> theirBreaker = breakerScript(resilience4j(1000));
        List<String> myBreaker = breakerScript(ours(1000));
        out.println("[retry]   resilience4j: " + theirBreaker);
        out.println("[retry]   ours:         " + myBreaker);
        out.println("[summary] the same outcomes from both libraries: "
                + (mine.equals(theirs) && myBreaker.equals(theirBreaker)));
        return List.of(mine, theirs, myBreaker, theirBreaker);
    }
}
