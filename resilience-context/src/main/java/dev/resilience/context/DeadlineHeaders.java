package dev.resilience.context;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * Carries deadlines across HTTP as a remaining-time header: {@code grpc-timeout}, the encoding gRPC,
 * Envoy and many proxies understand (an ASCII integer of at most 8 digits followed by a unit:
 * {@code H} hours, {@code M} minutes, {@code S} seconds, {@code m} milliseconds, {@code u}
 * microseconds, {@code n} nanoseconds). Also reads Envoy's {@code x-envoy-expected-rq-timeout-ms}.
 *
 * <pre>{@code
 * // client: the callee learns how long the caller will wait (java.net.http: HttpDeadlines in resilience-http)
 * builder.header(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(Context.current().remainingNanos()));
 *
 * // server: run the handler under the caller's deadline
 * HeaderTimeout t = DeadlineHeaders.read(exchange.getRequestHeaders()::getFirst);
 * try (CancelHandle h = t.applyTo(Context.background()); Scope s = h.attach()) { ... }
 * }</pre>
 */
public final class DeadlineHeaders {

    /** The gRPC timeout header. */
    public static final String GRPC_TIMEOUT = "grpc-timeout";
    /** Envoy's expected request timeout header, in milliseconds. */
    public static final String ENVOY_EXPECTED_TIMEOUT_MS = "x-envoy-expected-rq-timeout-ms";

    private static final int MAX_DIGITS = 8;
    private static final long MAX_VALUE = 99_999_999L;
    private static final char[] UNITS = {'n', 'u', 'm', 'S', 'M', 'H'};
    private static final long[] UNIT_NANOS = {1L, 1_000L, 1_000_000L, 1_000_000_000L, 60_000_000_000L,
        3_600_000_000_000L};

    private DeadlineHeaders() {
    }

    /**
     * Encodes a remaining time as a {@code grpc-timeout} value in the finest unit whose value fits
     * in 8 digits, rounding down (the callee never gets more time than the caller has). Times beyond
     * 99,999,999 hours are capped.
     *
     * @param nanos remaining time, not negative
     */
    public static String encodeGrpcTimeout(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("nanos must not be negative: " + nanos);
        }
        for (int i = 0; i < UNITS.length; i++) {
            long v = nanos / UNIT_NANOS[i];
            if (v <= MAX_VALUE) {
                return Long.toString(v) + UNITS[i];
            }
        }
        return MAX_VALUE + "H";
    }

    /** Encodes a remaining time as a {@code grpc-timeout} value; see {@link #encodeGrpcTimeout(long)}. */
    public static String encodeGrpcTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        return encodeGrpcTimeout(Deadline.timeoutNanos(timeout));
    }

    /**
     * Parses a {@code grpc-timeout} value strictly, for code that wants an exception.
     *
     * @return the timeout in nanoseconds, capped at {@link Deadline#MAX_OFFSET_NANOS}
     * @throws IllegalArgumentException naming what is wrong with {@code value}
     */
    public static long parseGrpcTimeout(CharSequence value) {
        HeaderTimeout t = decodeGrpcTimeout(Objects.requireNonNull(value, "value"));
        if (!t.isPresent()) {
            throw new IllegalArgumentException("invalid grpc-timeout '" + printable(value) + "': " + t.error());
        }
        return t.nanos();
    }

    /**
     * Decodes a {@code grpc-timeout} value; never throws. Leading and trailing blanks are ignored;
     * anything else not of the form {@code 1-8 digits + unit} is rejected with a reason.
     *
     * @param value the header value, or null when the header is absent
     */
    public static HeaderTimeout decodeGrpcTimeout(CharSequence value) {
        if (value == null) {
            return HeaderTimeout.absent();
        }
        int start = 0;
        int end = value.length();
        while (start < end && isBlank(value.charAt(start))) {
            start++;
        }
        while (end > start && isBlank(value.charAt(end - 1))) {
            end--;
        }
        if (start == end) {
            return HeaderTimeout.rejected(GRPC_TIMEOUT, "empty value");
        }
        int digits = end - start - 1;
        if (digits == 0) {
            return HeaderTimeout.rejected(GRPC_TIMEOUT, "no digits before the unit");
        }
        if (digits > MAX_DIGITS) {
            return HeaderTimeout.rejected(GRPC_TIMEOUT, "more than 8 digits");
        }
        long v = 0;
        for (int i = start; i < end - 1; i++) {
            char ch = value.charAt(i);
            if (ch < '0' || ch > '9') {
                return HeaderTimeout.rejected(GRPC_TIMEOUT, "not a digit at position " + (i - start));
            }
            v = v * 10 + (ch - '0');
        }
        char unit = value.charAt(end - 1);
        for (int i = 0; i < UNITS.length; i++) {
            if (UNITS[i] == unit) {
                return HeaderTimeout.of(GRPC_TIMEOUT, saturatedMultiply(v, UNIT_NANOS[i]));
            }
        }
        return HeaderTimeout.rejected(GRPC_TIMEOUT, "unknown unit (expected one of H M S m u n)");
    }

    /**
     * Decodes an {@code x-envoy-expected-rq-timeout-ms} value (decimal milliseconds); never throws.
     *
     * @param value the header value, or null when the header is absent
     */
    public static HeaderTimeout decodeEnvoyTimeoutMs(CharSequence value) {
        if (value == null) {
            return HeaderTimeout.absent();
        }
        String s = value.toString().strip();
        if (s.isEmpty()) {
            return HeaderTimeout.rejected(ENVOY_EXPECTED_TIMEOUT_MS, "empty value");
        }
        if (s.length() > 18) {
            return HeaderTimeout.rejected(ENVOY_EXPECTED_TIMEOUT_MS, "more than 18 digits");
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < '0' || ch > '9') {
                return HeaderTimeout.rejected(ENVOY_EXPECTED_TIMEOUT_MS, "not a digit at position " + i);
            }
            v = v * 10 + (ch - '0');
        }
        return HeaderTimeout.of(ENVOY_EXPECTED_TIMEOUT_MS, saturatedMultiply(v, 1_000_000L));
    }

    /**
     * Reads the timeout of an incoming request: {@code grpc-timeout} if present, else Envoy's header.
     * Never throws on the headers' content.
     *
     * @param header looks up the first value of a header by its lower-case name, null if absent
     *     (for the JDK's {@code HttpServer}: {@code exchange.getRequestHeaders()::getFirst})
     */
    public static HeaderTimeout read(Function<String, String> header) {
        Objects.requireNonNull(header, "header");
        String grpc = header.apply(GRPC_TIMEOUT);
        if (grpc != null) {
            return decodeGrpcTimeout(grpc);
        }
        return decodeEnvoyTimeoutMs(header.apply(ENVOY_EXPECTED_TIMEOUT_MS));
    }

    private static boolean isBlank(char ch) {
        return ch == ' ' || ch == '\t';
    }

    private static long saturatedMultiply(long v, long unit) {
        return v > Deadline.MAX_OFFSET_NANOS / unit ? Deadline.MAX_OFFSET_NANOS : v * unit;
    }

    private static String printable(CharSequence value) {
        String s = value.length() > 32 ? value.subSequence(0, 32) + "..." : value.toString();
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
