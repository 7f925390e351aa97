package dev.resilience.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Smoke test: every order is processed exactly once, and the producer was held back by the small queue. */
class WorkerPoolDemoTest {

    @Test
    void everyOrderOnceWithBackPressure() throws Exception {
        DemoOutput output = new DemoOutput();
        WorkerPoolDemo.Outcome o = WorkerPoolDemo.run(output.stream);
        String out = output.text();
        assertEquals(WorkerPoolDemo.ORDERS, o.collected(), out);
        for (int i = 0; i < WorkerPoolDemo.ORDERS; i++) {
            assertEquals(1, o.processed().get(i), "order " + i + ": " + out);
        }
        assertTrue(o.maxDepth() <= WorkerPoolDemo.QUEUE, out);
        assertTrue(o.producerWaits() > 0, "the producer outran the workers and had to wait: " + out);
    }
}
