package dev.resilience.redis.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port, for tests, benchmarks and examples: no
 * persistence, {@code DEBUG} enabled (for {@code DEBUG SLEEP}). The binary is looked up on the
 * {@code PATH} and in {@code /usr/bin}, {@code /usr/local/bin}, {@code /usr/sbin}; {@link #start()}
 * fails with an explanation if it is missing. Only {@link #startInstallingIfMissing()}, which this
 * toolkit's own tests and examples use, runs an installer: the {@code .ci/install-redis} script of
 * the repository it is run from.
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.start()) {
 *     RedisBackend backend = RedisBackend.builder().uri(redis.uri()).build();
 *     ...
 *     redis.stop();      // an outage
 *     redis.restart();   // same port
 * }
 * }</pre>
 */
public final class RedisServer implements AutoCloseable {

    private final String binary;
    private final int port;
    private final List<String> extraArgs;
    private final List<Socket> sleepers = new ArrayList<>();
    private Process process;

    private RedisServer(String binary, int port, List<String> extraArgs) {
        this.binary = binary;
        this.port = port;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /**
     * Starts a server on a free loopback port; returns once it accepts connections.
     *
     * @throws IllegalStateException if no {@code redis-server} binary is installed
     */
    public static RedisServer start() {
        String found = find();
        if (found == null) {
            throw new IllegalStateException("redis-server is not installed; install it (Debian/Ubuntu: "
                    + "apt-get install redis-server, macOS: brew install redis) or put it on the PATH");
        }
        return launchOn(found);
    }

    /**
     * Like {@link #start()}, but if the binary is missing first runs {@code .ci/install-redis} (it
     * installs Debian's package, with {@code sudo} when not root), found by walking up from the
     * working directory: for the toolkit's own repository, whose tests and examples use it.
     *
     * @throws IllegalStateException if there is no such script or it fails
     */
    public static RedisServer startInstallingIfMissing() {
        return launchOn(binary());
    }

    private static RedisServer launchOn(String binary) {
        RedisServer server = new RedisServer(binary, freePort(), List.of());
        server.launch();
        return server;
    }

    /** A server with more arguments (a cluster node), on {@code port}; for {@link RedisCluster}. */
    static RedisServer launch(String binary, int port, List<String> extraArgs) {
        RedisServer server = new RedisServer(binary, port, extraArgs);
        server.launch();
        return server;
    }

    /** The binary, installed first if missing (see {@link #startInstallingIfMissing()}). */
    static String installedBinary() {
        return binary();
    }

    /** The port. */
    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Whether the server process is running. */
    public boolean running() {
        return process != null && process.isAlive();
    }

    /** Stops the server (an outage); clients see their connections close. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        process = null;
        closeSleepers();
    }

    /** Starts the server again on the same port, empty. */
    public void restart() {
        stop();
        launch();
    }

    /**
     * Makes the server unresponsive for {@code seconds} ({@code DEBUG SLEEP}), sent on a connection
     * of its own; returns at once.
     */
    public void sleep(double seconds) {
        try {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
            OutputStream out = s.getOutputStream();
            out.write(("DEBUG SLEEP " + seconds + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            sleepers.add(s);
            awaitAsleep();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns once a PING goes unanswered for 50 ms: the server has started to sleep. */
    private void awaitAsleep() throws IOException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - end < 0) {
            Socket probe = new Socket(InetAddress.getLoopbackAddress(), port);
            try {
                probe.setSoTimeout(50);
                probe.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                probe.getOutputStream().flush();
                probe.getInputStream().read();
                probe.close();
            } catch (java.net.SocketTimeoutException asleep) {
                sleepers.add(probe);
                return;
            }
        }
        throw new IllegalStateException("redis-server did not start sleeping");
    }

    @Override
    public void close() {
        stop();
    }

    private void launch() {
        List<String> command = new ArrayList<>(List.of(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--daemonize", "no",
                "--loglevel", "notice"));
        command.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary, e);
        }
        CountDownLatch ready = new CountDownLatch(1);
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (ready.getCount() > 0) {
                        appendCapped(log, line);
                        if (line.contains("Ready to accept connections")) {
                            ready.countDown();
                        }
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "redis-server-" + port + "-log");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!ready.await(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-server did not get ready on port " + port + ":\n" + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException(e);
        }
        this.process = p;
    }

    private static void appendCapped(StringBuilder log, String line) {
        if (log.length() < 10_000) {
            log.append(line).append('\n');
        }
    }

    private void closeSleepers() {
        for (Socket s : sleepers) {
            try {
                s.close();
            } catch (IOException e) {
                // already gone
            }
        }
        sleepers.clear();
    }

    /** A free port whose cluster bus port (+10000) is free too. */
    static int freeClusterPort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = freePort();
            if (port + 10_000 > 65_535) {
                continue;
            }
            try (ServerSocket bus = new ServerSocket(port + 10_000, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port pair for a cluster node");
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String binary() {
        String found = find();
        if (found != null) {
            return found;
        }
        Path script = installScript();
        if (script == null) {
            throw new IllegalStateException("redis-server is not installed and .ci/install-redis was not found above "
                    + Path.of("").toAbsolutePath() + "; install it with: apt-get install redis-server");
        }
        try {
            Process p = new ProcessBuilder("bash", script.toString()).inheritIO().start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException(script + " failed; install redis-server with: apt-get install redis-server");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        found = find();
        if (found == null) {
            throw new IllegalStateException(script + " ran but redis-server is still missing");
        }
        return found;
    }

    private static String find() {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(List.of("/usr/bin", "/usr/local/bin", "/usr/sbin"));
        if (path != null) {
            dirs.addAll(0, List.of(path.split(java.io.File.pathSeparator)));
        }
        for (String dir : dirs) {
            Path candidate = Path.of(dir, "redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    private static Path installScript() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path script = dir.resolve(".ci/install-redis");
            if (Files.isRegularFile(script)) {
                return script;
            }
        }
        return null;
    }
}
