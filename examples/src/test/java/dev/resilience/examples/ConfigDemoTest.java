package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Smoke test: the configured pipeline serves, the reload reaches the live limiter, all five mistakes are reported. */
class ConfigDemoTest {

    @Test
    void configuredPipelineReloadAndFiveMistakes() throws Exception {
        DemoOutput output = new DemoOutput();
        ConfigDemo.Outcome o = ConfigDemo.run(output.stream, Path.of("config"));
        String out = output.text();
        assertEquals(5, o.served(), out);
        assertEquals(1, o.afterRetry(), out);
        assertEquals(50.0, o.rateBefore(), out);
        assertEquals(80.0, o.rateAfter(), out);
        assertEquals(5, o.problems(), out);
        assertEquals(1, o.checkExit(), out);
        assertTrue(out.contains("failure-rate-treshold") && out.contains("did you mean failure-rate-threshold"), out);
        assertTrue(out.contains("[summary]") && !out.contains("false"), out);
    }
}
