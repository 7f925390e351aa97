package dev.resilience.examples.boot;

import dev.resilience.context.DeadlineHeaders;
import dev.resilience.context.Registration;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.CircuitBreakerListener;
import dev.resilience.core.ResilienceRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.web.client.RestClient;

/**
 * The flagship's scenario on Spring Boot: starts payments (a flaky JDK {@code HttpServer} on
 * loopback) and {@link CheckoutApplication} on a random port, calls {@code /checkout} from four
 * threads with {@code grpc-timeout: 600m} while payments goes healthy, errors, latency spikes, an
 * outage, healthy again; prints a line a second, the breaker's transitions, then what
 * {@code /actuator/resilience} and {@code /actuator/prometheus} say, and {@code [summary]} lines
 * whose checks are true when the guards did their job. Then it closes the application.
 *
 * <p>Run from the repository root: {@code mvn -B -q -pl examples/spring-boot-checkout -am compile
 * exec:java} (about 8 s of scenario, plus Spring Boot's start; {@code -Dexec.args="--duration 20"}
 * for longer). Other arguments go to Spring Boot, e.g.
 * {@code --resilience.circuitbreaker.payments.open-duration=3s}.
 */
public final class SpringCheckoutDemo {

    /** The scenario's length without {@code --duration}. */
    static final Duration DEFAULT_DURATION = Duration.ofSeconds(8);
    /** The deadline each checkout call brings, as {@code grpc-timeout}. */
    static final Duration CALLER_DEADLINE = Duration.ofMillis(600);
    /** The shortest phase. */
    static final Duration MIN_PHASE = Duration.ofSeconds(1);
    /** The last healthy phase lasts at least this: the breaker's 1 s open duration, then its probes. */
    static final Duration RECOVERY = Duration.ofMillis(2500);

    /** One phase of the script: payments' mode for a while. */
    record Phase(FlakyPayments.Mode mode, Duration length) {
    }

    /**
     * What happened.
     *
     * @param requests checkout calls answered or failed
     * @param paid calls answered 200
     * @param queued calls answered 202 (the fallback)
     * @param breakerStates the breaker's states, in order, from its listener
     * @param checks the summary's checks by name
     */
    record Outcome(int requests, int paid, int queued, List<CircuitBreaker.State> breakerStates,
            Map<String, Boolean> checks) {
    }

    private SpringCheckoutDemo() {
    }

    /**
     * Runs the scenario on {@code System.out}.
     *
     * @param args {@code --duration N} (seconds, default 8); other arguments go to Spring Boot
     * @throws Exception if the application or payments cannot start
     */
    public static void main(String[] args) throws Exception {
        run(System.out, args);
    }

