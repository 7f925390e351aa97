package dev.resilience.spring.internal;

import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.observability.ResilienceTelemetry;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;
import java.util.function.Consumer;

/** Binds each instance a registry builds to the application's meters (and OpenTelemetry's, when it has one). */
public final class MeterBinder implements Consumer<Object> {

    /** Created on first use: the JDK's logger lookup is not worth loading at startup for a message that may never come. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger(MeterBinder.class.getName());
    }

    private final ResilienceTelemetry telemetry;

    /**
     * Binds to {@code meters}, and to OpenTelemetry too if {@code openTelemetry} (an
     * {@code io.opentelemetry.api.OpenTelemetry}, or null) is given: its meters, and span events on
     * state changes and retries.
     */
    public MeterBinder(MeterRegistry meters, Object openTelemetry) {
        ResilienceTelemetry.Builder b = ResilienceTelemetry.builder().meterRegistry(Objects.requireNonNull(meters, "meters"));
        if (openTelemetry != null) {
            b.openTelemetry((io.opentelemetry.api.OpenTelemetry) openTelemetry);
        }
        this.telemetry = b.build();
    }

    @Override
    public void accept(Object instance) {
        try {
            if (instance instanceof Pipeline<?> p) {
                telemetry.bind(p);
            } else if (instance instanceof Policy p) {
                telemetry.bind(p);
            }
        } catch (Exception | LinkageError e) { // a meter filter's, a checked one past the signature too
            Log.LOG.log(System.Logger.Level.WARNING, "no meters for " + instance, e);
        }
    }
}
