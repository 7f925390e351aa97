package dev.resilience.spring.internal;

import dev.resilience.core.ConfigurationException;
import dev.resilience.core.ConfigurationException.Problem;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a {@link ConfigurationException} that stopped startup into Spring Boot's failure report:
 * every problem, one per line, with the key, the value and why it was refused.
 */
public final class ConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<ConfigurationException> {

    /** Created by Spring Boot from {@code META-INF/spring.factories}. */
    public ConfigurationFailureAnalyzer() {
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ConfigurationException cause) {
        StringBuilder description = new StringBuilder("The resilience configuration has ")
                .append(cause.problems().size()).append(cause.problems().size() == 1 ? " problem:" : " problems:");
        for (Problem p : cause.problems()) {
            description.append("\n\n    ").append(p.key());
            if (!p.value().isEmpty()) {
                description.append("=").append(p.value());
            }
            description.append("\n        ").append(p.message());
        }
        String action = "Correct the resilience.* properties (application.yml, application.properties, environment"
                + " variables) or the annotations listed above. Durations take a unit (250ms, 5s, PT5S); the keys"
                + " are resilience.<kind>.<name>.<property>, with kinds ratelimiter, circuitbreaker, bulkhead,"
                + " adaptivelimiter, retry, timeout and pipeline.";
        return new FailureAnalysis(description.toString(), action, cause);
    }
}
