package dev.resilience.observability;

import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import io.micrometer.context.ThreadLocalAccessor;
import java.util.ArrayDeque;

/**
 * Lets Micrometer's context-propagation (and so Reactor, Spring's task decorators and anything else
 * built on it) carry the toolkit's {@link Context} across threads. Registered through
 * {@code META-INF/services/io.micrometer.context.ThreadLocalAccessor}, so nothing needs to be done:
 *
 * <pre>{@code
 * ContextSnapshot snapshot = ContextSnapshotFactory.builder().build().captureAll();  // on the caller
 * executor.execute(() -> {
 *     try (ContextSnapshot.Scope s = snapshot.setThreadLocals()) {
 *         Context.current().throwIfDone();    // the caller's deadline and values, on this thread
 *     }
 * });
 * }</pre>
 *
 * <p>Setting a value attaches the context (a {@link Scope}); restoring closes the scopes in reverse
 * order, as context-propagation nests them.
 */
public final class ResilienceContextAccessor implements ThreadLocalAccessor<Context> {

    /** The key under which the context travels. */
    public static final String KEY = "dev.resilience.context";

    private static final ThreadLocal<ArrayDeque<Scope>> SCOPES = ThreadLocal.withInitial(ArrayDeque::new);

    /** Used by the service loader. */
    public ResilienceContextAccessor() {
    }

    @Override
    public Object key() {
        return KEY;
    }

    /** The current context, or null when it is the background context (nothing to carry). */
    @Override
    public Context getValue() {
        Context c = Context.current();
        return c == Context.background() ? null : c;
    }

    @Override
    public void setValue(Context value) {
        SCOPES.get().push(value.attach());
    }

    @Override
    public void setValue() {
        SCOPES.get().push(Context.background().attach());
    }

    @Override
    public void restore(Context previousValue) {
        restore();
    }

    @Override
    public void restore() {
        Scope s = SCOPES.get().poll();
        if (s != null) {
            s.close();
        }
    }
}
