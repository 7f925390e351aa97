package dev.resilience.benchmarks.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Draws the lab's charts again from a recorded run's files, without running anything: the
 * per-second CSVs ({@code <scenario>-<setup>-r<rep>.csv}) and the measured capacity and phase
 * lengths in its {@code summary.md}. The charts are those {@link OverloadLab} writes at the end of a
 * run; this is for a run whose charts were not kept.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.resilience.benchmarks.lab.Charts benchmarks/runs/lab-2026-12-02-e benchmarks/lab</pre>
 */
public final class Charts {

    private static final Pattern CAPACITY = Pattern.compile("measured C = ([0-9.]+)/s");
    private static final Pattern PHASES = Pattern.compile("Phases: (\\d+) s before the fault, (\\d+) s of fault \\((\\d+) s"
            + " down in c\\), (\\d+) s after; d ramps over (\\d+) s after \\d+ s at 0.5 C and holds 3 C for (\\d+) s");
    private static final Pattern SETUPS = Pattern.compile("--setups ([a-z0-9,-]+)");
    private static final Pattern CSV = Pattern.compile("(.+)-r(\\d+)\\.csv");

    private Charts() {
    }

    /**
     * Writes {@code <scenario>.svg} into the output directory for every scenario of the run.
     *
     * @param args the run's directory, then the output directory
     * @throws IOException if a file cannot be read or written
     * @throws IllegalArgumentException if the run's summary or a CSV does not have what a chart needs
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: Charts <run directory> <output directory>");
        }
        Path runs = Path.of(args[0]);
        Path out = Path.of(args[1]);
        String summary = Files.readString(runs.resolve("summary.md"), StandardCharsets.UTF_8);
        double capacity = Double.parseDouble(find(CAPACITY, summary, "the measured capacity").group(1));
        Matcher ph = find(PHASES, summary, "the phase lengths");
        int[] p = new int[6];
        for (int i = 0; i < p.length; i++) {
            p[i] = Integer.parseInt(ph.group(i + 1));
        }
        List<String> setups = List.of(find(SETUPS, summary, "the setups").group(1).split(","));
        // "<scenario>-<setup>" -> repetition -> its CSV, from one listing of the directory
        Map<String, Map<Integer, Path>> csvs = new HashMap<>();
        try (var files = Files.list(runs)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Matcher m = CSV.matcher(f.getFileName().toString());
                if (m.matches()) {
                    csvs.computeIfAbsent(m.group(1), k -> new TreeMap<>()).put(Integer.parseInt(m.group(2)), f);
                }
            }
        }
        Files.createDirectories(out);
        int charts = 0;
        for (String name : Scenario.NAMES) {
            Scenario sc = Scenario.of(name, p[0], p[1], p[2], p[3], p[4], p[5]);
            Map<String, List<Report.Series>> bySetup = new LinkedHashMap<>();
            for (String setup : setups) {
                List<Report.Series> reps = new ArrayList<>();
                for (Path f : csvs.getOrDefault(name + "-" + setup, Map.of()).values()) { // in repetition order
                    reps.add(read(f, sc.duration));
                }
                if (!reps.isEmpty()) {
                    bySetup.put(setup, reps);
                }
            }
            if (bySetup.isEmpty()) {
                continue;
            }
            Files.writeString(out.resolve(name + ".svg"), Report.chart(sc, bySetup, capacity), StandardCharsets.UTF_8);
            charts++;
        }
        System.out.println("[charts] " + charts + " chart(s) from " + runs + " in " + out);
    }

    private static Matcher find(Pattern p, String text, String what) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new IllegalArgumentException("summary.md does not give " + what + " (" + p.pattern() + ")");
        }
        return m;
    }

    /**
     * The {@code offered} and {@code ok} columns of one run's seconds within the scenario (the rows of
     * the drain after it are not charted), each second present once.
     */
    private static Report.Series read(Path csv, int seconds) throws IOException {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        List<String> header = List.of(lines.get(0).split(","));
        int second = header.indexOf("second");
        int offered = header.indexOf("offered");
        int ok = header.indexOf("ok");
        if (second < 0 || offered < 0 || ok < 0) {
            throw new IllegalArgumentException(csv + ": expected the columns second, offered and ok, found " + header);
        }
        long[] off = new long[seconds];
        long[] good = new long[seconds];
        boolean[] seen = new boolean[seconds];
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            int s = Integer.parseInt(cells[second]);
            if (s >= seconds) {
                continue;
            }
            if (seen[s]) {
                throw new IllegalArgumentException(csv + ": second " + s + " appears twice");
            }
            seen[s] = true;
            off[s] = Long.parseLong(cells[offered]);
            good[s] = Long.parseLong(cells[ok]);
        }
        for (int s = 0; s < seconds; s++) {
            if (!seen[s]) {
                throw new IllegalArgumentException(csv + ": no row for second " + s + " of " + seconds);
            }
        }
        return new Report.Series(off, good);
    }
}
