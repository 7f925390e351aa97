package dev.resilience.core;

/**
 * Receives the outcome of each call through a {@link Pipeline}, after every policy (fallback
 * included). Every method defaults to doing nothing; a pipeline without a listener reads no clock for
 * it. Methods run on the thread that finished the call: keep them short and never block.
 *
 * <p>An exception a method throws is caught and logged through {@link System.Logger} (logger
 * {@code dev.resilience.core.listener}); it never changes the call's outcome, the policy's state or
 * its permits.
 */
public interface PipelineListener {

    /** The listener that ignores everything; the default. */
    PipelineListener NOOP = new PipelineListener() {
    };

    /**
     * A call ended.
     *
     * @param pipeline the pipeline
     * @param durationNanos how long the whole call took, on the pipeline's ticker
     * @param failure what it threw, or null if it returned
     */
    default void onCall(Pipeline<?> pipeline, long durationNanos, Throwable failure) {
    }
}
