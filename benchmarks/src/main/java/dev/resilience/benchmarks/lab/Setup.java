package dev.resilience.benchmarks.lab;

import dev.resilience.benchmarks.lab.RunStats.Outcome;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.util.List;

/**
 * One protection setup around the same call: a GET to the dependency through {@link LabHttp}, under
 * the same client deadline D (an absolute time given to {@link #call}). Built fresh for every run
 * (new JDK client, new breaker states, new limits).
 */
abstract class Setup {

    /** The setups a run without {@code --setups} runs, in the order the lab runs and reports them. */
    static final List<String> NAMES = List.of("naive", "r4j-default", "r4j-tuned", "failsafe-default",
            "failsafe-tuned", "ours", "ours-vegas13", "ours-gradient2", "ours-throttle", "ours-inbound");

    /**
     * Setups run only when {@code --setups} names them: {@code ours-percall}, {@code ours-percall-throttle}
     * and {@code ours-percall-inbound}, the {@code ours} setups of the runs up to lab-2026-12-03-p
     * (Vegas 3 and 6 adjusted on every call); and {@code ours-gs24}, {@code ours-gs24-throttle} and
     * {@code ours-gs24-inbound}, the names runs lab-2026-12-03-n to -p gave to today's {@code ours},
     * {@code ours-throttle} and {@code ours-inbound} (Vegas 2 and 4 over a sample window of 10; runs -n
     * to -o2 ran the lab's copy of the rule, GrowSlowVegas, before it became the library's), kept
     * so those runs' commands still run. The setups {@code ours-w36}, {@code ours-w13} and
     * {@code ours-w24} of runs -i to -m ran a window that also shrank only on its mean, a rule the
     * library no longer has (commits up to b57c7cd).
     */
    static final List<String> EXPERIMENTS = List.of("ours-percall", "ours-percall-throttle", "ours-percall-inbound",
            "ours-gs24", "ours-gs24-throttle", "ours-gs24-inbound");

    /**
     * The per-attempt timeout of the tuned peers and ours: at most two attempts fit in D = 1 s, and
     * it is 20x the dependency's unloaded service time.
     */
    static final long PER_ATTEMPT_NANOS = 400_000_000L;

    final String name;
    final LabHttp http;

    Setup(String name, LabHttp http) {
        this.name = name;
        this.http = http;
    }

    /** The concurrency limit of the setup's adaptive limiter now, for the per-second rows; 0 if it has none. */
    int clientLimit() {
        return 0;
    }

    /** Whether the dependency puts its inbound adaptive limit in front of its queue for this setup. */
    boolean inboundLimit() {
        return false;
    }

    /**
     * Makes one call that must end by {@code deadlineNanos} (System.nanoTime) and says how it ended:
     * {@link Outcome#OK} for a 2xx (the caller decides whether it was in time), {@link Outcome#ERROR},
     * {@link Outcome#TIMEOUT} or {@link Outcome#REFUSED}. Never throws.
     */
    abstract Outcome call(long deadlineNanos);

    /** Builds the setup called {@code name}. */
    static Setup create(String name, LabHttp http, long seed) {
        switch (name) {
            case "naive":
                return new Naive(http);
            case "r4j-default":
                return R4jSetup.defaults(http);
            case "r4j-tuned":
                return R4jSetup.tuned(http);
            case "failsafe-default":
                return FailsafeSetup.defaults(http);
            case "failsafe-tuned":
                return FailsafeSetup.tuned(http);
            case "ours":
            case "ours-gs24":
                return OursSetup.breaker(name, http, OursSetup.vegas(), seed, false);
            case "ours-vegas13":
                return OursSetup.breaker(name, http, OursSetup.vegas13(), seed, false);
            case "ours-gradient2":
                return OursSetup.breaker(name, http, OursSetup.gradient2(), seed, false);
            case "ours-throttle":
            case "ours-gs24-throttle":
                return OursSetup.throttle(name, http, OursSetup.vegas(), seed);
            case "ours-inbound":
            case "ours-gs24-inbound":
                return OursSetup.breaker(name, http, OursSetup.vegas(), seed, true);
            case "ours-percall":
                return OursSetup.breaker(name, http, OursSetup.perCallVegas(), seed, false);
            case "ours-percall-throttle":
                return OursSetup.throttle(name, http, OursSetup.perCallVegas(), seed);
            case "ours-percall-inbound":
                return OursSetup.breaker(name, http, OursSetup.perCallVegas(), seed, true);
            default:
                throw new IllegalArgumentException("unknown setup '" + name + "', one of " + NAMES + " or " + EXPERIMENTS);
        }
    }

    /** How an exception from an attempt or a peer's policy ends the call. */
    static Outcome classify(Throwable e) {
        if (e instanceof HttpTimeoutException) {
            return Outcome.TIMEOUT; // the JDK client's timeout, or the deadline before an attempt
        }
        if (e instanceof IOException) {
            return Outcome.ERROR; // a failing status (StatusException), a refused or reset connection
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return Outcome.ERROR;
        }
        return Outcome.ERROR;
    }

    /** No protection: up to 3 attempts on any failure or 5xx, no delay, each bounded by the deadline. */
    static final class Naive extends Setup {
        Naive(LabHttp http) {
            super("naive", http);
        }

        @Override
        Outcome call(long deadlineNanos) {
            for (int attempt = 1; ; attempt++) {
                try {
                    http.attempt(deadlineNanos, Long.MAX_VALUE);
                    return Outcome.OK;
                } catch (IOException | InterruptedException e) {
                    if (attempt == 3 || e instanceof LabHttp.DeadlinePassed || e instanceof InterruptedException) {
                        return classify(e);
                    }
                }
            }
        }
    }
}
