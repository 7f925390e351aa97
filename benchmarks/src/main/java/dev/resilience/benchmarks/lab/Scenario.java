package dev.resilience.benchmarks.lab;

import java.util.List;

/**
 * One scenario: an offered load over time (a multiple of the dependency's nominal capacity C) and
 * at most one fault, switched on at {@code faultStart} and off at {@code faultEnd} (whole seconds
 * from the start of the run).
 *
 * <ul>
 *   <li>{@code a}: 0.8 C; the dependency fails 30 % of requests (503) for the fault period.</li>
 *   <li>{@code a15}: the same at 1.5 C.</li>
 *   <li>{@code b}: 0.8 C; the service time is 10x for the fault period.</li>
 *   <li>{@code c}: 0.8 C; the dependency is down (connections refused) for the down period, then back.</li>
 *   <li>{@code d}: 0.5 C for the period before, then a linear ramp to 3 C over the ramp period, then
 *       3 C for the hold period (no fault).</li>
 *   <li>{@code m<F>x<S>} (the metastability grid, for example {@code m5x4}): 0.8 C; the service time
 *       is F x for S seconds, then at least 12 s follow, so that a setup whose retries keep the
 *       dependency overloaded after the trigger is gone shows it (a metastable state).</li>
 * </ul>
 */
final class Scenario {

    static final List<String> NAMES = List.of("a", "a15", "b", "c", "d");

    final String name;
    final String title;
    final LabServer.Fault fault;
    final int faultStart;
    final int faultEnd;
    final int duration;
    /** The service time's multiple while a {@link LabServer.Fault#SLOW} fault is on. */
    final int slowFactor;
    private final double from;
    private final double to;
    private final int rampStart;
    private final int rampEnd;

    private Scenario(String name, String title, LabServer.Fault fault, int faultStart, int faultEnd, int duration,
            double from, double to, int rampStart, int rampEnd) {
        this(name, title, fault, 10, faultStart, faultEnd, duration, from, to, rampStart, rampEnd);
    }

    private Scenario(String name, String title, LabServer.Fault fault, int slowFactor, int faultStart, int faultEnd,
            int duration, double from, double to, int rampStart, int rampEnd) {
        this.name = name;
        this.slowFactor = slowFactor;
        this.title = title;
        this.fault = fault;
        this.faultStart = faultStart;
        this.faultEnd = faultEnd;
        this.duration = duration;
        this.from = from;
        this.to = to;
        this.rampStart = rampStart;
        this.rampEnd = rampEnd;
    }

    /** The offered load at {@code t} seconds, as a multiple of C. */
    double loadAt(double t) {
        if (t < rampStart) {
            return from;
        }
        if (t >= rampEnd) {
            return to;
        }
        return from + (to - from) * (t - rampStart) / (rampEnd - rampStart);
    }

    boolean hasFault() {
        return fault != LabServer.Fault.NONE;
    }

    /**
     * Builds scenario {@code name} with the given phase lengths (seconds).
     *
     * @throws IllegalArgumentException for an unknown name
     */
    static Scenario of(String name, int before, int fault, int down, int after, int ramp, int hold) {
        java.util.regex.Matcher grid = java.util.regex.Pattern.compile("m(\\d{1,3})x(\\d{1,3})").matcher(name);
        if (grid.matches()) {
            int factor = Integer.parseInt(grid.group(1));
            int seconds = Integer.parseInt(grid.group(2));
            if (factor < 2 || seconds < 1) {
                throw new IllegalArgumentException("grid scenario '" + name + "': the factor must be at least 2 and the"
                        + " duration at least 1 s");
            }
            int tail = Math.max(after, 12);
            return new Scenario(name, "service time x" + factor + " for " + seconds + " s at 0.8 C", LabServer.Fault.SLOW,
                    factor, before, before + seconds, before + seconds + tail, 0.8, 0.8, 0, 0);
        }
        switch (name) {
            case "a":
                return new Scenario(name, "30 % errors for " + fault + " s at 0.8 C", LabServer.Fault.ERRORS,
                        before, before + fault, before + fault + after, 0.8, 0.8, 0, 0);
            case "a15":
                return new Scenario(name, "30 % errors for " + fault + " s at 1.5 C", LabServer.Fault.ERRORS,
                        before, before + fault, before + fault + after, 1.5, 1.5, 0, 0);
            case "b":
                return new Scenario(name, "service time x10 for " + fault + " s at 0.8 C", LabServer.Fault.SLOW,
                        before, before + fault, before + fault + after, 0.8, 0.8, 0, 0);
            case "c":
                return new Scenario(name, "down for " + down + " s at 0.8 C", LabServer.Fault.DOWN,
                        before, before + down, before + down + after, 0.8, 0.8, 0, 0);
            case "d":
                return new Scenario(name, "load ramp 0.5 C to 3 C over " + ramp + " s", LabServer.Fault.NONE,
                        0, 0, before + ramp + hold, 0.5, 3.0, before, before + ramp);
            default:
                throw new IllegalArgumentException("unknown scenario '" + name + "', one of " + NAMES
                        + " or a grid cell m<factor>x<seconds>");
        }
    }

    /** A constant load of {@code load} C for {@code seconds}, without a fault (calibration, warm-up). */
    static Scenario constant(String name, double load, int seconds) {
        return new Scenario(name, "constant " + load + " C", LabServer.Fault.NONE, 0, 0, seconds, load, load, 0, 0);
    }

    /** Whether this is a cell of the metastability grid ({@code m<F>x<S>}). */
    boolean isGridCell() {
        return name.matches("m\\d+x\\d+");
    }

    /** For {@code d}: the first second at the full 3 C. */
    int holdStart() {
        return rampEnd;
    }
}
