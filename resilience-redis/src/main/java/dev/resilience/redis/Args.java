package dev.resilience.redis;

import java.util.Objects;

/**
 * The checks of keys and permits this package's methods share; durations and set-once settings go
 * through the toolkit's shared {@link dev.resilience.context.internal.Checks}.
 */
final class Args {

    private Args() {
    }

    static void permits(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1: " + permits);
        }
    }

    static String key(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key must not be empty");
        }
        return key;
    }
}
