package dev.resilience.examples;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Scope;
import dev.resilience.pool.Allocator;
import dev.resilience.pool.Lease;
import dev.resilience.pool.ObjectPool;
import dev.resilience.pool.PoolListener;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pooling an expensive client: connections that take 50 ms to open are made in the background and
 * reused; a broken one is caught by validation on borrow and replaced; a borrower that forgets to
 * return its lease is reported with where it borrowed; a borrower whose deadline passes while the
 * pool is exhausted gives up instead of waiting the pool's 30 s.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.ObjectPoolDemo}
 */
public final class ObjectPoolDemo {

    private ObjectPoolDemo() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** A stand-in for a client to a remote service: costly to open, may break. */
    static final class Client {
        final int id;
        volatile boolean broken;

        Client(int id) {
            this.id = id;
        }

        String query(String q) {
            if (broken) {
                throw new IllegalStateException("client " + id + " is broken");
            }
            return "client " + id + " answered " + q;
        }
    }

    /** The first stack frame outside the pool: where the lease was borrowed. */
    static StackTraceElement callerOf(Throwable borrowedAt) {
        for (StackTraceElement e : borrowedAt.getStackTrace()) {
            if (!e.getClassName().startsWith("dev.resilience.pool.")) {
                return e;
            }
        }
        return null;
    }

    /** What happened. */
    record Outcome(int opened, int closed, int reusedAnswers, boolean brokenReplaced, boolean leakReported,
            boolean deadlineHonoured) {
    }

    static Outcome run(PrintStream out) throws Exception {
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        CountDownLatch leakReported = new CountDownLatch(1);
        Allocator<Client> clients = new Allocator<>() {
            @Override
            public Client allocate() throws InterruptedException {
                Context.background().sleepUntil(dev.resilience.context.Ticker.system(),
                        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50)); // the expensive handshake
                Client c = new Client(opened.incrementAndGet());
                out.println("[pool] opened client " + c.id);
                return c;
            }

            @Override
            public void deallocate(Client c) {
                closed.incrementAndGet();
                out.println("[pool] closed client " + c.id);
            }

            @Override
            public boolean validate(Client c) {
                return !c.broken;
            }
        };
        ObjectPool<Client> pool = ObjectPool.builder(clients).name("search-clients")
                .maxSize(2).minIdle(2)
                .validateOnBorrow(true)
                .leakDetection(Duration.ofMillis(300))
                .maintenanceInterval(Duration.ofMillis(50))
                .listener(new PoolListener() {
                    @Override
                    public void onLeakSuspected(ObjectPool<?> pool, Object object, Duration held, Throwable borrowedAt) {
                        out.println("[pool] lease of client " + ((Client) object).id + " held for " + held.toMillis()
                                + " ms; borrowed at " + callerOf(borrowedAt));
                        leakReported.countDown();
                    }
                })
                .build();

        // 1. reuse: ten queries, two clients
        int answers = 0;
        for (int i = 0; i < 10; i++) {
            try (Lease<Client> lease = pool.borrow()) {
                lease.get().query("q" + i);
                answers++;
            }
        }
        out.println("[demo] 10 queries answered by " + opened.get() + " clients");

        // 2. validation: a client breaks while idle; the next borrow never sees it
        Client broken;
        try (Lease<Client> lease = pool.borrow()) {
            broken = lease.get();
        }
        broken.broken = true;
        boolean replaced;
        try (Lease<Client> lease = pool.borrow()) {
            replaced = lease.get() != broken;
            out.println("[demo] after client " + broken.id + " broke: " + lease.get().query("again"));
        }

        // 3. a leak: borrowed and never returned
        Lease<Client> forgotten = pool.borrow();
        boolean leak = leakReported.await(10, TimeUnit.SECONDS);

        // 4. a deadline: the pool has one client left; take it, then a caller with 100 ms to spare waits in vain
        Lease<Client> last = pool.borrow();
        boolean honoured = false;
        long start = System.nanoTime();
        try (CancelHandle call = Context.current().withTimeout(Duration.ofMillis(100)); Scope s = call.attach()) {
            pool.borrow().close();
        } catch (DeadlineExceededException e) {
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            honoured = waited < 5_000;
            out.println("[demo] borrower gave up after " + waited + " ms: " + e.getMessage());
        }
        last.close();
        forgotten.close();
        pool.close(Duration.ofSeconds(5));
        out.println("[summary] opened " + opened.get() + ", closed " + closed.get() + ", leak reported " + leak
                + ", deadline honoured " + honoured);
        return new Outcome(opened.get(), closed.get(), answers, replaced, leak, honoured);
    }
}