    /**
     * Runs the scenario, printing to {@code out}.
     *
     * @param out where the progress and the summary go
     * @param args {@code --duration N} (seconds); other arguments go to Spring Boot
     * @return what happened
     * @throws Exception if the application or payments cannot start
     * @throws IllegalArgumentException if {@code --duration} is not a number of seconds from 3 to 600
     *     (nothing is started then)
     */
    static Outcome run(PrintStream out, String... args) throws Exception {
        Duration total = DEFAULT_DURATION;
        List<String> springArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--duration") || args[i].startsWith("--duration=")) {
                String value = args[i].startsWith("--duration=") ? args[i].substring("--duration=".length())
                        : i + 1 < args.length ? args[++i] : "";
                total = duration(value);
            } else {
                springArgs.add(args[i]);
            }
        }
        List<Phase> script = script(total);

        try (FlakyPayments payments = new FlakyPayments()) {
            long started = System.nanoTime();
            Map<String, Object> defaults = new LinkedHashMap<>();
            defaults.put("payments.url", payments.url());
            defaults.put("server.port", "0");               // a free port
            defaults.put("spring.main.banner-mode", "off"); // the demo's output, not Spring's
            defaults.put("logging.level.root", "warn");
            try (ConfigurableApplicationContext app = new SpringApplicationBuilder(CheckoutApplication.class)
                    .properties(defaults).run(springArgs.toArray(String[]::new))) {
                return drive(out, app, payments, script, started);
            }
        }
    }

    /** {@code --duration}'s value: seconds, 3 to 600. */
    private static Duration duration(String seconds) {
        double s;
        try {
            s = Double.parseDouble(seconds);
        } catch (NumberFormatException e) {
            s = Double.NaN;
        }
        if (!(s >= 3 && s <= 600)) {
            throw new IllegalArgumentException("--duration must be a number of seconds from 3 to 600: '" + seconds + "'");
        }
        return Duration.ofMillis((long) (s * 1000));
    }

    /**
     * The flagship's script stretched to {@code total}: healthy, errors, latency spikes, an outage,
     * healthy again, a fifth each; each phase at least {@link #MIN_PHASE} (enough calls for the
     * breaker's window), the last at least {@link #RECOVERY}.
     */
    static List<Phase> script(Duration total) {
        Duration phase = total.dividedBy(5).compareTo(MIN_PHASE) < 0 ? MIN_PHASE : total.dividedBy(5);
        return List.of(new Phase(FlakyPayments.Mode.HEALTHY, phase), new Phase(FlakyPayments.Mode.ERRORS, phase),
                new Phase(FlakyPayments.Mode.SPIKES, phase), new Phase(FlakyPayments.Mode.OUTAGE, phase),
                new Phase(FlakyPayments.Mode.HEALTHY, phase.compareTo(RECOVERY) < 0 ? RECOVERY : phase));
    }

    private static Outcome drive(PrintStream out, ConfigurableApplicationContext app, FlakyPayments payments,
            List<Phase> script, long started) throws Exception {
        String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
        out.printf("[demo] checkout %s/checkout on Spring Boot (started in %d ms), payments %s/pay%n", base,
                Duration.ofNanos(System.nanoTime() - started).toMillis(), payments.url());
        out.printf("[demo] guards from application.yml: fallback 'queued' > retry (3 attempts, budget 20%%) > breaker"
                + " (50%% of the last 50) > rate limiter > timeout (250 ms an attempt) > bulkhead%n");
        out.printf("[demo] each checkout call brings a %d ms deadline (grpc-timeout: %s); payments stops at the one it gets%n",
                CALLER_DEADLINE.toMillis(), DeadlineHeaders.encodeGrpcTimeout(CALLER_DEADLINE));

        ResilienceRegistry registry = app.getBean(ResilienceRegistry.class);
        List<CircuitBreaker.State> states = new CopyOnWriteArrayList<>();
        Registration listening = registry.circuitBreaker("payments").addListener(new CircuitBreakerListener() {
            @Override
            public void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to) {
                states.add(to);
                out.printf("[breaker] %s -> %s%n", from, to);
            }
        });
        RestClient actuator = app.getBean(RestClient.Builder.class).baseUrl(base + "/actuator").build();

        Load load = new Load(URI.create(base + "/checkout"));
        load.warmUp(); // one call first: a cold JVM's first call can take longer than the 250 ms timeout
        load.start(4);
        try {
            int second = 0;
            for (Phase p : script) {
                payments.mode.set(p.mode());
                out.printf("[demo] payments: %s for %d ms%n", p.mode(), p.length().toMillis());
                long end = System.nanoTime() + p.length().toNanos();
                for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
                    Thread.sleep(Math.max(1, Math.min(1000, left / 1_000_000)));
                    Map<String, Object> breaker = actuator.get().uri("/resilience/payments").retrieve().body(MAP);
                    out.printf("[%3ds] %-8s requests %5d  paid %5d  queued %5d  breaker %-9s  %s%n", ++second,
                            p.mode(), load.requests.get(), load.paid.get(), load.queued.get(),
                            breaker == null ? "?" : breaker.get("state"), load.percentiles());
                }
            }
        } finally {
            load.stop();
            listening.remove();
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        Map<String, Object> instances = actuator.get().uri("/resilience").retrieve().body(MAP);
        String prometheus = actuator.get().uri("/prometheus").retrieve().body(String.class);
        Map<String, Object> health = actuator.get().uri("/health").retrieve().body(MAP);
        out.println("[actuator] /actuator/resilience:");
        if (instances != null) {
            instances.forEach((kind, byName) -> out.printf("    %-16s %s%n", kind, byName));
        }
        out.printf("[actuator] /actuator/health: %s%n", health == null ? "?" : health.get("components") instanceof Map<?, ?> c
                ? c.get("resilience") : health.get("status"));
        out.println("[actuator] /actuator/prometheus (the payments instances' counters):");
        List<String> meters = prometheus == null ? List.of() : prometheus.lines()
                .filter(l -> l.startsWith("resilience_") && l.contains("name=\"payments\"") && !l.endsWith(" 0.0")
                        && (l.contains("_total") || l.startsWith("resilience_circuitbreaker_state")))
                .toList();
        meters.forEach(l -> out.println("    " + l));

        double retries = sample(prometheus, "resilience_retry_retries_total{name=\"payments\"}");
        double budgetRefused = sample(prometheus, "resilience_retry_gave_up_total{name=\"payments\",reason=\"budget\"}");
        double opened = sample(prometheus,
                "resilience_circuitbreaker_transitions_total{from=\"closed\",name=\"payments\",to=\"open\"}")
                + sample(prometheus, "resilience_circuitbreaker_transitions_total{from=\"half_open\",name=\"payments\",to=\"open\"}");
        int calls = load.paid.get() + load.queued.get();
        // The budget: retries <= 20 % of the calls + 5 a second since it was made + the 20 it may save up.
        double budget = 0.2 * calls + 5 * Math.ceil(seconds + 1) + 20;
        Object endpointBreaker = instances == null || !(instances.get("circuitBreakers") instanceof Map<?, ?> b)
                ? null : b.get("payments");

        Map<String, Boolean> checks = new LinkedHashMap<>();
        checks.put("breaker_opened", states.contains(CircuitBreaker.State.OPEN));
        checks.put("breaker_closed_again", !states.isEmpty() && states.get(states.size() - 1) == CircuitBreaker.State.CLOSED);
        checks.put("fallback_answered", load.queuedBy.containsKey("breaker open") && load.paid.get() > 0);
        checks.put("every_request_answered", load.failed.get() == 0 && load.requests.get() == calls);
        checks.put("deadline_propagated", payments.requests.get() > 0
                && payments.withDeadline.get() == payments.requests.get()
                && payments.longestDeadlineNanos.get() <= CALLER_DEADLINE.toNanos());
        checks.put("retries_within_budget", retries > 0 && retries <= budget);
        checks.put("endpoint_shows_breaker", endpointBreaker instanceof Map<?, ?> m && "CLOSED".equals(m.get("state")));
        checks.put("prometheus_counted_openings", opened >= 1);

        out.printf("[summary] requests=%d paid=%d queued=%d failed=%d seconds=%.1f%n", load.requests.get(),
                load.paid.get(), load.queued.get(), load.failed.get(), seconds);
        out.printf("[summary] queued_by=%s%n", new TreeMap<>(load.queuedBy).entrySet().stream()
                .map(e -> e.getKey().replace(' ', '_') + ":" + e.getValue()).collect(Collectors.joining(",")));
        out.printf("[summary] breaker_states=%s retries=%.0f retries_refused_by_budget=%.0f payments_requests=%d"
                + " payments_stopped_at_deadline=%d longest_deadline_received_ms=%d%n",
                states.stream().map(Enum::name).collect(Collectors.joining(">")), retries, budgetRefused,
                payments.requests.get(), payments.stoppedAtDeadline.get(),
                payments.longestDeadlineNanos.get() / 1_000_000);
        out.println("[summary] " + checks.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" ")));
        return new Outcome(load.requests.get(), load.paid.get(), load.queued.get(), List.copyOf(states), checks);
    }

    private static final ParameterizedTypeReference<Map<String, Object>> MAP = new ParameterizedTypeReference<>() {
    };

    /** The value of the Prometheus sample {@code series} (name and labels as printed), or 0. */
    private static double sample(String scrape, String series) {
        if (scrape == null) {
            return 0;
        }
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** The callers: threads calling checkout with a deadline, counting its answers. */
    private static final class Load {
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger paid = new AtomicInteger();
        final AtomicInteger queued = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final Map<String, AtomicInteger> queuedBy = new ConcurrentHashMap<>();
        private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        private final URI checkout;

        Load(URI checkout) {
            this.checkout = checkout;
        }

        /** One call, counted nowhere. */
        void warmUp() throws IOException, InterruptedException {
            client.send(request("warm-up"), HttpResponse.BodyHandlers.discarding());
        }

        private HttpRequest request(String order) {
            return HttpRequest.newBuilder(URI.create(checkout + "?order=" + order))
                    .header(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(CALLER_DEADLINE))
                    .timeout(Duration.ofSeconds(10)).build();
        }

        void start(int callers) {
            for (int i = 0; i < callers; i++) {
                int caller = i;
                Thread t = new Thread(() -> call(caller), "caller-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void call(int caller) {
            for (int n = 0; running.get(); n++) {
                HttpRequest request = request(caller + "-" + n);
                long start = System.nanoTime();
                try {
                    HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        paid.incrementAndGet();
                    } else if (r.statusCode() == 202) {
                        queued.incrementAndGet();
                        String body = r.body();
                        String reason = body.substring(body.indexOf('(') + 1, body.length() - 1);
                        queuedBy.computeIfAbsent(reason, k -> new AtomicInteger()).incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                } catch (IOException e) {
                    failed.incrementAndGet();
                } catch (InterruptedException e) {
                    return;
                }
                requests.incrementAndGet();
                latencies.add(System.nanoTime() - start);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }

        /** p50 and p99 of the latencies since the last call. */
        String percentiles() {
            List<Long> taken = new ArrayList<>();
            for (Long l = latencies.poll(); l != null; l = latencies.poll()) {
                taken.add(l);
            }
            if (taken.isEmpty()) {
                return "p50 -  p99 -";
            }
            long[] sorted = taken.stream().mapToLong(Long::longValue).toArray();
            Arrays.sort(sorted);
            return String.format("p50 %4d ms  p99 %4d ms", sorted[sorted.length / 2] / 1_000_000,
                    sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * 0.99) - 1)] / 1_000_000);
        }
    }
}
