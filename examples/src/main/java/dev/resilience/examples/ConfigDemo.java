package dev.resilience.examples;

import dev.resilience.core.ConfigCheck;
import dev.resilience.core.ConfigurationException;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.observability.ResilienceTelemetry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named instances from a properties file: a registry built from {@code examples/config/checkout.properties},
 * a configured pipeline called through, every instance bound to telemetry in one call each, a live
 * rate change, and {@code examples/config/broken.properties} with five mistakes reported at once.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.ConfigDemo}
 */
public final class ConfigDemo {

    private ConfigDemo() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0])
                : Files.isDirectory(Path.of("examples", "config")) ? Path.of("examples", "config") : Path.of("config");
        run(System.out, dir);
    }

    /** What the demo showed, for its smoke test. */
    record Outcome(int served, int afterRetry, double rateBefore, double rateAfter, int problems, int checkExit) {
    }

    static Outcome run(PrintStream out, Path configDir) throws Exception {
        Properties good = load(configDir.resolve("checkout.properties"));
        ResilienceRegistry registry = ResilienceRegistry.of(good);
        out.println("[config] checkout.properties: valid");

        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ResilienceTelemetry telemetry = ResilienceTelemetry.builder().meterRegistry(meters).build();
        Pipeline<String> payments = registry.pipeline("payments");
        out.println("[config] pipeline payments: " + payments.policyNames() + " " + payments.kinds());
        for (Policy p : new Policy[] {registry.retry("payments"), registry.circuitBreaker("payments"),
                registry.rateLimiter("payments"), registry.timeout("short"), registry.adaptiveLimiter("payments")}) {
            telemetry.bind(p);
        }
        telemetry.bind(payments);

        AtomicInteger attempts = new AtomicInteger();
        int served = 0;
        int afterRetry = 0;
        for (int i = 0; i < 5; i++) {
            int call = i;
            String r = payments.call(() -> {
                if (call == 2 && attempts.incrementAndGet() == 1) {
                    throw new IOException("a transient failure");  // the configured retry takes it
                }
                return "receipt " + call;
            });
            served++;
            if (call == 2) {
                afterRetry++;
            }
            out.println("[call] " + r);
        }
        double retries = meters.get("resilience.retry.retries").tag("name", "payments").counter().count();
        out.printf("[metrics] resilience.retry.retries{name=payments} = %.0f, pipeline calls = %.0f%n", retries,
                meters.get("resilience.pipeline.calls").tag("name", "payments").tag("outcome", "success").counter().count());

        RateLimiter limiter = registry.rateLimiter("payments");
        double before = limiter.rate();
        Properties changed = new Properties();
        changed.putAll(good);
        changed.setProperty("resilience.ratelimiter.payments.rate", "80/s");
        ResilienceRegistry.ReloadResult reload = registry.reload(changed);
        out.println("[reload] applied " + reload.applied() + ", needs a restart " + reload.needsRestart()
                + "; rate " + before + " -> " + limiter.rate() + " on the same limiter");

        Path broken = configDir.resolve("broken.properties");
        int problems = 0;
        try {
            ResilienceRegistry.of(load(broken));
        } catch (ConfigurationException e) {
            problems = e.problems().size();
            out.println("[config] broken.properties: " + problems + " problems, all reported at once:");
            e.problems().forEach(p -> out.println("  " + p));
        }
        int exit = ConfigCheck.run(new String[] {broken.toString()}, out, out);
        out.println("[configcheck] exit code " + exit + " (1: problems found)");
        out.printf("[summary] served=%d retried=%d reloaded=%s problems=%d all-five-reported=%s%n", served,
                (int) retries, limiter.rate() == 80.0, problems, problems == 5 && exit == 1);
        return new Outcome(served, afterRetry, before, limiter.rate(), problems, exit);
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        return p;
    }
}
