package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.Retry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * What the starter adds to an application's context startup, measured in fresh JVMs (class loading
 * included, as a real start pays it): the same application with the starter's auto-configuration and
 * without it, alternately, 5 times each; the medians must differ by under 100 ms. Each run's figures
 * go to this test's output file (target/surefire-reports/...StartupCostTest-output.txt).
 */
class StartupCostTest {

    private static final int RUNS = 5;
    private static final String EXCLUDE = "--spring.autoconfigure.exclude="
            + "dev.resilience.spring.autoconfigure.ResilienceAutoConfiguration,"
            + "dev.resilience.spring.autoconfigure.ResilienceWebAutoConfiguration,"
            + "dev.resilience.spring.autoconfigure.ResilienceActuatorAutoConfiguration,"
            + "dev.resilience.spring.autoconfigure.ResilienceWebFluxAutoConfiguration,"
            + "dev.resilience.spring.autoconfigure.ResilienceCloudAutoConfiguration";

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        Annotated annotated() {
            return new Annotated();
        }
    }

    static class Annotated {
        @Retry(name = "payments")
        @CircuitBreaker(name = "payments", fallbackMethod = "fallback")
        public String pay() {
            return "paid";
        }

        String fallback(Exception e) {
            return "queued";
        }
    }

    /** One start: prints {@code startup-ms=<ms>} for the context's refresh, then exits. */
    public static void main(String[] args) {
        long start = System.nanoTime();
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .bannerMode(org.springframework.boot.Banner.Mode.OFF).logStartupInfo(false).run(args)) {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String answer = context.getBean(Annotated.class).pay();
            System.out.println("startup-ms=" + ms + " answer=" + answer);
        }
    }

    private static long start(boolean withStarter) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-cp", System.getProperty("java.class.path"), StartupCostTest.class.getName(),
                "--resilience.retry.payments.max-attempts=3", "--resilience.circuitbreaker.payments.consecutive-failures=5",
                "--resilience.ratelimiter.api.rate=50/s", "--resilience.bulkhead.api.max-concurrent=10",
                "--logging.level.root=WARN"));
        if (!withStarter) {
            command.add(EXCLUDE);
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("startup-ms=(\\d+) answer=(\\w+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(withStarter ? "paid" : "paid", m.group(2));
        return Long.parseLong(m.group(1));
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    @Test
    void theStarterAddsUnder100msToContextStartup() throws Exception {
        start(true); // warms the file cache for both
        start(false);
        List<Long> with = new ArrayList<>();
        List<Long> without = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            with.add(start(true));
            without.add(start(false));
        }
        long added = median(with) - median(without);
        System.out.println("[startup] with starter ms=" + with + " median=" + median(with)
                + "; without ms=" + without + " median=" + median(without) + "; added median=" + added + " ms");
        assertTrue(added < 100, "the starter added " + added + " ms: with " + with + ", without " + without);
    }
}
