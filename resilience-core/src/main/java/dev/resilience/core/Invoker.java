package dev.resilience.core;

import java.util.concurrent.Callable;

/**
 * What is inside a {@link Policy}: the rest of a {@link Pipeline}, reached by index so that a call
 * through any number of layers allocates nothing, or (outside a pipeline) the task itself. A policy
 * calls {@code chain.invoke(next, task)} with the {@code next} it was given where it would call the
 * task.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface Invoker<T> {

    /**
     * Runs layer {@code index} and everything inside it around {@code task}; past the last layer,
     * the task itself.
     *
     * @param index the index a policy was given as {@code next}
     * @param task the call
     * @return the result
     * @throws Exception whatever the layers or the task throw, unchanged
     */
    T invoke(int index, Callable<T> task) throws Exception;

    /**
     * The invoker that calls the task itself, ignoring the index: what {@link Policy#call} uses.
     *
     * @param <T> the result type
     * @return the shared instance
     */
    @SuppressWarnings("unchecked")
    static <T> Invoker<T> direct() {
        return (Invoker<T>) Direct.INSTANCE;
    }
}

/** The invoker that calls the task. */
final class Direct implements Invoker<Object> {
    static final Direct INSTANCE = new Direct();

    private Direct() {
    }

    @Override
    public Object invoke(int index, Callable<Object> task) throws Exception {
        return task.call();
    }
}
