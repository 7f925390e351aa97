package dev.resilience.benchmarks.lab;

import dev.resilience.benchmarks.lab.RunStats.Outcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.AtomicHistogram;

/**
 * Writes what the lab measured: a CSV of per-second rows per run, a markdown summary (median and
 * min-max over repetitions per setup and scenario), and one hand-written SVG chart per scenario
 * (goodput per second, the median over repetitions, a line per setup). Every figure is computed
 * from the recorded runs; nothing is typed in.
 */
final class Report {

    private static final String[] COLORS = {"#7f7f7f", "#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#1f77b4",
        "#2ca02c", "#17becf", "#9467bd", "#bcbd22"};

    private Report() {
    }

    /** The per-second rows of one run. */
    static void writeCsv(Path file, Scenario sc, RunStats st) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("second,phase,offered,ok,late,error,timeout,refused,overflow,ok_p50_ms,ok_p99_ms,attempts,"
                + "amplification,srv_received,srv_busy_ms,srv_wasted_ms,srv_wasted_pct,srv_dropped_expired,"
                + "srv_shed,srv_injected_503,srv_unread,max_dispatch_lag_ms,client_limit_max,sent,sent_attempts\n");
        for (int s = 0; s < st.seconds; s++) {
            boolean tail = s >= sc.duration;
            if (tail && st.serverBusyNanos.get(s) == 0 && st.serverReceived.get(s) == 0 && st.attempts.get(s) == 0) {
                continue;
            }
            String phase = tail ? "drain" : !sc.hasFault() ? (s < sc.holdStart() ? "ramp" : "hold")
                    : s < sc.faultStart ? "before" : s < sc.faultEnd ? "fault" : "after";
            AtomicHistogram ok = tail ? null : st.okMicros[s];
            long offered = st.offered.get(s);
            long busy = st.serverBusyNanos.get(s);
            long wasted = st.serverWastedNanos.get(s);
            b.append(s).append(',').append(phase).append(',').append(offered);
            for (Outcome o : Outcome.values()) {
                b.append(',').append(st.count(o, s));
            }
            b.append(',').append(st.overflow.get(s));
            boolean none = ok == null || ok.getTotalCount() == 0;
            b.append(',').append(none ? "" : fmt(ok.getValueAtPercentile(50) / 1000.0));
            b.append(',').append(none ? "" : fmt(ok.getValueAtPercentile(99) / 1000.0));
            b.append(',').append(st.attempts.get(s));
            b.append(',').append(offered == 0 ? "" : fmt((double) st.attempts.get(s) / offered));
            b.append(',').append(st.serverReceived.get(s));
            b.append(',').append(fmt(busy / 1e6)).append(',').append(fmt(wasted / 1e6));
            b.append(',').append(busy == 0 ? "" : fmt(100.0 * wasted / busy));
            b.append(',').append(st.serverDropped.get(s)).append(',').append(st.serverShed.get(s));
            b.append(',').append(st.serverFailed.get(s)).append(',').append(st.serverUnread.get(s));
            b.append(',').append(fmt(st.maxDispatchLag.get(s) / 1e6)).append(',').append(st.maxClientLimit.get(s));
            b.append(',').append(st.sent.get(s)).append(',').append(st.sentAttempts.get(s)).append('\n');
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    /** The markdown summary of every run, grouped by scenario and setup. */
    static String summary(List<RunResult> results, Map<String, Scenario> scenarios, List<String> setups,
            String header) {
        StringBuilder b = new StringBuilder(header);
        grid(b, results, scenarios, setups);
        for (Scenario sc : scenarios.values()) {
            if (sc.isGridCell()) {
                continue; // in the grid's table; per-second rows in the runs directory
            }
            b.append("\n## ").append(sc.name).append(": ").append(sc.title).append("\n\n");
            String window = sc.hasFault() ? "fault window" : "at 3 C";
            RunResult any = results.stream().filter(r -> r.scenario.equals(sc.name)).findFirst().orElse(null);
            if (any == null) {
                continue;
            }
            b.append("Goal: ").append(any.goal).append(". Median [min-max] over repetitions.\n\n");
            String later = sc.hasFault() ? "goodput after the fault (/s)" : "goodput, whole run (/s)";
            b.append("| setup | goodput, ").append(window).append(" (/s) | success rate | ").append(later).append(" | p50 / p99 ok (ms) | "
                    + "p99 ok after (ms) | p99 answered (ms) | amplification (per offered / per sent / server) | wasted % (window / run) | "
                    + "local refusals (p99 ms from the caller's start / from the intended time) | recovery (s) | goal met |\n");
            b.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (String setup : setups) {
                List<RunResult> rs = runsOf(results, sc, setup);
                if (rs.isEmpty()) {
                    continue;
                }
                long met = rs.stream().filter(r -> r.goalMet).count();
                b.append("| ").append(setup)
                        .append(" | ").append(spread(rs, r -> r.goodputFault, 1))
                        .append(" | ").append(spread(rs, r -> 100 * r.successRate, 0)).append(" %")
                        .append(" | ").append(spread(rs, r -> r.goodputAfter, 1))
                        .append(" | ").append(spread(rs, r -> r.okP50Ms, 1)).append(" / ").append(spread(rs, r -> r.okP99Ms, 1))
                        .append(" | ").append(sc.hasFault() ? spread(rs, r -> r.okP99AfterMs, 1) : "-")
                        .append(" | ").append(spread(rs, r -> r.answeredP99Ms, 0))
                        .append(" | ").append(spread(rs, r -> r.amplification, 2)).append(" / ")
                        .append(spread(rs, r -> r.amplificationSent, 2)).append(" / ")
                        .append(spread(rs, r -> r.serverAmplification, 2))
                        .append(" | ").append(spread(rs, r -> 100 * r.wastedShare, 1)).append(" / ")
                        .append(spread(rs, r -> 100 * r.wastedShareRun, 1))
                        .append(" | ").append(spread(rs, r -> r.refused, 0)).append(" (")
                        .append(spread(rs, r -> r.refusedP99Ms, 3)).append(" / ")
                        .append(spread(rs, r -> r.refusedFromIntendedP99Ms, 3)).append(")")
                        .append(" | ").append(sc.hasFault() ? recoverySpread(rs) : "-")
                        .append(" | ").append(met).append("/").append(rs.size()).append(" |\n");
            }
        }
        return b.toString();
    }

    /**
     * The metastability grid, if any of its cells ran: per setup and cell (trigger magnitude x
     * duration), the seconds to recover after the trigger and the goodput after it, median over
     * repetitions; "stuck" when a repetition never recovered before the run ended.
     */
    private static void grid(StringBuilder b, List<RunResult> results, Map<String, Scenario> scenarios,
            List<String> setups) {
        List<Scenario> cells = new ArrayList<>();
        for (Scenario sc : scenarios.values()) {
            if (sc.isGridCell()) {
                cells.add(sc);
            }
        }
        if (cells.isEmpty()) {
            return;
        }
        b.append("\n## Metastability grid: service time x F for S seconds at 0.8 C\n\n")
                .append("Each cell: seconds to recover after the trigger ends (goodput back to 95 % of min(offered, C)"
                        + " for 3 s), one figure per repetition, or **stuck** if a repetition had not recovered by the last"
                        + " second followed by 3 s of the run; then the goodput after the trigger, median [min-max] over"
                        + " repetitions.\n\n| setup |");
        for (Scenario sc : cells) {
            b.append(" ").append(sc.slowFactor).append("x for ").append(sc.faultEnd - sc.faultStart).append(" s |");
        }
        b.append("\n|---|").append("---|".repeat(cells.size())).append("\n");
        for (String setup : setups) {
            b.append("| ").append(setup).append(" |");
            for (Scenario sc : cells) {
                List<RunResult> rs = runsOf(results, sc, setup);
                if (rs.isEmpty()) {
                    b.append(" - |");
                    continue;
                }
                boolean stuck = rs.stream().anyMatch(r -> r.recovery < 0);
                b.append(" ").append(stuck ? "**stuck**" : recoverySpread(rs) + " s").append("; ")
                        .append(spread(rs, r -> r.goodputAfter, 1)).append("/s |");
            }
            b.append("\n");
        }
    }

    /** The repetitions of {@code setup} in scenario {@code sc}. */
    static List<RunResult> runsOf(List<RunResult> results, Scenario sc, String setup) {
        List<RunResult> rs = new ArrayList<>();
        for (RunResult r : results) {
            if (r.scenario.equals(sc.name) && r.setup.equals(setup)) {
                rs.add(r);
            }
        }
        return rs;
    }

    private interface Figure {
        double of(RunResult r);
    }

    /** "median [min-max]", or the value alone for one repetition; "-" when nothing was measured. */
    private static String spread(List<RunResult> rs, Figure f, int decimals) {
        double[] v = rs.stream().mapToDouble(f::of).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return "-";
        }
        String p = "%." + decimals + "f";
        double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        if (v.length == 1) {
            return String.format(Locale.ROOT, p, median);
        }
        return String.format(Locale.ROOT, p + " [" + p + "-" + p + "]", median, v[0], v[v.length - 1]);
    }

