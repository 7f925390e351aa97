package dev.resilience.core;

/**
 * Receives the outcome of each call through a {@link Pipeline}, after every policy (fallback
 * included). Every method defaults to doing nothing; a pipeline without a listener reads no clock for
 * it. Methods run on the thread that finished the call: keep them short and never block.
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
