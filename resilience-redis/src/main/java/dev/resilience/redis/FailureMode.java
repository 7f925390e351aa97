package dev.resilience.redis;

/**
 * What a distributed limiter decides when Redis cannot: see {@link FallbackCause}.
 *
 * <pre>{@code
 * .failureMode(FailureMode.failOpen())        // grant: availability over the limit
 * .failureMode(FailureMode.failClosed())      // refuse: the limit over availability
 * .failureMode(FailureMode.local(4))          // each of 4 instances enforces a quarter of the limit
 * }</pre>
 *
 * <p>The default is {@code local(1)}: each instance enforces the whole limit by itself, which
 * errs on the side of letting work through (up to the number of instances times the limit) while
 * still stopping a runaway client.
 */
public final class FailureMode {

    /** The kinds of decision. */
    public enum Kind {
        /** Grant every request. */
        FAIL_OPEN,
        /** Refuse every request. */
        FAIL_CLOSED,
        /** Decide with a local limiter per key holding the limit divided by the instances. */
        LOCAL
    }

    private static final FailureMode OPEN = new FailureMode(Kind.FAIL_OPEN, 0);
    private static final FailureMode CLOSED = new FailureMode(Kind.FAIL_CLOSED, 0);

    private final Kind kind;
    private final int instances;

    private FailureMode(Kind kind, int instances) {
        this.kind = kind;
        this.instances = instances;
    }

    /** Grants every request while Redis cannot decide. */
    public static FailureMode failOpen() {
        return OPEN;
    }

    /** Refuses every request while Redis cannot decide. */
    public static FailureMode failClosed() {
        return CLOSED;
    }

    /**
     * Decides with a local limiter per key: a rate limit of {@code rate / instances} with a burst of
     * {@code max(1, burst / instances)}, or a quota of {@code max(1, limit / instances)} per window.
     *
     * @param instances how many instances share the limit; at least 1
     */
    public static FailureMode local(int instances) {
        if (instances < 1) {
            throw new IllegalArgumentException("instances must be at least 1: " + instances);
        }
        return new FailureMode(Kind.LOCAL, instances);
    }

    /** The kind of decision. */
    public Kind kind() {
        return kind;
    }

    /** For {@link Kind#LOCAL}: the instances sharing the limit; 0 otherwise. */
    public int instances() {
        return instances;
    }

    @Override
    public String toString() {
        return kind == Kind.LOCAL ? "LOCAL(" + instances + ")" : kind.name();
    }
}
