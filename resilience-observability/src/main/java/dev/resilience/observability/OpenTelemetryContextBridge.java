package dev.resilience.observability;

import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ContextStorage;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores the toolkit's {@link Context} under an OpenTelemetry {@link ContextKey}, so that everything
 * that carries OpenTelemetry's context across threads (its {@code Context.taskWrapping} executors,
 * the Java agent's executor instrumentation) carries ours with it.
 *
 * <pre>{@code
 * OpenTelemetryContextBridge.install();      // once, at startup, before OpenTelemetry is first used
 * ExecutorService traced = io.opentelemetry.context.Context.taskWrapping(executor);
 * traced.execute(() -> Context.current().throwIfDone());   // our deadline arrived with the span
 * }</pre>
 *
 * <p>It works both ways. {@link #install()} wraps OpenTelemetry's {@link ContextStorage}: reading
 * OpenTelemetry's current context adds ours under {@link #KEY} (when ours is not the background
 * context), and attaching an OpenTelemetry context (making a span current) attaches ours too, for as
 * long as the OpenTelemetry scope is open, carrying that OpenTelemetry context as a value. So
 * OpenTelemetry's executors carry our deadline, and our executors ({@code WorkerPool},
 * {@code ContextExecutors}, asynchronous retries and hedges) carry the current span. OpenTelemetry
 * only accepts wrappers before its storage is first used; {@link #installed()} tells whether it took.
 *
 * <p>An OpenTelemetry scope closed out of order or on another thread does not throw (OpenTelemetry's
 * {@code Scope.close} never does): ours is unwound as {@link Scope#close()} describes, or stays on the
 * thread that attached it when closed from another, and the misuse is logged at DEBUG under
 * {@code resilience.context}. Our own scopes, attached with {@link Context#attach()}, still throw.
 */
public final class OpenTelemetryContextBridge {

    private static final Logger LOG = LoggerFactory.getLogger("resilience.context");

    /** The key our context is stored under. */
    public static final ContextKey<Context> KEY = ContextKey.named("dev.resilience.context");

    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    private static volatile boolean active;

    private OpenTelemetryContextBridge() {
    }

    /** Installs the storage wrapper (idempotent); call before OpenTelemetry's context is first used. */
    public static void install() {
        if (INSTALLED.compareAndSet(false, true)) {
            ContextStorage.addWrapper(Wrapper::new);
        }
    }

    /** Whether OpenTelemetry's storage is running through the wrapper. */
    public static boolean installed() {
        ContextStorage.get();
        return active;
    }

    /** An OpenTelemetry context with ours stored in it. */
    public static io.opentelemetry.context.Context store(io.opentelemetry.context.Context otel, Context ours) {
        return otel.with(KEY, ours);
    }

    /** Our context stored in an OpenTelemetry context, if any. */
    public static Optional<Context> from(io.opentelemetry.context.Context otel) {
        return Optional.ofNullable(otel.get(KEY));
    }

    /** OpenTelemetry's context as carried inside ours (so our executors carry the current span). */
    static final Context.Key<io.opentelemetry.context.Context> OTEL = Context.Key.named("opentelemetry.context");

    private static final class Wrapper implements ContextStorage {
        private final ContextStorage delegate;

        Wrapper(ContextStorage delegate) {
            this.delegate = delegate;
            active = true;
        }

        /**
         * Attaches OpenTelemetry's context and, for as long, ours: the one stored in it (it came from
         * another thread) or the current one, in both cases carrying the OpenTelemetry context.
         */
        @Override
        public io.opentelemetry.context.Scope attach(io.opentelemetry.context.Context toAttach) {
            io.opentelemetry.context.Scope otelScope = delegate.attach(toAttach);
            if (toAttach == null) {
                return otelScope;
            }
            Context carried = toAttach.get(KEY);
            Context base = carried != null ? carried : Context.current();
            Scope ourScope = base.withValue(OTEL, toAttach).attach();
            return () -> {
                try {
                    ourScope.close();
                } catch (IllegalStateException misuse) {
                    // Closed out of order (ours unwound what was left open inside it) or on another
                    // thread (ours stays on its own thread): OpenTelemetry's Scope.close never throws,
                    // and its own storage logs such a close at FINE and goes on; so does the bridge.
                    LOG.debug("an OpenTelemetry scope was closed out of order or on another thread", misuse);
                } finally {
                    otelScope.close(); // OpenTelemetry's context is restored whatever ours did
                }
            };
        }

        /**
         * OpenTelemetry's current context, or the one our current context carries when OpenTelemetry
         * has none on this thread (our executor moved the work here); with ours stored under
         * {@link #KEY}.
         */
        @Override
        public io.opentelemetry.context.Context current() {
            io.opentelemetry.context.Context otel = delegate.current();
            Context ours = Context.current();
            if (ours == Context.background()) {
                return otel;
            }
            if (otel == null || otel == delegate.root()) {
                io.opentelemetry.context.Context carried = ours.get(OTEL);
                otel = carried != null ? carried : delegate.root();
            }
            return otel.get(KEY) == ours ? otel : otel.with(KEY, ours);
        }

        @Override
        public io.opentelemetry.context.Context root() {
            return delegate.root();
        }
    }
}
