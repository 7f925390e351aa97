package dev.resilience.redis;

import dev.resilience.context.internal.Checks;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Permit;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The Redis connection the distributed limiters share, with the guard that keeps callers up when
 * Redis is not: every script call runs under a {@link CircuitBreaker} and a short timeout, and a
 * call that fails, times out or is refused by the open breaker makes the limiter apply its
 * {@link FailureMode} instead.
 *
 * <pre>{@code
 * try (RedisBackend redis = RedisBackend.builder()
 *         .uri("redis://127.0.0.1:6379")            // or .connection(yourLettuceConnection)
 *         .timeout(Duration.ofMillis(50))           // default 100 ms
 *         .build()) {
 *     DistributedRateLimiter limiter = DistributedRateLimiter.builder("partner-api", redis)
 *             .rate(100).burst(20).build();
 *     if (limiter.tryAcquire("tenant-42")) { ... }
 * }
 * }</pre>
 *
 * <p><b>Connections.</b> With {@link Builder#uri(String)} the backend owns a Lettuce client tuned for
 * this job: it connects in the background (a service starts while Redis is down), rejects commands at once
 * while disconnected instead of queueing them, reconnects every 10 ms to 1 s, and is closed by
 * {@link #close()}. With {@link Builder#connection(StatefulRedisConnection)} it uses yours and
 * leaves it open; give it {@code DisconnectedBehavior.REJECT_COMMANDS} for the same fail-fast
 * behaviour. Scripts run with {@code EVALSHA}, falling back to {@code EVAL} when the server does not
 * know them (after a restart).
 *
 * <p><b>Guard.</b> Default breaker: opens after more than 5 consecutive failures, stays open 5 s,
 * then lets one probe through. The timeout covers connecting and the round trip.
 */
public final class RedisBackend implements AutoCloseable {

    /** The client this backend made (a single-node or a cluster client), or null for a given connection. */
    private final AbstractRedisClient client;
    /** Opens a connection with the client this backend made. */
    private final Supplier<CompletableFuture<? extends StatefulConnection<String, String>>> opener;
    private final String describe;
    private final AtomicReference<CompletableFuture<StatefulConnection<String, String>>> connection;
    private final CircuitBreaker breaker;
    /** In a cluster without a breaker of the caller's: one breaker per master, by host:port. */
    private final java.util.concurrent.ConcurrentHashMap<String, CircuitBreaker> masterBreakers;
    private final long timeoutNanos;
    private final ClientResources resources;
    /** Set by {@link #close()}: calls fail (and fall back) instead of connecting again. */
    private volatile boolean closed;

    // Lettuce 7 deprecates the adaptive-trigger setters without a replacement that keeps the refresh on
    // MOVED/ASK and reconnects that the failover test (RedisClusterTest) relies on.
    @SuppressWarnings("deprecation")
    private RedisBackend(Builder b) {
        this.breaker = b.breaker != null ? b.breaker
                : CircuitBreaker.builder("redis-" + (b.uri != null ? RedisURI.create(b.uri).getHost() + ":"
                        + RedisURI.create(b.uri).getPort() : b.clusterUris != null ? "cluster" : "connection"))
                        .openDuration(Duration.ofSeconds(5)).build(); // named for its server: unique in telemetry
        boolean perMaster = b.breaker == null && (b.clusterUris != null || b.connection instanceof StatefulRedisClusterConnection);
        this.masterBreakers = perMaster ? new java.util.concurrent.ConcurrentHashMap<>() : null;
        this.timeoutNanos = b.timeoutNanos > 0 ? b.timeoutNanos : TimeUnit.MILLISECONDS.toNanos(100);
        if (b.connection != null) {
            this.client = null;
            this.opener = null;
            this.resources = null;
            this.describe = b.connection instanceof StatefulRedisClusterConnection ? "given cluster connection"
                    : "given connection";
            this.connection = new AtomicReference<>(CompletableFuture.completedFuture(b.connection));
        } else {
            this.resources = DefaultClientResources.builder()
                    .ioThreadPoolSize(2)
                    .computationThreadPoolSize(2)
                    .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                    .build();
            SocketOptions socket = SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build();
            if (b.clusterUris != null) {
                List<RedisURI> uris = b.clusterUris.stream().map(u -> {
                    RedisURI r = RedisURI.create(u);
                    r.setTimeout(Duration.ofSeconds(1)); // a seed that accepts but never answers must not stall a connect
                    return r;
                }).toList();
                RedisClusterClient cluster = RedisClusterClient.create(resources, uris);
                cluster.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .socketOptions(socket)
                        // a failover moves slots: follow MOVED/ASK and refresh the topology on them,
                        // on reconnects and every 30 s, so decisions find the promoted replica
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enableAllAdaptiveRefreshTriggers()
                                .adaptiveRefreshTriggersTimeout(Duration.ofMillis(500))
                                .enablePeriodicRefresh(Duration.ofSeconds(30))
                                .build())
                        .build());
                this.client = cluster;
                // the async connect needs the topology first (Lettuce loads it only on a blocking connect)
                this.opener = () -> cluster.refreshPartitionsAsync().toCompletableFuture()
                        .thenCompose(loaded -> cluster.connectAsync(StringCodec.UTF8))
                        .thenCompose(RedisBackend::withMasterConnections)
                        .orTimeout(10, TimeUnit.SECONDS); // a connect that hangs fails, so the next call tries again
                this.describe = "cluster " + b.clusterUris;
            } else {
                RedisURI uri = RedisURI.create(b.uri);
                RedisClient single = RedisClient.create(resources);
                single.setOptions(ClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .socketOptions(socket)
                        .build());
                this.client = single;
                this.opener = () -> single.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
                this.describe = uri.getHost() + ":" + uri.getPort();
            }
            this.connection = new AtomicReference<>();
            connect();
        }
    }

    /** Starts building a backend; one of {@code uri}, {@code cluster} or {@code connection} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The breaker that guards the calls: every call on a single node or with a breaker of yours;
     * in a cluster without one, the calls made before the topology is known (each master then has
     * its own, see {@link #masterBreakers()}).
     *
     * @return the breaker
     */
    public CircuitBreaker circuitBreaker() {
        return breaker;
    }

    /**
     * In a cluster without a breaker of yours: the breaker of each master met so far, by
     * {@code host:port} (named {@code redis-<host:port>}), so that a master that dies opens only
     * its own and the keys on the others keep being decided by Redis. Empty otherwise.
     *
     * @return a snapshot
     */
    public java.util.Map<String, CircuitBreaker> masterBreakers() {
        return masterBreakers == null ? java.util.Map.of() : java.util.Map.copyOf(masterBreakers);
    }

    /** The breaker for a call on {@code key}: its master's in a cluster, else the one breaker. */
    private CircuitBreaker breakerFor(String key) {
        if (masterBreakers == null) {
            return breaker;
        }
        CompletableFuture<StatefulConnection<String, String>> c = connection.get();
        if (c == null || !c.isDone() || c.isCompletedExceptionally()
                || !(c.getNow(null) instanceof StatefulRedisClusterConnection<String, String> cluster)) {
            return breaker;
        }
        RedisClusterNode master = cluster.getPartitions().getMasterBySlot(SlotHash.getSlot(key));
        if (master == null || master.getUri() == null) {
            return breaker;
        }
        String node = master.getUri().getHost() + ":" + master.getUri().getPort();
        CircuitBreaker b = masterBreakers.get(node);
        return b != null ? b : masterBreakers.computeIfAbsent(node, n -> CircuitBreaker.builder("redis-" + n)
                .openDuration(Duration.ofSeconds(5)).build());
    }

    /** The longest a script call may take before the limiter falls back. */
    public Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    /**
     * Waits up to {@code timeout} for the connection (for a service that prefers to start with Redis
     * ready: a first connection sets up Lettuce's event loops and can take longer than the call
     * timeout, so the first decisions of a cold backend may fall back). Tries to connect again if the
     * last attempt failed.
     *
     * @return whether the backend is connected
     */
    public boolean awaitConnection(Duration timeout) throws InterruptedException {
        long nanos = Checks.positiveNanos(timeout, "timeout");
        try {
            StatefulConnection<String, String> c = connect().get(nanos, TimeUnit.NANOSECONDS);
            return c.isOpen();
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /**
     * Runs {@code script} on {@code key}; the stage fails with {@link Unavailable} when the breaker
     * refuses, the call fails or it exceeds the timeout.
     */
    CompletableFuture<List<Object>> eval(Script script, String key, String[] args) {
        return eval(script, new String[] {key}, args);
    }

    /** {@link #eval(Script, String, String[])} on keys of one slot. */
    CompletableFuture<List<Object>> eval(Script script, String[] keys, String[] args) {
        Permit permit = breakerFor(keys[0]).tryAcquire();
        if (!permit.isPermitted()) {
            return CompletableFuture.failedFuture(new Unavailable(FallbackCause.BREAKER_OPEN, null));
        }
        CompletableFuture<List<Object>> call = connect()
                .thenCompose(c -> run(c, script, keys, args))
                .orTimeout(timeoutNanos, TimeUnit.NANOSECONDS);
        return call.handle((result, error) -> {
            if (error == null) {
                permit.onSuccess();
                return result;
            }
            Throwable cause = unwrap(error);
            if (isAboutTheKey(cause)) {
                permit.onExcluded(); // Redis answered: the transport is fine, this key's data is not
                throw new Unavailable(FallbackCause.KEY_ERROR, cause);
            }
            permit.onFailure(cause);
            throw new Unavailable(cause instanceof TimeoutException ? FallbackCause.TIMEOUT : FallbackCause.REDIS_ERROR,
                    cause);
        });
    }

    /**
     * Error replies about the data of one key: something else wrote it (WRONGTYPE), or an operator
     * stored a limit that is not a positive number (BADLIMIT, raised by our scripts). Any other
     * error reply is the server's or the deployment's problem and counts against the breaker.
     */
    private static final List<String> KEY_ERRORS = List.of("WRONGTYPE", "BADLIMIT");

    /** An error reply about the data of the key a script touched (see {@link #KEY_ERRORS}). */
    static boolean isAboutTheKey(Throwable e) {
        if (!(e instanceof RedisCommandExecutionException)) {
            return false;
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        for (String prefix : KEY_ERRORS) {
            if (message.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Opens the connections to every master before the first decision: commands are rejected
     * while a node connection is not up (fail fast), and Lettuce opens node connections lazily.
     */
    private static CompletableFuture<StatefulRedisClusterConnection<String, String>> withMasterConnections(
            StatefulRedisClusterConnection<String, String> c) {
        List<CompletableFuture<?>> nodes = new java.util.ArrayList<>();
        for (RedisClusterNode node : c.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                nodes.add(c.getConnectionAsync(node.getUri().getHost(), node.getUri().getPort()));
            }
        }
        return CompletableFuture.allOf(nodes.toArray(new CompletableFuture<?>[0])).handle((v, e) -> c);
    }

    private static CompletionStage<List<Object>> run(StatefulConnection<String, String> c, Script script,
            String[] keys, String[] args) {
        RedisScriptingAsyncCommands<String, String> commands = c instanceof StatefulRedisClusterConnection
                ? ((StatefulRedisClusterConnection<String, String>) c).async()
                : ((StatefulRedisConnection<String, String>) c).async();
        CompletionStage<List<Object>> sha = commands.evalsha(script.sha1, ScriptOutputType.MULTI, keys, args);
        return sha.exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
                ? commands.<List<Object>>eval(script.text, ScriptOutputType.MULTI, keys, args)
                : CompletableFuture.failedFuture(e));
    }

    private CompletableFuture<StatefulConnection<String, String>> connect() {
        for (;;) {
            CompletableFuture<StatefulConnection<String, String>> c = connection.get();
            if (c != null && (!c.isCompletedExceptionally() || closed)) {
                return c;
            }
            CompletableFuture<StatefulConnection<String, String>> next = new CompletableFuture<>();
            if (connection.compareAndSet(c, next)) {
                // Lettuce sets up its channel on the calling thread (a first connect can take
                // hundreds of milliseconds): never on a caller's, whose wait the timeout bounds.
                ForkJoinPool.commonPool().execute(() -> {
                    try {
                        opener.get().whenComplete((conn, e) -> {
                            if (e != null) {
                                next.completeExceptionally(e);
                            } else {
                                next.complete(conn);
                            }
                        });
                    } catch (Throwable e) { // an Error too: a future never completed would stay installed for good
                        next.completeExceptionally(e);
                    }
                });
                return next;
            }
        }
    }

    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /**
     * Closes the connection and client this backend made; a connection given to the builder is left
     * open.
     */
    @Override
    public void close() {
        if (client == null || closed) {
            return;
        }
        closed = true;
        CompletableFuture<StatefulConnection<String, String>> c = connection.getAndSet(
                CompletableFuture.failedFuture(new IllegalStateException("closed")));
        if (c != null && c.isDone() && !c.isCompletedExceptionally()) {
            c.join().close();
        }
        client.shutdown(Duration.ofMillis(100), Duration.ofSeconds(2));
        resources.shutdown(100, 2000, TimeUnit.MILLISECONDS);
    }

    @Override
    public String toString() {
        return "RedisBackend[" + describe
                + ", timeout " + timeout() + ", breaker " + breaker.state() + "]";
    }

    /** Why Redis could not decide; carried to the limiter, which falls back. No stack trace. */
    static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final FallbackCause reason;

        Unavailable(FallbackCause reason, Throwable cause) {
            super(reason.name(), cause, false, false);
            this.reason = reason;
        }
    }

    /** Builds a {@link RedisBackend}. Each setter may be called once. */
    public static final class Builder {
        private String uri;
        private List<String> clusterUris;
        private StatefulConnection<String, String> connection;
        private CircuitBreaker breaker;
        private long timeoutNanos = -1;

        private Builder() {
        }

        /** A Redis URI such as {@code redis://127.0.0.1:6379/0}; the backend owns the client it makes. */
        public Builder uri(String uri) {
            Checks.once(unset(), "uri, cluster or connection");
            RedisURI.create(Objects.requireNonNull(uri, "uri"));
            this.uri = uri;
            return this;
        }

        /**
         * A Redis Cluster, found from any of these nodes' URIs; the backend owns the cluster client it
         * makes, which follows MOVED/ASK redirections and refreshes the topology when slots move (a
         * failover) and every 30 s. Every script touches one key, so each decision is one round
         * trip to the master of that key's slot.
         *
         * @param uris one or more node URIs such as {@code redis://10.0.0.1:7000}
         * @return this builder
         * @throws IllegalArgumentException if there is none or one is not a Redis URI
         */
        public Builder cluster(List<String> uris) {
            Checks.once(unset(), "uri, cluster or connection");
            Objects.requireNonNull(uris, "uris");
            if (uris.isEmpty()) {
                throw new IllegalArgumentException("cluster needs at least one node URI");
            }
            uris.forEach(u -> RedisURI.create(Objects.requireNonNull(u, "uri")));
            this.clusterUris = List.copyOf(uris);
            return this;
        }

        /** A connection of yours (string codec); the backend never closes it. */
        public Builder connection(StatefulRedisConnection<String, String> connection) {
            Checks.once(unset(), "uri, cluster or connection");
            this.connection = Objects.requireNonNull(connection, "connection");
            return this;
        }

        /**
         * A cluster connection of yours (string codec); the backend never closes it. Configure its
         * client's topology refresh (adaptive triggers) so that decisions follow a failover.
         *
         * @param connection the connection
         * @return this builder
         */
        public Builder clusterConnection(StatefulRedisClusterConnection<String, String> connection) {
            Checks.once(unset(), "uri, cluster or connection");
            this.connection = Objects.requireNonNull(connection, "connection");
            return this;
        }

        private boolean unset() {
            return uri == null && clusterUris == null && connection == null;
        }

        /** The longest a call may take, connecting included, before falling back; default 100 ms. */
        public Builder timeout(Duration timeout) {
            Checks.once(timeoutNanos < 0, "timeout");
            this.timeoutNanos = Checks.positiveNanos(timeout, "timeout");
            return this;
        }

        /** The breaker that guards the calls; default: see the class comment. */
        public Builder circuitBreaker(CircuitBreaker breaker) {
            Checks.once(this.breaker == null, "circuitBreaker");
            this.breaker = Objects.requireNonNull(breaker, "breaker");
            return this;
        }

        /** Builds the backend; with a URI it starts connecting in the background (never fails for Redis being down). */
        public RedisBackend build() {
            if (unset()) {
                throw new IllegalStateException("uri(...), cluster(...) or connection(...) is required");
            }
            return new RedisBackend(this);
        }
    }
}
