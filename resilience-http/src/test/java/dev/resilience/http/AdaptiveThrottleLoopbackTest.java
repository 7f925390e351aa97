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
 * The client-side throttle against a real dependency on loopback: a JDK {@code HttpServer} that
 * refuses half of its requests (503) for 12 s, then recovers. Calls arrive on a schedule (200 per
 * second per client, open loop: an arrival does not wait for earlier calls), through
 * {@link ResilientHttpClient} with the throttle as an added policy, with its defaults (10 s in 40
 * buckets, K 1.5, protection 5, a forced pass each second, recovery scaling). Two clients run side by
 * side, one with the book's counting of dropped calls as requests (the default), one without.
 *
 * <p>What the formula predicts, per window of {@code R} requests and {@code A} accepts:
 * {@code (R - 5 - K A) / (R + 1)}. Without counting drops, {@code R} are the calls sent and
 * {@code A = a R} for a dependency accepting a share {@code a}: the ratio is {@code 1 - K a} (0.25
 * here) as soon as the window is full of the refusing period. Counting drops, the ratio climbs
 * towards 1 (K a = 0.75 is below 1) by a factor of K a per window; what the test can check within
 * 10 s is that the rate at which calls are dropped is the formula applied to the window's counts.
 */
class AdaptiveThrottleLoopbackTest {

    private static final int RATE = 200;
    private static final int SLOTS_PER_SECOND = 10;
    private static final int REFUSING_SECONDS = 12;
    private static final int RECOVERED_SECONDS = 12;
    private static final int SECONDS = REFUSING_SECONDS + RECOVERED_SECONDS;
    private static final int SLOTS = SECONDS * SLOTS_PER_SECOND;

    /** One client: its throttle and what happened to its calls, per tenth of a second. */
    private static final class Client {
        final String name;
        final AdaptiveThrottle throttle;
        final ResilientHttpClient http;
        final AtomicIntegerArray attempts = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray dropped = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray sent = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray refused = new AtomicIntegerArray(SLOTS);
        final AtomicIntegerArray errors = new AtomicIntegerArray(SLOTS);
        final double[] ratioAt = new double[SLOTS];

        Client(String name, AdaptiveThrottle throttle, HttpClient jdk) {
            this.name = name;
            this.throttle = throttle;
            this.http = ResilientHttpClient.builder(jdk).policy(HttpPolicy.builder(name).add(throttle).build()).build();
        }

        void call(HttpRequest request, int slot) {
            attempts.incrementAndGet(slot);
            try {
                HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
                sent.incrementAndGet(slot);
                if (r.statusCode() == 503) {
                    refused.incrementAndGet(slot);
                } else if (r.statusCode() != 200) {
                    errors.incrementAndGet(slot);
                }
            } catch (ThrottledException e) {
                dropped.incrementAndGet(slot);
            } catch (IOException | InterruptedException | RuntimeException e) {
                errors.incrementAndGet(slot);
            }
        }

        double dropRate(int fromSecond, int toSecond) {
            return (double) sum(dropped, fromSecond, toSecond) / sum(attempts, fromSecond, toSecond);
        }

        String log() {
            List<String> perSecond = new ArrayList<>();
            for (int s = 0; s < SECONDS; s++) {
                perSecond.add(String.format("%ds %d/%d dropped, ratio %.3f", s, sum(dropped, s, s + 1),
                        sum(attempts, s, s + 1), ratioAt[s * SLOTS_PER_SECOND + SLOTS_PER_SECOND - 1]));
            }
            return name + ": " + String.join("; ", perSecond);
        }

        /** The first second from which no call was dropped, counted from the recovery; -1 if none. */
        int secondsToNoDrops() {
            for (int s = REFUSING_SECONDS; s < SECONDS; s++) {
                if (sum(dropped, s, SECONDS) == 0) {
                    return s - REFUSING_SECONDS;
                }
            }
            return -1;
        }
    }