    private static String recoverySpread(List<RunResult> rs) {
        List<String> parts = new ArrayList<>();
        for (RunResult r : rs) {
            parts.add(r.recoveryText().replace(" s", ""));
        }
        return String.join(", ", parts);
    }

    /**
     * The chart of one scenario: goodput per second of each setup (median over its repetitions),
     * the offered load (median), the measured capacity, and the fault window shaded.
     */
    static String svg(Scenario sc, Map<String, List<RunResult>> bySetup, double capacity) {
        Map<String, List<Series>> series = new LinkedHashMap<>();
        for (Map.Entry<String, List<RunResult>> e : bySetup.entrySet()) {
            List<Series> runs = new ArrayList<>();
            for (RunResult r : e.getValue()) {
                runs.add(new Series(r.offeredPerSecond, r.okPerSecond));
            }
            series.put(e.getKey(), runs);
        }
        return chart(sc, series, capacity);
    }

    /** One run's calls offered and calls that succeeded within D, per second. */
    record Series(long[] offered, long[] ok) {
    }

    /** The chart of {@link #svg}, from the per-second series of each setup's repetitions. */
    static String chart(Scenario sc, Map<String, List<Series>> bySetup, double capacity) {
        int w = 900;
        int h = 420;
        int left = 60;
        int right = 170;
        int top = 40;
        int bottom = 50;
        int pw = w - left - right;
        int ph = h - top - bottom;
        int n = sc.duration;
        Map<String, double[]> lines = new LinkedHashMap<>();
        double[] offered = new double[n];
        double max = capacity;
        for (Map.Entry<String, List<Series>> e : bySetup.entrySet()) {
            double[] med = new double[n];
            for (int s = 0; s < n; s++) {
                double[] ok = new double[e.getValue().size()];
                double[] off = new double[ok.length];
                for (int i = 0; i < ok.length; i++) {
                    ok[i] = e.getValue().get(i).ok()[s];
                    off[i] = e.getValue().get(i).offered()[s];
                }
                med[s] = median(ok);
                offered[s] = Math.max(offered[s], median(off));
                max = Math.max(max, Math.max(med[s], offered[s]));
            }
            lines.put(e.getKey(), med);
        }
        double ymax = niceCeil(max * 1.1);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h, w, h));
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\">Scenario %s: %s, goodput per second"
                + " (median of repetitions)</text>\n", left, esc(sc.name), esc(sc.title)));
        if (sc.hasFault()) {
            double x0 = left + pw * (double) sc.faultStart / n;
            double x1 = left + pw * (double) sc.faultEnd / n;
            b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f2dede\"/>\n",
                    x0, top, x1 - x0, ph));
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#a94442\">fault</text>\n", x0 + 4, top + 14));
        }
        for (int i = 0; i <= 5; i++) {
            double v = ymax * i / 5;
            double y = top + ph - ph * v / ymax;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
                    left, y, left + pw, y));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
                    left - 6, y + 4, v));
        }
        int step = n <= 12 ? 1 : n <= 30 ? 5 : 10;
        for (int s = 0; s <= n; s += step) {
            double x = left + pw * (double) s / n;
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
                    x, top + ph + 18, s));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds (calls filed under"
                + " their intended send time)</text>\n", left + pw / 2, h - 10));
        b.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
                + "text-anchor=\"middle\">successful calls within D per second</text>\n", top + ph / 2, top + ph / 2));
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#444\"/>\n", left, top, pw, ph));
        double cy = top + ph - ph * capacity / ymax;
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\" "
                + "stroke-dasharray=\"2,3\"/>\n", left, cy, left + pw, cy));
        b.append(path(offered, n, left, top, pw, ph, ymax, "#000000", "6,4"));
        int i = 0;
        for (Map.Entry<String, double[]> e : lines.entrySet()) {
            b.append(path(e.getValue(), n, left, top, pw, ph, ymax, COLORS[i % COLORS.length], null));
            i++;
        }
        int ly = top + 10;
        b.append(legend(left + pw + 12, ly, "#000000", "6,4", "offered"));
        b.append(legend(left + pw + 12, ly + 18, "#000000", "2,3", String.format(Locale.ROOT, "C measured %.0f/s", capacity)));
        i = 0;
        for (String name : lines.keySet()) {
            b.append(legend(left + pw + 12, ly + 36 + 18 * i, COLORS[i % COLORS.length], null, name));
            i++;
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static String path(double[] v, int n, int left, int top, int pw, int ph, double ymax, String color,
            String dash) {
        StringBuilder p = new StringBuilder();
        for (int s = 0; s < n; s++) {
            double x = left + pw * (s + 0.5) / n;
            double y = top + ph - ph * Math.min(v[s], ymax) / ymax;
            p.append(s == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
        }
        return String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s/>\n", p,
                color, dash == null ? "2" : "1.2", dash == null ? "" : " stroke-dasharray=\"" + dash + "\"");
    }

    private static String legend(int x, int y, String color, String dash, String label) {
        return String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                + "<text x=\"%d\" y=\"%d\">%s</text>\n", x, y, x + 22, y, color,
                dash == null ? "" : " stroke-dasharray=\"" + dash + "\"", x + 28, y + 4, esc(label));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? 0 : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double niceCeil(double v) {
        double mag = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1))));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= v) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
