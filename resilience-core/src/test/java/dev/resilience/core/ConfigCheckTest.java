package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command-line check of .properties files. */
class ConfigCheckTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return ConfigCheck.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String file(String name, String... lines) throws IOException {
        return Files.write(dir.resolve(name), List.of(lines), StandardCharsets.UTF_8).toString();
    }

    @Test
    void aValidFileIsOk() throws IOException {
        String app = file("app.properties",
                "# payments",
                "resilience.ratelimiter.payments.rate=50/s",
                "resilience.circuitbreaker.payments.failure-rate-threshold=50%",
                "resilience.circuitbreaker.payments.count-window=20",
                "resilience.pipeline.payments.policies=circuitbreaker:payments, ratelimiter:payments",
                "server.port=8080");
        assertEquals(0, run(app));
        assertEquals("OK " + app + System.lineSeparator(), out());
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aFileWithProblemsPrintsEveryOne() throws IOException {
        String ok = file("ok.properties", "resilience.bulkhead.b.max-concurrent=4");
        String bad = file("bad.properties",
                "resilience.ratelimiter.api.rate=fast",
                "resilience.ratelimiter.api.brust=2",
                "resilience.bulkhead.b.max-wait=-1s");
        assertEquals(1, run(ok, bad));
        List<String> lines = out().lines().toList();
        assertEquals(List.of(
                "OK " + ok,
                bad + ": resilience.bulkhead.b.max-wait=-1s: maxWait must not be negative: PT-1S",
                bad + ": resilience.ratelimiter.api.brust=2: unknown property 'brust' of ratelimiter (did you mean burst?)",
                bad + ": resilience.ratelimiter.api.rate=fast: not a number"), lines);
    }

    @Test
    void aMissingFileOrNoArgumentsIsAUsageError() throws IOException {
        String ok = file("ok.properties", "resilience.timeout.t.timeout=1s");
        String missing = dir.resolve("missing.properties").toString();
        assertEquals(2, run(missing, ok));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith(missing + ": cannot read: "));
        assertEquals("OK " + ok + System.lineSeparator(), out(), "the other files are still checked");

        err.reset();
        assertEquals(2, run());
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("usage: "));
    }
}
