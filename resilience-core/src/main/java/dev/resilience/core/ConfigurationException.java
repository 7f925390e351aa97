package dev.resilience.core;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * A configuration of {@link ResilienceRegistry} that cannot be used, with every problem found in it
 * (not just the first): each names the key, the value as given and why it was refused.
 *
 * <pre>{@code
 * try {
 *     ResilienceRegistry.of(properties);
 * } catch (ConfigurationException e) {
 *     e.problems().forEach(p -> log.error("{}={}: {}", p.key(), p.value(), p.message()));
 * }
 * }</pre>
 */
public final class ConfigurationException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** An array, so that the exception stays serializable (a {@code List} field is not known to be). */
    private final Problem[] problems;

    /**
     * One thing wrong with a configuration.
     *
     * @param key the key at fault, e.g. {@code resilience.ratelimiter.api.rate}; for a property that
     *     is missing, the key it would have; for settings that do not go together, the instance's
     *     prefix, e.g. {@code resilience.circuitbreaker.payments}
     * @param value the value as given (trimmed), or empty when the key has none
     * @param message why the value was refused
     */
    public record Problem(String key, String value, String message) implements Serializable {
        /**
         * A problem.
         *
         * @throws NullPointerException if any part is null
         */
        public Problem {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(message, "message");
        }

        /** {@code key=value: message}, the form {@link ConfigCheck} prints. */
        @Override
        public String toString() {
            return key + "=" + value + ": " + message;
        }
    }

    /**
     * An exception listing {@code problems} (at least one), in the given order; for an integration
     * (a framework's starter) that checks more than the registry does and reports it the same way.
     *
     * @throws IllegalArgumentException if {@code problems} is empty
     * @throws NullPointerException if {@code problems} is or holds null
     */
    public ConfigurationException(List<Problem> problems) {
        super(message(problems));
        this.problems = problems.toArray(new Problem[0]);
    }

    private static String message(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigurationException needs at least one problem");
        }
        StringBuilder sb = new StringBuilder();
        sb.append(problems.size()).append(problems.size() == 1 ? " configuration problem:" : " configuration problems:");
        for (Problem p : problems) {
            sb.append("\n  ").append(Objects.requireNonNull(p, "problem"));
        }
        return sb.toString();
    }

    /** Every problem, in the order given (the registry sorts its own by key); immutable. */
    public List<Problem> problems() {
        return List.of(problems);
    }
}
