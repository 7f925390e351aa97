package dev.resilience.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.ThrottledException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The client-side throttle against a real dependency on loopback: a JDK {@code HttpServer} that is
 * healthy for 2 s, then refuses half of its requests (503) for 12 s, then recovers. Calls arrive on
 * a schedule (200 per second per client, open loop: an arrival does not wait for earlier calls),
 * through {@link ResilientHttpClient} with the throttle as an added policy, with its defaults (10 s
 * in 40 buckets, K 1.5, protection 5, a forced pass each second, recovery over 2 s). Two clients run
 * side by side, one with the book's counting of dropped calls as requests (the default), one
 * without.
 *
 * <p>What the formula predicts, per window of {@code R} requests and {@code A} accepts:
 * {@code (R - 5 - K A) / (R + 1)}. The test computes it from its own record of what happened to
 * each call (attempted, dropped, answered 200), not from the throttle's counters, for every tenth
 * of a second over the 9.8 s up to it, and checks that the calls of the first 10 s of refusals were
 * dropped at that rate (within five standard deviations of the binomial, plus what the ratio moved
 * over 300 ms: the throttle's window moves in 250 ms buckets, the test's in 100 ms slots). Without counting drops, {@code R} are
 * the calls sent and {@code A = a R} for a dependency accepting a share {@code a}: the ratio is
 * {@code 1 - K a} (0.25 here) once the window is full of the refusing period, which the test checks
 * too. Counting drops, the ratio climbs towards 1 (K a = 0.75 is below 1) while the dependency
 * refuses.
 */
class AdaptiveThrottleLoopbackTest {

    private static final int RATE = 200;
    private static final int SLOTS_PER_SECOND = 10;
    private static final int HEALTHY_SECONDS = 2;
    private static final int REFUSING_SECONDS = 12;
    private static final int RECOVERED_SECONDS = 6;
    private static final int FAULT_END = HEALTHY_SECONDS + REFUSING_SECONDS;
    private static final int SECONDS = FAULT_END + RECOVERED_SECONDS;
    private static final int SLOTS = SECONDS * SLOTS_PER_SECOND;
    /** The slots of the test's own window: the throttle's 39 completed buckets of 250 ms, rounded. */
    private static final int WINDOW_SLOTS = 98;

    /** One client: its throttle and what happened to its calls, per tenth of a second. */
    private static final class Client {
        final String name;
        final AdaptiveThrottle throttle;
        final boolean dropsAreRequests;
        final ResilientHttpClient http;
        final AtomicIntegerArray attempts = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray dropped = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray sent = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray accepted = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray refused = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray errors = new AtomicIntegerArray(SLOTS);
        final double[] ratioAt = new double[SLOTS];

        Client(String name, AdaptiveThrottle throttle, boolean dropsAreRequests, HttpClient jdk) {
            this.name = name;
            this.throttle = throttle;
            this.dropsAreRequests = dropsAreRequests;
            this.http = ResilientHttpClient.builder(jdk).policy(HttpPolicy.builder(name).add(throttle).build()).build();
        }

        void call(HttpRequest request, int slot) {
            attempts.incrementAndGet(slot);
            try {
                HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
                sent.incrementAndGet(slot);
                if (r.statusCode() == 200) {
                    accepted.incrementAndGet(slot);
                } else if (r.statusCode() == 503) {
                    refused.incrementAndGet(slot);
                } else {
                    errors.incrementAndGet(slot);
                }
            } catch (ThrottledException e) {
                dropped.incrementAndGet(slot);
            } catch (IOException | InterruptedException | RuntimeException e) {
                errors.incrementAndGet(slot);
            }
        }

        /** The formula on the test's record of the window up to {@code slot}, this client's way of counting. */
        double predicted(int slot) {
            return predicted(slot, dropsAreRequests);
        }

        /**
         * The formula on the test's record of the 9.8 s up to and including {@code slot} (the
         * throttle's window: 39 completed buckets of 250 ms and the current one), dropped calls
         * counted as requests or not.
         */
        double predicted(int slot, boolean countingDrops) {
            long requests = 0;
            long accepts = 0;
            for (int i = Math.max(0, slot - WINDOW_SLOTS + 1); i <= slot; i++) {
                requests += attempts.get(i) - (countingDrops ? 0 : dropped.get(i));
                accepts += accepted.get(i);
            }
            return Math.max(0, (requests - 5 - 1.5 * accepts) / (requests + 1.0));
        }

