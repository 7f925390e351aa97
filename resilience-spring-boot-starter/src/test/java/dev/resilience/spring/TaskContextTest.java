package dev.resilience.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;

/** The caller's context in {@code @Async} methods, as {@code resilience.spring.task-context} says. */
class TaskContextTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @EnableAsync
    static class App {
        @Bean
        Worker worker() {
            return new Worker();
        }
    }

    /** Reports what it sees of its context, after the caller has cancelled its own. */
    static class Worker {
        @Async
        public CompletableFuture<String> report(CountDownLatch callerCancelled) throws InterruptedException {
            Context context = Context.current();
            String deadline = context.deadline().isPresent() ? "deadline" : "no deadline";
            callerCancelled.await(10, TimeUnit.SECONDS);
            return CompletableFuture.completedFuture(deadline + ", " + (context.isDone() ? "done" : "not done"));
        }
    }

    private static String seenBy(String mode) throws Exception {
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .properties(mode == null ? new String[0] : new String[] {"resilience.spring.task-context=" + mode}).run()) {
            Worker worker = app.getBean(Worker.class);
            CountDownLatch cancelled = new CountDownLatch(1);
            CompletableFuture<String> seen;
            try (CancelHandle request = Context.current().withTimeout(Duration.ofSeconds(30)); Scope s = request.attach()) {
                seen = worker.report(cancelled);
                request.cancel();
            }
            cancelled.countDown();
            return seen.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void byDefaultTheTaskCarriesValuesOnlyAndOutlivesItsCaller() throws Exception {
        assertEquals("no deadline, not done", seenBy(null));
    }

    @Test
    void fullRunsTheTaskInTheCallersContext() throws Exception {
        assertEquals("deadline, done", seenBy("full"));
    }

    @Test
    void noneRunsTheTaskInTheBackground() throws Exception {
        assertEquals("no deadline, not done", seenBy("none"));
    }
}
