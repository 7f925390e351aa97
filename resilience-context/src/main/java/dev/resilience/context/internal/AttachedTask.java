package dev.resilience.context.internal;

import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import java.util.Objects;

/**
 * What {@link Context#wrap(Runnable)} returns: runs its task with its context attached, and tells
 * an executor what it wraps, so that a pool that skips a task whose context ended can still cancel
 * the {@code Future} inside (else its {@code get()} would wait for ever) and report the task itself.
 */
public final class AttachedTask implements Runnable {

    private final Context context;
    private final Runnable task;

    /**
     * @param context attached while {@code task} runs
     * @param task what runs
     */
    public AttachedTask(Context context, Runnable task) {
        this.context = Objects.requireNonNull(context, "context");
        this.task = Objects.requireNonNull(task, "task");
    }

    @Override
    public void run() {
        try (Scope ignored = context.attach()) {
            task.run();
        }
    }

    /**
     * The task inside {@code task}'s wrappers of this kind, or {@code task} itself.
     *
     * @param task a task, perhaps wrapped
     * @return the innermost task
     */
    public static Runnable innermost(Runnable task) {
        Runnable r = task;
        while (r instanceof AttachedTask) {
            r = ((AttachedTask) r).task;
        }
        return r;
    }

    @Override
    public String toString() {
        return "AttachedTask[" + task + "]";
    }
}
