package dev.resilience.spring.internal;

import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.observability.ResilienceTelemetry;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;
import java.util.function.Consumer;

/** Binds each instance a registry builds to the application's meters. */
public final class MeterBinder implements Consumer<Object> {

    private static final System.Logger LOG = System.getLogger(MeterBinder.class.getName());

    private final ResilienceTelemetry telemetry;

    /** Binds to {@code meters}. */
    public MeterBinder(MeterRegistry meters) {
        this.telemetry = ResilienceTelemetry.builder().meterRegistry(Objects.requireNonNull(meters, "meters")).build();
    }

    @Override
    public void accept(Object instance) {
        try {
            if (instance instanceof Pipeline<?> p) {
                telemetry.bind(p);
            } else if (instance instanceof Policy p) {
                telemetry.bind(p);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "no meters for " + instance, e);
        }
    }
}
