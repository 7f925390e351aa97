package dev.resilience.observability;

import dev.resilience.core.Pipeline;
import dev.resilience.core.PipelineListener;

/** A pipeline's meters: whole calls by outcome and their duration. */
final class PipelineBinder {

    private PipelineBinder() {
    }

    static ResilienceTelemetry.Binding bind(ResilienceTelemetry t, Pipeline<?> pipeline) {
        return t.bindWith(pipeline, pipeline.name(), b -> b.listening(pipeline.addListener(new Events(b))));
    }

    private static final class Events implements PipelineListener {
        private final Backends.CounterSeries success;
        private final Backends.CounterSeries failure;
        private final Backends.TimerSeries duration;

        Events(ResilienceTelemetry.Binding b) {
            success = b.set.counter("resilience.pipeline.calls", "calls through the pipeline", "outcome", "success");
            failure = b.set.counter("resilience.pipeline.calls", "calls through the pipeline", "outcome", "failure");
            duration = b.set.timer("resilience.pipeline.duration", "whole calls, every policy included");
        }

        @Override
        public void onCall(Pipeline<?> pipeline, long durationNanos, Throwable error) {
            (error == null ? success : failure).add(1);
            duration.record(durationNanos);
        }
    }
}
