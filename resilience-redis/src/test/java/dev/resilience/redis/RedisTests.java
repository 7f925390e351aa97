package dev.resilience.redis;

import dev.resilience.redis.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Shared test support: one real redis-server per instance (per test class, or per test where a
 * class creates one in {@code @BeforeEach}), a plain Lettuce connection to look at
 * keys, unique names so that tests never share keys, and bounded waits that spin (yielding) instead
 * of sleeping.
 */
final class RedisTests implements AutoCloseable {

    private static final AtomicInteger NAMES = new AtomicInteger();

    final RedisServer server;
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;

    RedisTests() {
        this.server = RedisServer.startInstallingIfMissing();
    }

    /** Synchronous commands on a connection of the test's own (reconnected after a restart). */
    RedisCommands<String, String> redis() {
        if (connection == null || !connection.isOpen()) {
            closeConnection();
            client = RedisClient.create(server.uri());
            connection = client.connect();
        }
        return connection.sync();
    }

    /** The Redis server's clock in microseconds. */
    long serverMicros() {
        List<String> t = redis().time();
        return Long.parseLong(t.get(0)) * 1_000_000L + Long.parseLong(t.get(1));
    }

    /**
     * A connected backend on this server with the default breaker and a 5 s timeout, not the default
     * 100 ms: the tests that use it assert decisions made by Redis, and on a loaded 2-core machine a
     * stall of the I/O thread or of redis-server past 100 ms would turn one into a fallback. Tests of
     * the timeout itself build their own backend.
     */
    RedisBackend backend() {
        return backend(java.time.Duration.ofSeconds(5));
    }

    /** A backend whose commands time out after {@code timeout} (the backend's default is 100 ms). */
    RedisBackend backend(java.time.Duration timeout) {
        return connected(RedisBackend.builder().uri(server.uri()).timeout(timeout).build());
    }

    private RedisBackend connected(RedisBackend backend) {
        try {
            if (!backend.awaitConnection(java.time.Duration.ofSeconds(20))) {
                throw new AssertionError("no connection to " + server.uri());
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return backend;
    }

    static String uniqueName(String base) {
        return base + "-" + NAMES.incrementAndGet() + "-" + System.nanoTime();
    }

    static void await(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.yield();
        }
    }

    /** A thread calling {@code acquire} under a context, and what it threw (null if nothing). */
    record Acquirer(Thread thread, java.util.concurrent.atomic.AtomicReference<Throwable> failure) {
    }

    /** Starts a thread that runs {@code limiter.acquire(key, 1)} with {@code ctx} attached. */
    static Acquirer acquireInThread(DistributedRateLimiter limiter, String key, dev.resilience.context.Context ctx) {
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> {
            try (dev.resilience.context.Scope s = ctx.attach()) {
                limiter.acquire(key, 1);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "acquirer");
        t.start();
        return new Acquirer(t, failure);
    }

    /** Awaits {@code t} parked inside {@code Context.sleepUntil} (not, say, waiting for Redis's reply). */
    static void awaitSleeping(Thread t) {
        await(() -> (t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING)
                && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("sleepUntil")),
                t.getName() + " sleeping until its reservation (state " + t.getState() + ")");
    }

    private void closeConnection() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
        if (client != null) {
            client.shutdown();
            client = null;
        }
    }

    @Override
    public void close() {
        closeConnection();
        server.close();
    }
}
