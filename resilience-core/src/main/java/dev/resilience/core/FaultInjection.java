package dev.resilience.core;

import dev.resilience.context.internal.Checks;
import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.Delays;
import dev.resilience.context.Registration;
import dev.resilience.context.Scope;
import dev.resilience.context.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Chaos for tests and game days: injects latency, an exception, or a deadline-exceeded outcome into
 * a given fraction of calls. The draws come from one seeded generator, so a run with the same seed
 * and the same order of calls injects the same faults. Off until {@link #enable()}d, switchable at
 * runtime.
 *
 * <pre>{@code
 * FaultInjection chaos = FaultInjection.builder("payments-chaos").seed(42)
 *         .latency(0.10, Duration.ofMillis(300))               // 10% of calls 300 ms slower
 *         .exception(0.05, () -> new IOException("injected"))  // 5% fail
 *         .build();
 * chaos.enable();
 * }</pre>
 *
 * <p>Latency and failure are drawn independently. A deadline-exceeded fault waits for the current
 * context's deadline (without one it throws at once) and then throws
 * {@link DeadlineExceededException}, as a hung dependency would.
 */
public final class FaultInjection implements Policy {

    private final String name;
    private final double latencyFraction;
    private final long latencyNanos;
    private final double exceptionFraction;
    private final Supplier<? extends Exception> exception;
    private final double deadlineFraction;
    private final Ticker ticker;
    private final AtomicLong seed;
    private volatile boolean enabled;

    private FaultInjection(Builder b) {
        this.name = b.name;
        this.latencyFraction = b.latencyFraction;
        this.latencyNanos = b.latencyNanos;
        this.exceptionFraction = b.exceptionFraction;
        this.exception = b.exception;
        this.deadlineFraction = b.deadlineFraction;
        this.ticker = b.ticker;
        this.seed = new AtomicLong(b.seed);
    }

    /** Starts building an injector; {@code name} identifies it. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Starts injecting. */
    public void enable() {
        enabled = true;
    }

    /** Stops injecting; calls pass straight through. */
    public void disable() {
        enabled = false;
    }

    /** Whether faults are being injected. */
    public boolean isEnabled() {
        return enabled;
    }

    /** The next uniform draw in [0, 1): SplitMix64 over one atomic counter. */
    private double draw() {
        long z = seed.addAndGet(0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    /** What to inject into one call: bit 1 latency, bit 2 exception, bit 4 deadline. */
    private int decide() {
        if (!enabled) {
            return 0;
        }
        int faults = 0;
        if (latencyFraction > 0 && draw() < latencyFraction) {
            faults |= 1;
        }
        double d = draw();
        if (d < exceptionFraction) {
            faults |= 2;
        } else if (d < exceptionFraction + deadlineFraction) {
            faults |= 4;
        }
        return faults;
    }

    /** Calls {@code task}, first injecting whatever this call draws. */
    @Override
    public <T> T call(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        return execute(Invoker.direct(), 0, task);
    }

    /** {@link #call}, invoking what is inside through {@code next} (a pipeline's next layer). */
    @Override
    public <T> T execute(Invoker<T> next, int index, Callable<T> task) throws Exception {
        int faults = decide();
        if (faults == 0) {
            return next.invoke(index, task);
        }
        Context ctx = Context.current();
        if ((faults & 1) != 0) {
            ctx.sleepUntil(ticker, ticker.read() + latencyNanos);
        }
        if ((faults & 2) != 0) {
            throw injected();
        }
        if ((faults & 4) != 0) {
            if (ctx.deadline().isPresent()) {
                ctx.waitUntil(ctx.deadline().get().ticker(), ctx.deadline().get().nanos());
            }
            throw new DeadlineExceededException();
        }
        return next.invoke(index, task);
    }

    /**
     * Like {@link #call} for asynchronous work: latency is waited without a thread. The wait ends
     * early when the caller's context does (the stage fails with the context's exception, as the
     * blocking path's wait does) or when the returned stage is ended from outside (then the task is
     * never started); a stage ended from outside after the task started ends the task's stage too.
     */
    @Override
    public <T> CompletionStage<T> callAsync(Supplier<? extends CompletionStage<T>> task) {
        Objects.requireNonNull(task, "task");
        int faults = decide();
        if (faults == 0) {
            return Stages.start(task);
        }
        Context ctx = Context.current();
        CompletableFuture<T> result = new CompletableFuture<>();
        Runnable proceed = () -> {
            if (result.isDone()) {
                return; // ended from outside (a cancel, a timeout) during the wait: nothing to start
            }
            try (Scope s = ctx.attach()) {
                if ((faults & 2) != 0) {
                    result.completeExceptionally(injected());
                } else if ((faults & 4) != 0) {
                    result.completeExceptionally(new DeadlineExceededException());
                } else {
                    CompletionStage<T> stage = Stages.start(task);
                    stage.whenComplete((v, e) -> Stages.relay(result, v, e));
                    // ended from outside first: the task's stage is ended alike (a no-op once it is done)
                    result.whenComplete((v, e) -> Stages.endInside(stage, Stages.unwrap(e)));
                }
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        };
        long wait = (faults & 1) != 0 ? latencyNanos : 0L;
        if ((faults & 4) != 0 && ctx.deadline().isPresent()) {
            wait = Math.max(wait, ctx.remainingNanos());
        }
        if (wait > 0) {
            // the wait, unless the context ends first; nothing stays registered once the stage is done
            Registration timer = Delays.scheduleUnlessDone(ticker, ticker.read() + wait, ctx, proceed,
                    () -> result.completeExceptionally(ctx.err()));
            result.whenComplete((v, e) -> timer.remove());
        } else {
            proceed.run();
        }
        return result;
    }

    @Override
    public Kind kind() {
        return Kind.FAULT_INJECTION;
    }

    /** The injector's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "FaultInjection[" + name + (enabled ? ", enabled" : ", disabled") + "]";
    }

    /** Builds a {@link FaultInjection}; every fault is optional. */
    public static final class Builder {
        private final String name;
        private double latencyFraction;
        private long latencyNanos;
        private double exceptionFraction;
        private Supplier<? extends Exception> exception;
        private double deadlineFraction;
        private long seed = 0x5DEECE66DL;
        private Ticker ticker;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /** Delays {@code fraction} of calls by {@code delay}. */
        public Builder latency(double fraction, Duration delay) {
            Checks.once(latencyNanos == 0, "latency");
            this.latencyFraction = fraction(fraction);
            this.latencyNanos = Checks.positiveNanos(delay, "delay");
            return this;
        }

        /** Fails {@code fraction} of calls with a fresh exception from {@code exception}. */
        public Builder exception(double fraction, Supplier<? extends Exception> exception) {
            Checks.once(this.exception == null, "exception");
            this.exceptionFraction = fraction(fraction);
            this.exception = Objects.requireNonNull(exception, "exception");
            return this;
        }

        /** Makes {@code fraction} of calls hang until the context deadline and fail with it. */
        public Builder deadlineExceeded(double fraction) {
            Checks.once(deadlineFraction == 0, "deadlineExceeded");
            this.deadlineFraction = fraction(fraction);
            return this;
        }

        /** The seed of the draws; the same seed and call order inject the same faults. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The clock latency is waited on; default {@link Ticker#system()}. */
        public Builder ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Builds the injector, disabled. */
        public FaultInjection build() {
            if (exceptionFraction + deadlineFraction > 1.0) {
                throw new IllegalStateException("exception and deadline fractions add up to more than 1");
            }
            if (ticker == null) {
                ticker = Ticker.system();
            }
            return new FaultInjection(this);
        }

        private static double fraction(double f) {
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException("fraction must be in [0, 1]: " + f);
            }
            return f;
        }
    }

    /** The exception to inject: the supplier's, or one saying it returned none. */
    private Exception injected() {
        Exception e = exception.get();
        return e != null ? e : new NullPointerException("fault injection '" + name + "': the exception supplier returned null");
    }
}