    @Test
    void theDropRateFollowsTheFormulaAndFallsBackToZeroAfterRecovery() throws Exception {
        System.setProperty("sun.net.httpserver.nodelay", "true"); // no delayed-ACK waits on loopback
        AtomicBoolean refusing = new AtomicBoolean(true);
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
        Client book = new Client("counting", AdaptiveThrottle.builder("counting").random(seeded::nextDouble).build(), jdk);
        Client proportional = new Client("proportional",
                AdaptiveThrottle.builder("proportional").countDroppedCalls(false).random(seeded2::nextDouble).build(), jdk);
        List<Client> clients = List.of(book, proportional);

        ScheduledExecutorService arrivals = Executors.newScheduledThreadPool(2);
        ExecutorService callers = Executors.newCachedThreadPool();
        long start = System.nanoTime();
        try {
            for (Client c : clients) {
                arrivals.scheduleAtFixedRate(() -> {
                    int slot = (int) ((System.nanoTime() - start) / (1_000_000_000L / SLOTS_PER_SECOND));
                    if (slot < SLOTS) {
                        refusing.set(slot < REFUSING_SECONDS * SLOTS_PER_SECOND);
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
                    c.ratioAt[slot] = c.throttle.dropRatio();
                }
            }
        } finally {
            arrivals.shutdownNow();
            callers.shutdown();
            assertTrue(callers.awaitTermination(30, TimeUnit.SECONDS));
            server.stop(0);
            serverThreads.shutdownNow();
        }
        for (Client c : clients) {
            System.out.println("[throttle loopback] " + c.log());
            // A loopback call may fail on a machine that stalls for seconds; a handful in 4,800 is not the throttle's doing.
            assertTrue(sum(c.errors, 0, SECONDS) <= 10, "calls answered or dropped: " + c.log());
            assertTrue(sum(c.attempts, 0, SECONDS) > SECONDS * RATE * 0.8, "the schedule kept up: " + c.log());
        }

        // Seconds 9-12 (the window is full of the refusing period from second 10 on).
        int from = 9;
        int to = REFUSING_SECONDS;
        for (Client c : clients) {
            double observed = c.dropRate(from, to);
            double formula = mean(c.ratioAt, from * SLOTS_PER_SECOND, to * SLOTS_PER_SECOND);
            double tolerance = fiveSigma(formula, sum(c.attempts, from, to)) + 0.02; // + the sampling's lag
            System.out.printf("[throttle loopback] %s, seconds %d-%d: dropped %.4f of calls, the formula on the"
                    + " window's counts %.4f (tolerance %.3f)%n", c.name, from, to, observed, formula, tolerance);
            assertTrue(Math.abs(observed - formula) < tolerance, c.name + ": observed " + observed + " vs " + formula);
        }
        // Without counting drops: 1 - K a, a measured over the calls sent in the window.
        double a = 1 - (double) sum(proportional.refused, to - 10, to) / sum(proportional.sent, to - 10, to);
        double closedForm = 1 - 1.5 * a;
        double observed = proportional.dropRate(from, to);
        System.out.printf("[throttle loopback] proportional: the dependency accepted %.3f; 1 - K a = %.4f,"
                + " dropped %.4f%n", a, closedForm, observed);
        double closedTolerance = fiveSigma(closedForm, sum(proportional.attempts, from, to)) + 0.03; // + a's own noise
        assertTrue(Math.abs(observed - closedForm) < closedTolerance, "1 - K a = " + closedForm + " vs " + observed
                + " (tolerance " + closedTolerance + "): " + proportional.log());
        // Counting drops, the ratio climbs while the dependency refuses.
        assertTrue(book.dropRate(from, to) > book.dropRate(0, 3), book.log());
        assertTrue(book.dropRate(from, to) > observed, "counting drops sends the dependency less: " + book.log());

        // After recovery.
        for (Client c : clients) {
            System.out.println("[throttle loopback] " + c.name + ": no call dropped from " + c.secondsToNoDrops()
                    + " s after the dependency recovered");
        }
        int proportionalZero = proportional.secondsToNoDrops();
        assertTrue(proportionalZero >= 0 && proportionalZero <= 5, "within a few seconds: " + proportional.log());
        int bookZero = book.secondsToNoDrops();
        assertTrue(bookZero >= 0 && bookZero <= 11, "within the window: " + book.log());
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

    private static double mean(double[] values, int from, int to) {
        double total = 0;
        for (int i = from; i < to; i++) {
            total += values[i];
        }
        return total / (to - from);
    }
}
