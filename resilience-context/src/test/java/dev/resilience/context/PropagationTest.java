package dev.resilience.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The caller's context follows work across every kind of executor and future stage. */
class PropagationTest {

    private static final Context.Key<String> REQ = Context.Key.named("request");

    private final ExecutorService raw = Executors.newFixedThreadPool(2);
    private final ScheduledExecutorService rawScheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void shutdown() {
        raw.shutdownNow();
        rawScheduler.shutdownNow();
        assertSame(Context.background(), Context.current());
    }

    private static Context request(String id) {
        return Context.background().withValue(REQ, id);
    }

    @Test
    void wrappedRunnableAndCallableRunUnderTheirContext() throws Exception {
        Context c = request("r1");
        AtomicReference<String> seen = new AtomicReference<>();
        c.wrap(() -> seen.set(REQ.get())).run();
        assertEquals("r1", seen.get());
        Callable<String> call = c.wrap(REQ::get);
        assertEquals("r1", call.call());
        assertNull(REQ.get(), "the caller's own context is restored");
    }

    @Test
    void plainExecutorCapturesAtSubmission() throws Exception {
        Executor direct = Runnable::run;
        Executor onPool = raw::execute;
        for (Executor e : List.of(ContextExecutors.wrap(direct), ContextExecutors.wrap(onPool))) {
            CompletableFuture<String> seen = new CompletableFuture<>();
            try (Scope s = request("r2").attach()) {
                e.execute(() -> seen.complete(REQ.get()));
            }
            assertEquals("r2", seen.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void executorServiceSubmitInvokeAllAndExecute() throws Exception {
        ExecutorService pool = ContextExecutors.wrap(raw);
        try (Scope s = request("r3").attach()) {
            assertEquals("r3", pool.submit(REQ::get).get());
            assertEquals("r3", pool.invokeAny(List.of(REQ::get)));
            for (var f : pool.invokeAll(List.<Callable<String>>of(REQ::get, REQ::get))) {
                assertEquals("r3", f.get());
            }
            CompletableFuture<String> seen = new CompletableFuture<>();
            pool.execute(() -> seen.complete(REQ.get()));
            assertEquals("r3", seen.get(10, TimeUnit.SECONDS));
        }
        CompletableFuture<String> outside = new CompletableFuture<>();
        pool.execute(() -> outside.complete(String.valueOf(REQ.get())));
        assertEquals("null", outside.get(10, TimeUnit.SECONDS), "no context leaks into later tasks");
    }

    @Test
    void scheduledExecutorCarriesContextToDelayedAndPeriodicTasks() throws Exception {
        ScheduledExecutorService s = ContextExecutors.wrap(rawScheduler);
        try (Scope scope = request("r4").attach()) {
            ScheduledFuture<String> f = s.schedule(REQ::get, 1, TimeUnit.MILLISECONDS);
            assertEquals("r4", f.get(10, TimeUnit.SECONDS));
            CompletableFuture<String> r = new CompletableFuture<>();
            s.schedule(() -> r.complete(REQ.get()), 1, TimeUnit.MILLISECONDS);
            assertEquals("r4", r.get(10, TimeUnit.SECONDS));
            CountDownLatch three = new CountDownLatch(3);
            AtomicInteger wrong = new AtomicInteger();
            Runnable tick = () -> {
                if (!"r4".equals(REQ.get())) {
                    wrong.incrementAndGet();
                }
                three.countDown();
            };
            ScheduledFuture<?> rate = s.scheduleAtFixedRate(tick, 0, 1, TimeUnit.MILLISECONDS);
            assertTrue(three.await(10, TimeUnit.SECONDS));
            rate.cancel(false);
            CountDownLatch three2 = new CountDownLatch(3);
            ScheduledFuture<?> delay = s.scheduleWithFixedDelay(() -> {
                tick.run();
                three2.countDown();
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertTrue(three2.await(10, TimeUnit.SECONDS));
            delay.cancel(false);
            assertEquals(0, wrong.get());
        }
    }

    @Test
    void wrappingIsIdempotentAndTypePreserving() {
        ExecutorService once = ContextExecutors.wrap(raw);
        assertSame(once, ContextExecutors.wrap(once));
        ScheduledExecutorService sOnce = ContextExecutors.wrap(rawScheduler);
        assertSame(sOnce, ContextExecutors.wrap(sOnce));
        assertTrue(ContextExecutors.wrap((Executor) rawScheduler) instanceof ScheduledExecutorService);
    }

    @Test
    void fixedExecutorIgnoresTheSubmittersContext() throws Exception {
        Executor fixed = ContextExecutors.fixed(request("fixed"), raw);
        CompletableFuture<String> seen = new CompletableFuture<>();
        try (Scope s = request("other").attach()) {
            fixed.execute(() -> seen.complete(REQ.get()));
        }
        assertEquals("fixed", seen.get(10, TimeUnit.SECONDS));
    }

    @Test
    void deadlineAndCancellationFollowTheWork() throws Exception {
        ExecutorService pool = ContextExecutors.wrap(raw);
        CancelHandle h = Context.background().withTimeout(Duration.ofSeconds(30));
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<WaitResult> result = new CompletableFuture<>();
        try (Scope s = h.attach()) {
            pool.execute(() -> {
                assertTrue(Context.current().remaining().orElseThrow().compareTo(Duration.ofSeconds(30)) <= 0);
                started.countDown();
                result.complete(Context.current().waitUntil(Ticker.system(), System.nanoTime() + 60_000_000_000L));
            });
        }
        started.await();
        h.cancel();
        assertEquals(WaitResult.CANCELLED, result.get(10, TimeUnit.SECONDS));
    }

    @Test
    void dependentStageRunsWithItsCreatorsContextNotTheCompleters() throws Exception {
        ContextFuture<String> source = new ContextFuture<>();
        CompletableFuture<String> applied;
        CompletableFuture<String> composed;
        CompletableFuture<String> handled;
        CompletableFuture<String> recovered;
        AtomicReference<String> accepted = new AtomicReference<>();
        try (Scope s = request("creator").attach()) {
            applied = source.thenApply(v -> v + ":" + REQ.get());
            composed = source.thenCompose(v -> CompletableFuture.completedFuture(REQ.get()));
            handled = source.handleAsync((v, e) -> REQ.get(), raw);
            recovered = source.<String>thenApply(v -> {
                throw new IllegalStateException(v);
            }).exceptionally(e -> REQ.get());
            source.thenAccept(v -> accepted.set(REQ.get()));
        }
        CountDownLatch done = new CountDownLatch(1);
        raw.execute(() -> {
            try (Scope s = request("completer").attach()) {
                source.complete("v");
            }
            done.countDown();
        });
        done.await();
        assertEquals("v:creator", applied.get());
        assertEquals("creator", composed.get());
        assertEquals("creator", handled.get());
        assertEquals("creator", recovered.get());
        assertEquals("creator", accepted.get());
        assertTrue(applied instanceof ContextFuture, "stages stay context-propagating");
    }

    @Test
    void supplyAsyncAndWrapCarryTheCurrentContext() throws Exception {
        CompletableFuture<String> plain = new CompletableFuture<>();
        ContextFuture<String> supplied;
        CompletableFuture<String> viaWrap;
        try (Scope s = request("r5").attach()) {
            supplied = ContextFuture.supplyAsync(REQ::get, raw);
            viaWrap = ContextFuture.wrap(plain).thenApply(v -> v + REQ.get());
        }
        raw.execute(() -> plain.complete("x"));
        assertEquals("r5", supplied.get(10, TimeUnit.SECONDS));
        assertEquals("xr5", viaWrap.get(10, TimeUnit.SECONDS));
        AtomicReference<String> ran = new AtomicReference<>();
        try (Scope s = request("r6").attach()) {
            ContextFuture.runAsync(() -> ran.set(REQ.get()), raw).get(10, TimeUnit.SECONDS);
        }
        assertEquals("r6", ran.get());
    }

    @Test
    void eitherAndBothStagesAndTheStaticFactoriesPropagate() throws Exception {
        ContextFuture<String> a = new ContextFuture<>();
        CompletableFuture<String> b = new CompletableFuture<>();
        CompletableFuture<String> combined;
        CompletableFuture<String> either;
        AtomicReference<String> afterBoth = new AtomicReference<>();
        CompletableFuture<String> afterAll;
        CompletableFuture<String> afterAny;
        CompletableFuture<String> recovered;
        try (Scope s = request("r7").attach()) {
            combined = a.thenCombine(b, (x, y) -> x + y + REQ.get());
            either = a.applyToEither(b, x -> REQ.get());
            a.runAfterBoth(b, () -> afterBoth.set(REQ.get()));
            // the static factories give ContextFutures too (CompletableFuture's inherited ones did not)
            afterAll = ContextFuture.allOf(b).thenApply(v -> REQ.get());
            afterAny = ContextFuture.anyOf(b).thenApply(v -> REQ.get());
            // composed, so the recovery runs after the completer's stage (a stage on a failed future
            // would run at once, on this thread, whatever the factory returned)
            recovered = ContextFuture.<String>failedFuture(new IllegalStateException("x"))
                    .exceptionallyCompose(e -> b).thenApply(v -> REQ.get());
        }
        raw.submit(() -> a.complete("a")).get();
        raw.submit(() -> {
            try (Scope s = request("completer").attach()) {
                b.complete("b");
            }
        }).get();
        assertEquals("abr7", combined.get());
        assertEquals("r7", either.get());
        assertEquals("r7", afterBoth.get());
        assertEquals("r7", afterAll.get(10, TimeUnit.SECONDS), "allOf");
        assertEquals("r7", afterAny.get(10, TimeUnit.SECONDS), "anyOf");
        assertEquals("r7", recovered.get(10, TimeUnit.SECONDS), "failedFuture");
    }

    @Test
    void aWrappersShutdownNowTakesADelegatesImmutableList() {
        // as a virtual-thread executor's shutdownNow() returns List.of() on JDK 21+
        ExecutorService immutable = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>()) {
            @Override
            public List<Runnable> shutdownNow() {
                super.shutdownNow();
                return List.of();
            }
        };
        assertEquals(List.of(), ContextExecutors.wrap(immutable).shutdownNow());
        assertTrue(immutable.isShutdown());
    }

    @Test
    void virtualThreadExecutorsPropagate() throws Exception {
        ExecutorService virtual;
        try {
            virtual = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (NoSuchMethodException e) {
            assumeTrue(false, "virtual threads need JDK 21+");
            return;
        }
        ExecutorService pool = ContextExecutors.wrap(virtual);
        try {
            CancelHandle h = Context.background().withValue(REQ, "vt").withCancel();
            CompletableFuture<WaitResult> waited = new CompletableFuture<>();
            CountDownLatch started = new CountDownLatch(1);
            try (Scope s = h.attach()) {
                assertEquals("vt", pool.submit(REQ::get).get());
                pool.execute(() -> {
                    started.countDown();
                    waited.complete(Context.current().waitUntil(Ticker.system(), System.nanoTime() + 60_000_000_000L));
                });
            }
            started.await();
            h.cancel();
            assertEquals(WaitResult.CANCELLED, waited.get(10, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badArgumentsFailFastNamingTheParameter() {
        assertEquals("executor", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> ContextExecutors.wrap((Executor) null)).getMessage());
        assertEquals("executor", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> ContextExecutors.wrap((ExecutorService) null)).getMessage());
        assertEquals("executor", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> ContextExecutors.wrap((ScheduledExecutorService) null)).getMessage());
        assertEquals("context", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> ContextExecutors.fixed(null, raw)).getMessage());
        assertEquals("stage", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> ContextFuture.wrap(null)).getMessage());
        assertEquals("fn", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> new ContextFuture<String>().thenApply(null)).getMessage());
        assertEquals("task", org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> ContextFuture.runAsync(null, raw)).getMessage());
    }
}
