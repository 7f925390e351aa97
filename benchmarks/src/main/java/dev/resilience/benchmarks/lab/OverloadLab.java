package dev.resilience.benchmarks.lab;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The overload lab (issue 21): what each protection setup does for a service whose dependency fails
 * or is overloaded, measured on loopback with an open-loop load.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.resilience.benchmarks.lab.OverloadLab \
 *     [--scenario a,a15,b,c,d,m5x4,...] [--setups naive,...,ours-inbound] [--reps 3] [--out benchmarks/lab]
 *     [--runs benchmarks/runs/lab-DATE] [--smoke] [--no-fork]
 *     [--before 3] [--fault 10] [--down 5] [--after 8] [--ramp 16] [--hold 4]
 *     [--workers 4] [--service-ms 20] [--deadline-ms 1000] [--seed 21] [--server-deadline-from arrival|worker]
 * </pre>
 *
 * <p>What it does: starts a JVM of its own with a fixed heap ({@link #JVM_FLAGS}; {@code --no-fork}
 * runs in the calling JVM instead), starts the dependency ({@link LabServer}: {@code workers} workers, service time
 * {@code service-ms}, so a nominal capacity C = workers / service time), measures its capacity
 * (closed loop, 4 callers per worker, for a few seconds) and its unloaded latency (open loop at
 * 0.25 C for {@code unloaded-s} seconds, 30 by default) after warming every setup up (2 s at 0.5 C, not recorded), then runs every scenario with every
 * setup {@code reps} times (the setups' order rotated per repetition). Rates are multiples of the
 * nominal C; the goals and the recovery bar use the measured C.
 *
 * <p>Output: per run a CSV of per-second rows under {@code --runs}, a {@code runs.tsv} with one line
 * per run, {@code summary.md} (in both directories) and {@code <scenario>.svg} under {@code --out}.
 * {@code --smoke} runs one scenario (default {@code a}) with every setup once, with phases of 1-3 s,
 * and writes under {@code benchmarks/lab/smoke} and {@code benchmarks/runs/lab-DATE-smoke} unless
 * told otherwise.
 *
 * <p>Not here: the metastability grid (trigger duration x magnitude). Note for whoever adds
 * it: the {@code naive} setup has no per-attempt timeout, so once latency passes D it has no time
 * left to retry; what keeps its goodput low after a trigger here is the dependency's FIFO backlog of
 * abandoned work, which drains at C minus the offered load, not a retry storm. A retry-driven
 * metastable state needs a client that retries timed-out attempts (a per-attempt timeout below D).
 */
public final class OverloadLab {

    /** Set in the JVM the lab starts for itself. */
    private static final String CHILD = "dev.resilience.lab.child";

    /**
     * The lab's own JVM flags: a fixed 2 GB heap with a 1.5 GB young generation, touched up front,
     * so that (with a full collection before each run) a run rarely collects while the generator
     * keeps time: on 2 cores a young collection took 30-70 ms in trials, which would be the
     * generator's lag. The JVM's periodic "Cleanup" safepoint (one about every second, some over
     * 1 ms on this machine, stopping the generator with every other thread) is switched off
     * ({@code GuaranteedSafepointInterval=0}, a diagnostic flag): safepoints then come only when
     * something needs one (benchmarks/RESULTS.md, "The generator's lag"). The JVM asks the kernel
     * for transparent huge pages ({@code UseTransparentHugePages}: the heap, the code cache and the
     * collector's tables of 2 MB or more in 2 MB pages where the kernel grants them, as
     * {@code -Xlog:pagesize} shows; small pages where it does not): on this project's VM, whose kernel runs a DAMON memory monitor over all physical memory,
     * the generator's lag p99.9 was 12-40 ms in all 25 runs of 2026-12-02 with the monitor on and the
     * heap in 4 KB pages, and 1.2-6.1 ms in 7 of 8 runs with it in 2 MB pages; the unloaded p99, and
     * with it the bar of the 3 C goal, fell too (RESULTS, "The generator's lag again").
     */
    static final List<String> JVM_FLAGS = List.of("-Xms2g", "-Xmx2g", "-Xmn1536m", "-XX:+AlwaysPreTouch",
            "-XX:+UseTransparentHugePages", "-XX:+UnlockDiagnosticVMOptions", "-XX:GuaranteedSafepointInterval=0");

    private OverloadLab() {
    }

    /** Runs the lab in a JVM of its own with {@link #JVM_FLAGS}; returns its exit status. */
    private static int fork(String[] args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-D" + CHILD + "=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(OverloadLab.class.getName());
        cmd.addAll(Arrays.asList(args));
        System.out.println("[lab] starting the lab's JVM: " + String.join(" ", JVM_FLAGS) + " (--no-fork runs in this one)");
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }

    /**
     * Runs the lab; see the class comment for the flags.
     *
     * @param args the flags
     * @throws Exception if the dependency cannot start or the output cannot be written
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = parse(args);
        if (!o.containsKey("no-fork") && System.getProperty(CHILD) == null) {
            System.exit(fork(args));
        }
        boolean smoke = o.containsKey("smoke");
        String date = LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmm"));
        List<String> scenarioNames = list(o.getOrDefault("scenario", smoke ? "a" : String.join(",", Scenario.NAMES)));
        List<String> setups = list(o.getOrDefault("setups", String.join(",", Setup.NAMES)));
        for (String s : setups) {
            if (!Setup.NAMES.contains(s) && !Setup.EXPERIMENTS.contains(s)) {
                throw new IllegalArgumentException("--setups: unknown setup '" + s + "', one of " + Setup.NAMES
                        + " or " + Setup.EXPERIMENTS);
            }
        }
        int reps = intFlag(o, "reps", smoke ? 1 : 3);
        int before = intFlag(o, "before", smoke ? 1 : 3);
        int fault = intFlag(o, "fault", smoke ? 2 : 10);
        int down = intFlag(o, "down", smoke ? 2 : 5);
        int after = intFlag(o, "after", smoke ? 3 : 8);
        int ramp = intFlag(o, "ramp", smoke ? 3 : 16);
        int hold = intFlag(o, "hold", smoke ? 2 : 4);
        int workers = intFlag(o, "workers", 4);
        int serviceMs = intFlag(o, "service-ms", 20);
        int deadlineMs = intFlag(o, "deadline-ms", 1000);
        long seed = intFlag(o, "seed", 21);
        int warmup = intFlag(o, "warmup-s", smoke ? 1 : 2);
        int calibrate = Math.max(2, intFlag(o, "calibrate-s", smoke ? 3 : 5));
        // the unloaded p99 sets the 3 C goal's bar: 30 s at 0.25 C is some 1,450 calls, so the p99 is
        // the 15th slowest (5 s, before 2026-12-03, gave some 200 calls: the bar moved with 2 of them)
        int unloadedSeconds = Math.max(2, intFlag(o, "unloaded-s", smoke ? 3 : 30));
        String fromFlag = o.getOrDefault("server-deadline-from", "arrival");
        if (!fromFlag.equals("arrival") && !fromFlag.equals("worker")) {
            throw new IllegalArgumentException("--server-deadline-from must be arrival or worker: " + fromFlag);
        }
        LabServer.DeadlineFrom from = LabServer.DeadlineFrom.valueOf(fromFlag.toUpperCase(Locale.ROOT));
        Path out = Path.of(o.getOrDefault("out", smoke ? "benchmarks/lab/smoke" : "benchmarks/lab"));
        Path runs = Path.of(o.getOrDefault("runs", "benchmarks/runs/lab-" + date + (smoke ? "-smoke" : "")));
        Files.createDirectories(out);
        Files.createDirectories(runs);

        Map<String, Scenario> scenarios = new LinkedHashMap<>();
        for (String n : scenarioNames) {
            scenarios.put(n, Scenario.of(n, before, fault, down, after, ramp, hold));
        }

        System.setProperty("sun.net.httpserver.nodelay", "true"); // no delayed-ACK stalls on loopback
        long deadlineNanos = deadlineMs * 1_000_000L;
        double loadAvg = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        String monitorAtStart = GeneratorPriority.memoryMonitor();
        try (LabServer server = new LabServer(workers, serviceMs * 1_000_000L, 0.30, 10, from, seed);
             Lab lab = new Lab(server, deadlineNanos)) {
            double nominal = server.nominalCapacity();
            System.out.printf(Locale.ROOT, "[lab] dependency on port %d: %d workers x %d ms service = nominal C %.0f/s;"
                    + " D = %d ms; deadline clock at the dependency from %s%n", server.port(), workers, serviceMs,
                    nominal, deadlineMs, from.name().toLowerCase(Locale.ROOT));
            Scenario warm = constant("warm-up", 0.5, warmup);
            for (String s : setups) { // JIT and connection pools warm before anything is measured
                lab.run(warm, nominal, http -> Setup.create(s, http, seed));
            }
            double capacity = measureCapacity(lab, server, calibrate);
            Scenario unloadedLoad = constant("unloaded", 0.25, unloadedSeconds);
            RunStats unloaded = lab.run(unloadedLoad, nominal, http -> Setup.create("naive", http, seed));
            Histogram u = RunStats.merged(unloaded.okMicros, 1, unloadedLoad.duration);
            double unloadedP50 = u.getValueAtPercentile(50) / 1000.0;
            double unloadedP99 = u.getValueAtPercentile(99) / 1000.0;
            long unloadedCalls = u.getTotalCount();
            System.out.printf(Locale.ROOT, "[lab] measured C %.1f/s; unloaded (0.25 C, open loop, %d calls) p50 %.2f ms, p99 %.2f ms%n",
                    capacity, unloadedCalls, unloadedP50, unloadedP99);

            List<RunResult> results = new ArrayList<>();
            StringBuilder tsv = new StringBuilder("scenario\tsetup\trep\tgoodput_window\tsuccess_rate\tgoodput_after\t"
                    + "ok_p50_ms\tok_p99_ms\tanswered_p99_ms\tamplification\tserver_amplification\twasted_pct\trefused\t"
                    + "refused_p99_ms\trecovery_s\tdispatch_lag_p999_ms\tstart_lag_p999_ms\tgc_count\tgc_ms\toverflow\tgoal_met\t"
                    + "amplification_sent\tok_p99_after_ms\twasted_run_pct\trefused_from_intended_p99_ms\n");
            double worstDispatchLag = 0;
            double worstStartLag = 0;
            for (int rep = 1; rep <= reps; rep++) {
                for (Scenario sc : scenarios.values()) {
                    for (int i = 0; i < setups.size(); i++) {
                        String setup = setups.get((i + rep - 1) % setups.size()); // rotated per repetition
                        long runSeed = seed * 1_000_003L + rep * 7919L + sc.name.hashCode() * 31L + setup.hashCode();
                        RunStats st = lab.run(sc, nominal, http -> Setup.create(setup, http, runSeed));
                        RunResult r = new RunResult(sc, setup, rep, st, capacity, unloadedP99, deadlineMs);
                        results.add(r);
                        Report.writeCsv(runs.resolve(sc.name + "-" + setup + "-r" + rep + ".csv"), sc, st);
                        tsv.append(tsvLine(r));
                        worstDispatchLag = Math.max(worstDispatchLag, r.dispatchLagP999Ms);
                        worstStartLag = Math.max(worstStartLag, r.startLagP999Ms);
                        System.out.println("[lab] " + r.line());
                    }
                }
            }
            Files.writeString(runs.resolve("runs.tsv"), tsv.toString(), StandardCharsets.UTF_8);
            String monitorAtEnd = GeneratorPriority.memoryMonitor();
            String monitor = monitorAtStart.equals(monitorAtEnd) ? monitorAtStart
                    : "at the start " + monitorAtStart + "; at the end " + monitorAtEnd + " (changed during the lab)";
            String header = header(date, smoke, workers, serviceMs, nominal, capacity, unloadedCalls, unloadedP50, unloadedP99, deadlineMs,
                    from, reps, before, fault, down, after, ramp, hold, loadAvg, worstDispatchLag, worstStartLag, lab.generatorScheduling(),
                    monitor, runs, args);
            String summary = Report.summary(results, scenarios, setups, header);
            Files.writeString(out.resolve("summary.md"), summary, StandardCharsets.UTF_8);
            Files.writeString(runs.resolve("summary.md"), summary, StandardCharsets.UTF_8);
            for (Scenario sc : scenarios.values()) {
                if (sc.isGridCell()) {
                    continue;
                }
                Map<String, List<RunResult>> bySetup = new LinkedHashMap<>();
                for (String s : setups) {
                    bySetup.put(s, Report.runsOf(results, sc, s));
                }
                Files.writeString(out.resolve(sc.name + ".svg"), Report.svg(sc, bySetup, capacity), StandardCharsets.UTF_8);
            }
            System.out.printf(Locale.ROOT, "[lab] generator lag p99.9, worst run: dispatch %.3f ms, caller start %.3f ms;"
                    + " generator at %s; the kernel's memory monitor: %s%n", worstDispatchLag, worstStartLag,
                    lab.generatorScheduling(), monitor);
            System.out.println("[lab] wrote " + out.resolve("summary.md") + ", " + scenarios.values().stream().filter(sc -> !sc.isGridCell()).count() + " chart(s) in " + out
                    + ", per-second rows in " + runs);
        }
    }

    /**
     * The dependency's capacity, measured: 4 callers per worker in a closed loop (each sends its next
     * request when the last one is answered, so the queue never empties) for {@code seconds}; the
     * count of 200s answered in the last {@code seconds - 1} seconds (the first is a ramp-up), per second.
     */
    private static double measureCapacity(Lab lab, LabServer server, int seconds) throws InterruptedException {
        int callers = 4 * server.workers();
        long start = System.nanoTime();
        long countFrom = start + 1_000_000_000L;
        long end = start + seconds * 1_000_000_000L;
        RunStats scratch = new RunStats(start, seconds + 2, seconds + 2);
        LabHttp http = new LabHttp(scratch, lab.uri());
        AtomicLong ok = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(callers, Lab.daemonThreads("lab-capacity"));
        for (int i = 0; i < callers; i++) {
            pool.execute(() -> {
                while (System.nanoTime() - end < 0) {
                    try {
                        HttpResponse<Void> r = http.attempt(System.nanoTime() + 5_000_000_000L, Long.MAX_VALUE);
                        long now = System.nanoTime();
                        if (r.statusCode() == 200 && now - countFrom >= 0 && now - end < 0) {
                            ok.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // not counted: the capacity is what the dependency answers successfully
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(seconds + 10L, TimeUnit.SECONDS);
        server.awaitIdle(10_000_000_000L);
        return ok.get() / (seconds - 1.0);
    }

    /** A constant load without a fault, for calibration and warm-up. */
    private static Scenario constant(String name, double load, int seconds) {
        return Scenario.constant(name, load, seconds);
    }

    private static String tsvLine(RunResult r) {
        return String.format(Locale.ROOT, "%s\t%s\t%d\t%.2f\t%.4f\t%.2f\t%.2f\t%.2f\t%.2f\t%.3f\t%.3f\t%.2f\t%d\t%.3f\t%d\t%.3f\t%.3f\t%d\t%d\t%d\t%s"
                        + "\t%.3f\t%.2f\t%.2f\t%.3f%n",
                r.scenario, r.setup, r.rep, r.goodputFault, r.successRate, r.goodputAfter, r.okP50Ms, r.okP99Ms,
                r.answeredP99Ms, r.amplification, r.serverAmplification, 100 * r.wastedShare, r.refused, r.refusedP99Ms,
                r.recovery, r.dispatchLagP999Ms, r.startLagP999Ms, r.gcCount, r.gcMillis, r.overflow, r.goalMet,
                r.amplificationSent, r.okP99AfterMs, 100 * r.wastedShareRun, r.refusedFromIntendedP99Ms);
    }

    private static String header(String date, boolean smoke, int workers, int serviceMs, double nominal, double capacity,
            long unloadedCalls, double unloadedP50, double unloadedP99, int deadlineMs, LabServer.DeadlineFrom from, int reps, int before,
            int fault, int down, int after, int ramp, int hold, double loadAvg, double dispatchLag, double startLag,
            String scheduling, String monitor, Path runs, String[] args) {
        return String.format(Locale.ROOT, "# Overload lab%s, %s UTC%n%n"
                        + "Command: `java -cp benchmarks/target/benchmarks.jar dev.resilience.benchmarks.lab.OverloadLab %s`"
                        + "; JDK %s, %d cores, load average %.2f at the start. Per-second rows: `%s`.%n%n"
                        + "- Dependency: JDK HttpServer on loopback, %d workers x %d ms service time: nominal C = %.0f/s,"
                        + " measured C = %.1f/s (closed loop); unloaded latency at 0.25 C (open loop, %d calls): p50 %.2f ms,"
                        + " p99 %.2f ms. Its `grpc-timeout` clock starts at %s.%n"
                        + "- Client deadline D = %d ms for every setup; latency from each call's intended send time;"
                        + " goodput = calls that got a 2xx within D, filed under the second they were offered.%n"
                        + "- Phases: %d s before the fault, %d s of fault (%d s down in c), %d s after; d ramps over %d s"
                        + " after %d s at 0.5 C and holds 3 C for %d s. %d repetition(s) per setup and scenario.%n"
                        + "- Generator lag p99.9, worst run: dispatch %.3f ms, caller thread start %.3f ms (goal <= 1 ms);"
                        + " generator thread at %s; the kernel's memory monitor: %s.%n"
                        + "- Windows: the fault's seconds (d: the seconds at 3 C); percentiles are of the calls offered"
                        + " in them (\"after\": of the calls offered after the fault). Wasted = the dependency's busy time"
                        + " on requests whose caller had given up when the work ended, as a share of all its busy time,"
                        + " for the requests that arrived in the window (and over the whole run). Amplification ="
                        + " attempts sent / calls offered, and attempts / calls that sent at least one, in the window.%n",
                smoke ? " (smoke: seconds-long phases, not results)" : "", date, String.join(" ", args),
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), loadAvg, runs,
                workers, serviceMs, nominal, capacity, unloadedCalls, unloadedP50, unloadedP99, from.name().toLowerCase(Locale.ROOT),
                deadlineMs, before, fault, down, after, ramp, before, hold, reps, dispatchLag, startLag, scheduling,
                monitor);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected a flag, got '" + a + "'");
            }
            String key = a.substring(2);
            if (key.equals("smoke") || key.equals("no-fork")) {
                o.put(key, "true");
            } else if (i + 1 < args.length) {
                o.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + key + " needs a value");
            }
        }
        return o;
    }

    private static List<String> list(String v) {
        return Arrays.asList(v.split(","));
    }

    private static int intFlag(Map<String, String> o, String name, int otherwise) {
        String v = o.get(name);
        if (v == null) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new IllegalArgumentException("--" + name + " must not be negative: " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number: " + v, e);
        }
    }
}
