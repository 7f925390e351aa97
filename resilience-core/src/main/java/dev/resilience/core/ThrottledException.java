package dev.resilience.core;

/**
 * An {@link AdaptiveThrottle} dropped the call before it was made: the dependency has been refusing
 * so much of the recent traffic that this client sends it only part of its calls. A
 * {@link RefusedException} ({@link Refusal#THROTTLED}); carries no stack trace.
 */
public final class ThrottledException extends RefusedException {
    private static final long serialVersionUID = 1L;

    private final double dropRatio;

    /**
     * @param throttle the name of the throttle that dropped the call
     * @param dropRatio the probability with which it was dropping calls at the time
     */
    public ThrottledException(String throttle, double dropRatio) {
        super(throttle, Refusal.THROTTLED, throttle + ": throttled (dropping "
                + Math.round(dropRatio * 1000) / 10.0 + " % of calls while the dependency refuses)");
        this.dropRatio = dropRatio;
    }

    /** The probability with which the throttle was dropping calls when it dropped this one, in (0, 1). */
    public double dropRatio() {
        return dropRatio;
    }
}
