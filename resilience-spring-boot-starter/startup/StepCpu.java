import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.*;
import java.util.function.Supplier;
import org.springframework.boot.Banner;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.metrics.ApplicationStartup;
import org.springframework.core.metrics.StartupStep;

/**
 * The starting thread's CPU per Spring startup step, self time (a step's own CPU minus its child steps'),
 * bean by bean: an {@code ApplicationStartup} that reads the thread's CPU clock at each step's start and
 * end. Starts examples/spring-boot-checkout's CheckoutApplication with Spring Boot's arguments, prints
 * {@code TOTALCPU <ms>}, one {@code STEP <name> <self ms> <bean>} line per step and the CPU outside any
 * step, then closes. Compile and jar it against the example's class path (a CDS archive takes classes
 * from jars only): {@code javac -d cls -cp "$(cat cp.txt)" StepCpu.java && jar cf stepcpu.jar -C cls .};
 * run it with and without the starter's auto-configurations (starts.py's exclusion), alternately, and
 * compare with {@code steps.py DIR}. See README, "Startup cost", and benchmarks/RESULTS.md, "Spring Boot starter: startup cost", session 19.
 */
public final class StepCpu implements ApplicationStartup {
    static final ThreadMXBean T = ManagementFactory.getThreadMXBean();
    final Thread main = Thread.currentThread();
    final Deque<Step> stack = new ArrayDeque<>();
    final List<Step> done = new ArrayList<>();
    long ids;

    final class Step implements StartupStep {
        final String name; final long id; final Long parent; final StringBuilder tags = new StringBuilder();
        long start = T.getCurrentThreadCpuTime(), child;
        Step(String name, Long parent) { this.name = name; this.id = ids++; this.parent = parent; }
        public String getName() { return name; }
        public long getId() { return id; }
        public Long getParentId() { return parent; }
        public StartupStep tag(String k, String v) { if (k.equals("beanName")) tags.append(v); return this; }
        public StartupStep tag(String k, Supplier<String> v) { return tag(k, v.get()); }
        public Tags getTags() { return Collections::emptyIterator; }
        public void end() {
            long d = T.getCurrentThreadCpuTime() - start;
            stack.remove(this);
            Step p = stack.peek();
            if (p != null) p.child += d;
            self = d - child; done.add(this);
        }
        long self;
    }
    public StartupStep start(String name) {
        if (Thread.currentThread() != main) return ApplicationStartup.DEFAULT.start(name);
        Step s = new Step(name, stack.isEmpty() ? null : stack.peek().id);
        stack.push(s);
        return s;
    }

    public static void main(String[] args) throws Exception {
        StepCpu probe = new StepCpu();
        Class<?> app = Class.forName("dev.resilience.examples.boot.CheckoutApplication");
        long c0 = T.getCurrentThreadCpuTime();
        try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(app).bannerMode(Banner.Mode.OFF)
                .logStartupInfo(false).applicationStartup(probe).run(args)) {
            long cpu = (T.getCurrentThreadCpuTime() - c0);
            System.out.printf("TOTALCPU %.3f beans %d%n", cpu / 1e6, ctx.getBeanDefinitionCount());
            long steps = 0;
            for (Step s : probe.done) { steps += s.self; System.out.printf("STEP %s %.3f %s%n", s.name, s.self / 1e6, s.tags); }
            System.out.printf("STEP (outside-steps) %.3f %n", (cpu - steps) / 1e6);
        }
    }
}
