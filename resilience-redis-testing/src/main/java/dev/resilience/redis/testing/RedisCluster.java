package dev.resilience.redis.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster on loopback ports for tests: {@code masters} masters with
 * {@code replicasPerMaster} replicas each, made by {@code redis-cli --cluster create}, with a short
 * node timeout (1 s) so that a killed master's replica takes over within seconds, and
 * {@code cluster-require-full-coverage no}, so that the other masters keep serving their slots
 * meanwhile (with Redis's default, {@code yes}, every node answers {@code CLUSTERDOWN} until then). Needs
 * {@code redis-server} and {@code redis-cli}; installs Debian's package through
 * {@code .ci/install-redis} when run inside the toolkit's repository, as
 * {@link RedisServer#startInstallingIfMissing()} does.
 *
 * <pre>{@code
 * try (RedisCluster cluster = RedisCluster.start(3, 1)) {
 *     RedisBackend redis = RedisBackend.builder().cluster(cluster.uris()).build();
 *     ...
 *     cluster.masterOf("resilience:rate:api:{tenant-1}").stop();   // a master dies
 *     cluster.awaitHealthy(Duration.ofSeconds(30));                 // its replica took over
 * }
 * }</pre>
 */
public final class RedisCluster implements AutoCloseable {

    private final String cli;
    private final Path dir;
    private final List<RedisServer> nodes;

    private RedisCluster(String cli, Path dir, List<RedisServer> nodes) {
        this.cli = cli;
        this.dir = dir;
        this.nodes = nodes;
    }

    /**
     * Starts the nodes, joins them into a cluster and returns once every slot is served.
     *
     * @param masters at least 3 (what {@code redis-cli --cluster create} requires)
     * @param replicasPerMaster 0 or more
     * @return the running cluster
     * @throws IllegalArgumentException if {@code masters < 3} or {@code replicasPerMaster < 0}
     * @throws IllegalStateException if a node does not start or the cluster does not form in time
     */
    public static RedisCluster start(int masters, int replicasPerMaster) {
        if (masters < 3 || replicasPerMaster < 0) {
            throw new IllegalArgumentException("masters must be at least 3 and replicasPerMaster at least 0: "
                    + masters + ", " + replicasPerMaster);
        }
        String server = RedisServer.installedBinary();
        String cli = Path.of(server).resolveSibling("redis-cli").toString();
        Path dir;
        try {
            dir = Files.createTempDirectory("redis-cluster");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<RedisServer> nodes = new ArrayList<>();
        RedisCluster cluster = new RedisCluster(cli, dir, nodes);
        try {
            for (int i = 0; i < masters * (1 + replicasPerMaster); i++) {
                int port = RedisServer.freeClusterPort();
                nodes.add(RedisServer.launch(server, port, List.of("--cluster-enabled", "yes",
                        "--cluster-config-file", dir.resolve("nodes-" + port + ".conf").toString(),
                        "--cluster-node-timeout", "1000", "--cluster-require-full-coverage", "no",
                        "--dir", dir.toString())));
            }
            List<String> create = new ArrayList<>(List.of("--cluster", "create"));
            for (RedisServer n : nodes) {
                create.add("127.0.0.1:" + n.port());
            }
            create.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
            String out = cluster.run(create);
            if (!out.contains("All 16384 slots covered")) {
                throw new IllegalStateException("cluster create failed:\n" + out);
            }
            if (!cluster.awaitHealthy(Duration.ofSeconds(30))) {
                throw new IllegalStateException("the cluster did not become healthy");
            }
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * The nodes' URIs ({@code redis://127.0.0.1:<port>}), masters and replicas, as a cluster client
     * takes them for discovery.
     *
     * @return the URIs
     */
    public List<String> uris() {
        List<String> uris = new ArrayList<>();
        for (RedisServer n : nodes) {
            uris.add(n.uri());
        }
        return uris;
    }

    /**
     * Every node, stopped ones included.
     *
     * @return the nodes
     */
    public List<RedisServer> nodes() {
        return List.copyOf(nodes);
    }

    /**
     * The running nodes that are masters now (after a failover, a promoted replica is one).
     *
     * @return the masters
     */
    public List<RedisServer> masters() {
        List<RedisServer> masters = new ArrayList<>();
        for (RedisServer n : nodes) {
            if (n.running() && cli(n, "ROLE").startsWith("master")) {
                masters.add(n);
            }
        }
        return masters;
    }

    /**
     * The running master that serves {@code key}'s slot now.
     *
     * @param key a Redis key (its hash tag, if any, decides the slot)
     * @return the master
     * @throws IllegalStateException if no running master serves it
     */
    public RedisServer masterOf(String key) {
        RedisServer any = running();
        long slot = Long.parseLong(cli(any, "CLUSTER", "KEYSLOT", key).trim());
        for (RedisServer m : masters()) {
            for (String line : cli(m, "CLUSTER", "NODES").split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length < 9 || !f[2].contains("myself")) {
                    continue;
                }
                for (int i = 8; i < f.length; i++) {
                    String range = f[i];
                    if (range.startsWith("[")) {
                        continue;
                    }
                    String[] ends = range.split("-");
                    long lo = Long.parseLong(ends[0]);
                    long hi = ends.length > 1 ? Long.parseLong(ends[1]) : lo;
                    if (slot >= lo && slot <= hi) {
                        return m;
                    }
                }
            }
        }
        throw new IllegalStateException("no running master serves slot " + slot);
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok} and every slot is served by a
     * running master (after a master died: until its replica took over).
     *
     * @param timeout how long to wait
     * @return whether the cluster became healthy in time
     */
    public boolean awaitHealthy(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - end < 0) {
            if (healthy()) {
                return true;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return healthy();
    }

    private boolean healthy() {
        int slots = 0;
        for (RedisServer n : nodes) {
            if (!n.running()) {
                continue;
            }
            if (!cli(n, "CLUSTER", "INFO").contains("cluster_state:ok")) {
                return false;
            }
        }
        for (RedisServer m : masters()) {
            String info = cli(m, "CLUSTER", "INFO");
            for (String line : info.split("\n")) {
                if (line.startsWith("cluster_slots_ok:")) {
                    slots = Math.max(slots, Integer.parseInt(line.substring("cluster_slots_ok:".length()).trim()));
                }
            }
        }
        return slots == 16384 && masters().size() >= 3;
    }

    /**
     * Runs {@code redis-cli -p <node's port> args...} and returns what it printed.
     *
     * @param node the node
     * @param args the command
     * @return the output
     */
    public String cli(RedisServer node, String... args) {
        List<String> command = new ArrayList<>(List.of("-h", "127.0.0.1", "-p", Integer.toString(node.port())));
        command.addAll(List.of(args));
        return run(command);
    }

    private RedisServer running() {
        for (RedisServer n : nodes) {
            if (n.running()) {
                return n;
            }
        }
        throw new IllegalStateException("no node is running");
    }

    private String run(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(cli);
        command.addAll(args);
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-cli did not finish: " + command);
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops every node and removes their files. */
    @Override
    public void close() {
        for (RedisServer n : nodes) {
            n.stop();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // a temp file left behind
                }
            });
        } catch (IOException e) {
            // a temp directory left behind
        }
    }
}
