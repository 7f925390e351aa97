package dev.resilience.spring.internal;

import dev.resilience.context.Context;
import dev.resilience.spring.ResilienceSpringProperties.TaskContext;
import java.util.Objects;
import org.springframework.core.task.TaskDecorator;

/**
 * Carries the submitting thread's {@link Context} into tasks run by Spring's task executors; Spring
 * Boot applies every {@code TaskDecorator} bean to the executors it builds (and so to {@code @Async}).
 */
public final class ContextTaskDecorator implements TaskDecorator {

    private final TaskContext mode;

    /** Carries what {@code mode} says. */
    public ContextTaskDecorator(TaskContext mode) {
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    @Override
    public Runnable decorate(Runnable runnable) {
        Context context = Context.current();
        if (mode == TaskContext.NONE || context == Context.background()) {
            return runnable;
        }
        return (mode == TaskContext.VALUES ? context.withoutCancel() : context).wrap(runnable);
    }
}
