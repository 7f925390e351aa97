package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Smoke test against a real redis-server: the two instances never exceed the shared limit while
 * Redis decides, the local fallback decides during the outage, Redis decides again after it, and
 * no decision waits much beyond the 100 ms timeout.
 */
class DistributedLimitDemoTest {

    @Test
    void sharedLimitOutageAndRecovery() throws Exception {
        DemoOutput output = new DemoOutput();
        DistributedLimitDemo.Outcome o = DistributedLimitDemo.run(output.stream, Duration.ofSeconds(2),
                Duration.ofSeconds(1), Duration.ofSeconds(4));
        String out = output.text();
        double bound = 2 * DistributedLimitDemo.BURST + DistributedLimitDemo.RATE * o.secondsWithRedis() + 2;
        assertTrue(o.grantedByRedis() <= bound, o.grantedByRedis() + " > " + bound + "\n" + out);
        assertTrue(o.grantedByRedis() >= DistributedLimitDemo.RATE, "the limit was used\n" + out);
        assertTrue(o.localDecisions() > 0, "the fallback decided during the outage\n" + out);
        assertTrue(o.redisDecisionsAfterRestart() > 0, "Redis decided again after the restart\n" + out);
        assertTrue(o.operatorLimitApplied(), "an operator's limit kept in Redis reached both instances\n" + out);
        assertTrue(o.slowestMillis() < 1000, "slowest decision " + o.slowestMillis() + " ms\n" + out);
    }
}