        double dropRate(int fromSecond, int toSecond) {
            return (double) sum(dropped, fromSecond, toSecond) / sum(attempts, fromSecond, toSecond);
        }

        String log() {
            List<String> perSecond = new ArrayList<>();
            for (int s = 0; s < SECONDS; s++) {
                double expected = 0;
                for (int i = s * SLOTS_PER_SECOND; i < (s + 1) * SLOTS_PER_SECOND; i++) {
                    expected += attempts.get(i) * predicted(i);
                }
                perSecond.add(String.format("%ds %d/%d dropped (formula %.0f), ratio %.3f", s, sum(dropped, s, s + 1),
                        sum(attempts, s, s + 1), expected, ratioAt[s * SLOTS_PER_SECOND + SLOTS_PER_SECOND - 1]));
            }
            return name + ": " + String.join("; ", perSecond);
        }

        /** The first second from which no call was dropped, counted from the recovery; -1 if none. */
        int secondsToNoDrops() {
            for (int s = FAULT_END; s < SECONDS; s++) {
                if (sum(dropped, s, SECONDS) == 0) {
                    return s - FAULT_END;
                }
            }
            return -1;
        }
    }

    @Test
    void theDropRateFollowsTheFormulaAndFallsBackToZeroAfterRecovery() throws Exception {
        System.setProperty("sun.net.httpserver.nodelay", "true"); // no delayed-ACK waits on loopback
        AtomicBoolean refusing = new AtomicBoolean(false);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", (HttpExchange exchange) -> {
            boolean refuse = refusing.get() && ThreadLocalRandom.current().nextBoolean();
            exchange.sendResponseHeaders(refuse ? 503 : 200, -1);
            exchange.close();
        });
        ExecutorService serverThreads = Executors.newFixedThreadPool(4);
        server.setExecutor(serverThreads);
        server.start();
        HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"))
                .timeout(Duration.ofSeconds(5)).build();
        java.util.Random seeded = new java.util.Random(20_261_130); // java.util.Random is thread-safe
        java.util.Random seeded2 = new java.util.Random(1_130);
        Client book = new Client("counting", AdaptiveThrottle.builder("counting").random(seeded::nextDouble).build(), true, jdk);
        Client proportional = new Client("proportional",
                AdaptiveThrottle.builder("proportional").countDroppedCalls(false).random(seeded2::nextDouble).build(), false, jdk);
        List<Client> clients = List.of(book, proportional);

        ScheduledExecutorService arrivals = Executors.newScheduledThreadPool(2);
        ExecutorService callers = Executors.newCachedThreadPool();
        long start = System.nanoTime();
        try {
            for (Client c : clients) {
                arrivals.scheduleAtFixedRate(() -> {
                    int slot = (int) ((System.nanoTime() - start) / (1_000_000_000L / SLOTS_PER_SECOND));
                    if (slot < SLOTS) {
                        refusing.set(slot >= HEALTHY_SECONDS * SLOTS_PER_SECOND && slot < FAULT_END * SLOTS_PER_SECOND);
                        callers.execute(() -> c.call(request, slot));
                    }
                }, 0, 1_000_000 / RATE, TimeUnit.MICROSECONDS);
            }
            for (int slot = 0; slot < SLOTS; slot++) {
                long wait = start + (slot + 1) * (1_000_000_000L / SLOTS_PER_SECOND) - 5_000_000 - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait); // pacing the samples, not waiting for a result
                }
                for (Client c : clients) {
                    c.ratioAt[slot] = c.throttle.dropRatio(); // for the log only
                }
            }
        } finally {
            arrivals.shutdownNow();
            callers.shutdown();
            boolean ended = callers.awaitTermination(30, TimeUnit.SECONDS);
            server.stop(0);
            serverThreads.shutdownNow();
            assertTrue(ended, "every call ended within 30 s");
        }
        for (Client c : clients) {
            System.out.println("[throttle loopback] " + c.log());
            // A loopback call may fail on a machine that stalls for seconds; a handful in 4,000 is not the throttle's doing.
            assertTrue(sum(c.errors, 0, SECONDS) <= 10, "calls answered or dropped: " + c.log());
            assertTrue(sum(c.attempts, 0, SECONDS) > SECONDS * RATE * 0.8, "the schedule kept up: " + c.log());
            assertEquals(0, sum(c.dropped, 0, HEALTHY_SECONDS), "nothing dropped while the dependency is healthy: " + c.log());
        }

        // The first 10 s of refusals: the calls of each slot dropped at the formula's rate for that slot.
        for (Client c : clients) {
            double expected = 0;
            double otherWay = 0; // the prediction had this client counted drops the other way
            double variance = 0;
            double lagAllowance = 0;
            int drops = 0;
            int n = 0;
            for (int i = HEALTHY_SECONDS * SLOTS_PER_SECOND; i < (HEALTHY_SECONDS + 10) * SLOTS_PER_SECOND; i++) {
                double p = c.predicted(i);
                int calls = c.attempts.get(i);
                expected += calls * p;
                otherWay += calls * c.predicted(i, !c.dropsAreRequests);
                variance += calls * p * (1 - p);
                // The throttle's window moves in 250 ms buckets, the test's in 100 ms slots: its ratio may
                // be the test's of up to 300 ms earlier.
                lagAllowance += calls * Math.abs(p - c.predicted(i - 3));
                drops += c.dropped.get(i);
                n += calls;
            }
            double tolerance = 5 * Math.sqrt(variance) + lagAllowance;
            System.out.printf("[throttle loopback] %s, seconds 0-10 of the refusals: %d of %d calls dropped, the formula on"
                    + " the test's own counts %.0f (tolerance %.0f: 5 sigma %.0f + the buckets' lag %.0f); counting"
                    + " drops the other way it would be %.0f%n", c.name, drops, n, expected, tolerance,
                    5 * Math.sqrt(variance), lagAllowance, otherWay);
            // The other way of counting is printed, not asserted: over these seconds the two predictions differ
            // by about two standard deviations only (AdaptiveThrottleTest checks the counting on a manual clock).
            assertTrue(Math.abs(drops - expected) < tolerance, c.name + ": dropped " + drops + " vs " + expected + ": " + c.log());
        }
        // Without counting drops, once the window holds only the refusing period: 1 - K a.
        int from = HEALTHY_SECONDS + 10;
        double a = (double) sum(proportional.accepted, from - 10, FAULT_END) / sum(proportional.sent, from - 10, FAULT_END);
        double closedForm = 1 - 1.5 * a;
        double observed = proportional.dropRate(from, FAULT_END);
        System.out.printf("[throttle loopback] proportional: the dependency accepted %.3f; 1 - K a = %.4f,"
                + " dropped %.4f%n", a, closedForm, observed);
        double closedTolerance = fiveSigma(closedForm, sum(proportional.attempts, from, FAULT_END)) + 0.03; // + a's own noise
        assertTrue(Math.abs(observed - closedForm) < closedTolerance, "1 - K a = " + closedForm + " vs " + observed
                + " (tolerance " + closedTolerance + "): " + proportional.log());
        // Counting drops, the ratio climbs while the dependency refuses. That it then sends the dependency
        // less than the other client is printed, not asserted: over these 12 s the two clients' drop rates
        // differ by 0.03-0.05 with a standard deviation of about 0.035 between two runs (CI failed on it once:
        // 0.255 against a higher proportional rate); AdaptiveThrottleTest compares the two on manual clocks.
        assertTrue(book.dropRate(from, FAULT_END) > book.dropRate(HEALTHY_SECONDS, HEALTHY_SECONDS + 3), book.log());
        System.out.printf("[throttle loopback] seconds %d-%d: counting dropped %.4f, proportional %.4f%n", from,
                FAULT_END, book.dropRate(from, FAULT_END), observed);

        // After recovery: nothing dropped within a few seconds. The default recoveryTime needs 8 buckets of
        // 250 ms in a row whose calls were all accepted, the first of them after the one the recovery falls
        // in: drops end 2.25-2.5 s after it, so within 3 whole seconds; one late 503 restarts the run.
        for (Client c : clients) {
            int zero = c.secondsToNoDrops();
            System.out.println("[throttle loopback] " + c.name + ": no call dropped from " + zero
                    + " s after the dependency recovered");
            assertTrue(zero >= 0 && zero <= 4, "within a few seconds: " + c.log());
        }
    }

    /** Five standard deviations of the share of {@code n} calls dropped with probability {@code p}. */
    private static double fiveSigma(double p, int n) {
        return 5 * Math.sqrt(Math.max(p * (1 - p), 0.01) / n);
    }

    private static int sum(AtomicIntegerArray perSlot, int fromSecond, int toSecond) {
        int total = 0;
        for (int i = fromSecond * SLOTS_PER_SECOND; i < toSecond * SLOTS_PER_SECOND; i++) {
            total += perSlot.get(i);
        }
        return total;
    }
}
