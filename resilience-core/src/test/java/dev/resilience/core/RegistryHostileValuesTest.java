package dev.resilience.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Values at the edges of what a parser can take: each is a reported problem or saturates, never an escape. */
class RegistryHostileValuesTest {

    @Test
    void durationsAtTheEdgesOfJavaTimeAreProblemsOrSaturate() {
        for (String hostile : new String[] {"PT-9223372036854775808S", "PT-2562047788015215H-30M-8S"}) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> ResilienceRegistry.of(Map.of("resilience.timeout.t.timeout", hostile)), hostile);
            assertEquals("resilience.timeout.t.timeout", e.problems().get(0).key(), e.getMessage());
        }
        ResilienceRegistry huge = ResilienceRegistry.of(Map.of("resilience.timeout.t.timeout", "PT9223372036854775807S"));
        assertEquals(Duration.ofNanos(1L << 62), huge.timeout("t").timeout(), "beyond the horizon is the horizon");
    }

    @Test
    void configCheckKeepsCheckingAfterAFileItCannotRead(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.properties");
        Files.writeString(bad, "resilience.timeout.t.timeout=PT-9223372036854775808S\n");
        Path good = dir.resolve("good.properties");
        Files.writeString(good, "resilience.timeout.t.timeout=250ms\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ConfigCheck.run(new String[] {bad.toString(), dir.resolve("missing.properties").toString(),
                good.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status, "a file it cannot read is a usage error");
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains(bad + ": resilience.timeout.t.timeout="), printed);
        assertTrue(printed.contains("OK " + good), "the last file is still checked: " + printed);
    }
}
