package dev.resilience.core;

import java.util.concurrent.Callable;

/**
 * How a policy calls whatever is inside it, without allocating: the next layer of a
 * {@link Pipeline} (by index), or the task itself. Each policy's synchronous {@code call} is
 * {@code execute(Invoker.direct(), 0, task)}.
 */
@FunctionalInterface
interface Invoker<T> {

    T invoke(int index, Callable<T> task) throws Exception;

    /** Calls the task itself. */
    @SuppressWarnings("unchecked")
    static <T> Invoker<T> direct() {
        return (Invoker<T>) Direct.INSTANCE;
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
}
