package dev.resilience.examples.boot;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.Banner;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One start of {@link CheckoutApplication} as it runs (Tomcat, Actuator, Prometheus, the starter's
 * guards), for the starter's startup measurements ({@code resilience-spring-boot-starter/startup/},
 * {@code STARTUP_APP=checkout}): prints {@code startup-ms=<ms>} for the context's start (wall clock)
 * and {@code cpu-ms=<ms>} for the starting thread's CPU, then closes the application. Arguments go to
 * Spring Boot ({@code --server.port=0 --payments.url=...}; the auto-configuration exclusion for the
 * start without the starter).
 */
public final class CheckoutStartup {

    private CheckoutStartup() {
    }

    /**
     * Starts, prints, closes.
     *
     * @param args Spring Boot's arguments
     */
    public static void main(String[] args) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(CheckoutApplication.class)
                .bannerMode(Banner.Mode.OFF).logStartupInfo(false).run(args)) {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            long cpuMs = TimeUnit.NANOSECONDS.toMillis(threads.getCurrentThreadCpuTime() - cpuStart);
            // Which class answers: a proxy with the starter, the plain service without it.
            String answer = context.getBean(PaymentService.class).getClass().getSimpleName().replaceAll("\\W", "_");
            System.out.println("startup-ms=" + ms + " cpu-ms=" + cpuMs + " answer=" + answer);
        }
    }
}
