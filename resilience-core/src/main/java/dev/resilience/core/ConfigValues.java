package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value formats of {@link ResilienceRegistry}'s keys. Each parser takes a trimmed, non-empty
 * string and returns the value or throws {@link IllegalArgumentException} saying why it cannot.
 * Nothing here wraps: numbers too large for their type are refused, durations longer than the
 * toolkit's horizon (2^62 ns, about 146 years) saturate to it, as every builder does.
 */
final class ConfigValues {

    /** A plain decimal number: no hex, no {@code NaN}/{@code Infinity}, no {@code d}/{@code f} suffix. */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d{1,6})?");
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern DURATION = Pattern.compile("([+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+))\\s*([a-zµ]+)");
    private static final Pattern RATE = Pattern.compile("(.+?)\\s*/\\s*([a-z]+)");
    private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(Checks.MAX_NANOS);
    private static final BigDecimal BILLION = BigDecimal.valueOf(1_000_000_000L);

    private ConfigValues() {
    }

    /** {@code 250ms}, {@code 5s}, {@code 1.5m}, {@code 2h}, {@code 1d}, {@code 100us}, {@code 10ns}, {@code 0}, or ISO-8601 {@code PT5S}. */
    static Duration duration(String s) {
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.startsWith("P") || s.startsWith("-P") || s.startsWith("+P")) {
            try {
                return saturate(Duration.parse(s));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not an ISO-8601 duration such as PT5S");
            }
        }
        Matcher m = DURATION.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: use a number and a unit (ns, us, ms, s, m, h, d),"
                    + " e.g. 250ms, or ISO-8601 such as PT5S");
        }
        long unitNanos = switch (m.group(2)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            case "d" -> 86_400_000_000_000L;
            default -> throw new IllegalArgumentException(
                    "unknown unit '" + m.group(2) + "'" + suggestion(m.group(2), List.of("ns", "us", "ms", "s", "m", "h", "d"))
                            + ": use ns, us, ms, s, m, h or d");
        };
        BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unitNanos));
        if (nanos.abs().compareTo(MAX_NANOS) > 0) {
            return Duration.ofNanos(nanos.signum() * Checks.MAX_NANOS);
        }
        return Duration.ofNanos(nanos.toBigInteger().longValueExact());
    }

    /** Beyond the horizon means the horizon; no {@code abs()}, which overflows at Duration's minimum. */
    private static Duration saturate(Duration d) {
        long limit = Checks.MAX_NANOS / 1_000_000_000L;
        if (d.getSeconds() >= limit) {
            return Duration.ofNanos(Checks.MAX_NANOS);
        }
        if (d.getSeconds() <= -limit) {
            return Duration.ofNanos(-Checks.MAX_NANOS);
        }
        return d;
    }

    /** A whole number that fits an {@code int}. */
    static int integer(String s) {
        if (!INTEGER.matcher(s).matches()) {
            throw new IllegalArgumentException("not a whole number");
        }
        BigInteger v = new BigInteger(s);
        if (v.bitLength() > 31) {
            throw new IllegalArgumentException("out of range: at most " + Integer.MAX_VALUE);
        }
        return v.intValue();
    }

    /** A finite decimal number, e.g. {@code 2}, {@code 0.5}, {@code 1e3}. */
    static double number(String s) {
        if (!NUMBER.matcher(s).matches()) {
            throw new IllegalArgumentException("not a number");
        }
        double v = new BigDecimal(s).doubleValue();
        if (Double.isInfinite(v)) {
            throw new IllegalArgumentException("out of range: too large");
        }
        return v;
    }

    /** Permits per second: {@code 10}, {@code 10/s}, {@code 600/m}, {@code 36000/h}, or {@code unlimited}. */
    static double rate(String s) {
        if (s.equals("unlimited")) {
            return Double.POSITIVE_INFINITY;
        }
        Matcher m = RATE.matcher(s);
        if (!m.matches()) {
            return number(s);
        }
        double perUnit = number(m.group(1));
        return switch (m.group(2)) {
            case "s" -> perUnit;
            case "m" -> perUnit / 60.0;
            case "h" -> perUnit / 3600.0;
            default -> throw new IllegalArgumentException("unknown rate unit '" + m.group(2) + "': use /s, /m or /h");
        };
    }

    /** A percentage as the builders take it: {@code 50} or {@code 50%} is 50. */
    static double percent(String s) {
        return number(s.endsWith("%") ? s.substring(0, s.length() - 1).trim() : s);
    }

    /** A ratio: {@code 0.2}, or {@code 20%} for the same. */
    static double fraction(String s) {
        return s.endsWith("%") ? percent(s) / 100.0 : number(s);
    }

    /** {@code true} or {@code false}, in any case. */
    static boolean bool(String s) {
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        if (s.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("not a boolean: use true or false");
    }

    /** One of {@code choices} (lower case), in any case. */
    static String choice(String s, List<String> choices) {
        String lower = s.toLowerCase(Locale.ROOT);
        if (choices.contains(lower)) {
            return lower;
        }
        throw new IllegalArgumentException("must be one of " + String.join(", ", choices) + suggestion(lower, choices));
    }

    /**
     * {@code " (did you mean x?)"} for the candidate nearest to {@code word} by edit distance, if one
     * is near enough to be a typo; otherwise empty.
     */
    static String suggestion(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(word, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best != null && bestDistance > 0 && bestDistance <= Math.max(2, word.length() / 3)
                ? " (did you mean " + best + "?)" : "";
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    /**
     * A comma-separated list of exception class names ({@code java.io.IOException,
     * com.acme.NotFoundException}), each loaded (not initialized) through the thread's context class
     * loader, else this library's; each must be a {@code Throwable}.
     */
    static List<Class<? extends Throwable>> exceptionClasses(String s) {
        List<Class<? extends Throwable>> classes = new ArrayList<>();
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        for (String part : s.split(",", -1)) {
            String name = part.trim();
            if (name.isEmpty()) {
                throw new IllegalArgumentException("not a list of exception class names: an entry is empty");
            }
            Class<?> c;
            try {
                c = Class.forName(name, false, context != null ? context : ConfigValues.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalArgumentException("no class " + name + " on the class path");
            }
            if (!Throwable.class.isAssignableFrom(c)) {
                throw new IllegalArgumentException(name + " is not an exception (a Throwable)");
            }
            classes.add(c.asSubclass(Throwable.class));
        }
        return List.copyOf(classes);
    }

    /** True if {@code e} is an instance of one of {@code classes}. */
    static boolean instanceOfAny(Throwable e, List<Class<? extends Throwable>> classes) {
        for (Class<? extends Throwable> c : classes) {
            if (c.isInstance(e)) {
                return true;
            }
        }
        return false;
    }
}
