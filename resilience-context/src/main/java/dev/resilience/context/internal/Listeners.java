package dev.resilience.context.internal;

import dev.resilience.context.Registration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The listeners of one primitive, shared by every module of the toolkit: any number, given to its
 * builder or added later, kept in the order added. The primitive tells {@link #current()} (one
 * listener standing for all: the interface's no-op listener while there is none, so the default
 * costs one read) or walks {@link #members()}. Adding and removing are lock-free and never block an
 * event in flight; an event already under way may miss a listener added meanwhile. Not API.
 *
 * @param <L> the listener interface
 */
public final class Listeners<L> {

    /** The members and the one listener that stands for them, replaced together. */
    private static final class State {
        final Object[] members;
        final Object all;

        State(Object[] members, Object all) {
            this.members = members;
            this.all = all;
        }
    }

    private static final Object[] NONE = new Object[0];

    private final L noop;
    private final Function<Object[], L> fanout;
    private final AtomicReference<State> state;
    /**
     * {@code state}'s listener, read on every event: one load fewer than through {@code state}.
     * Each change publishes it after its CAS and re-checks, so the last write always matches the
     * last state.
     */
    private volatile Object all;

    /**
     * @param noop the interface's no-op listener: what {@link #current()} is with no member
     * @param fanout makes the one listener that tells every member in turn (given a non-empty array;
     *     it must contain what each member throws)
     * @param initial the builder's listeners
     */
    public Listeners(L noop, Function<Object[], L> fanout, List<L> initial) {
        this.noop = Objects.requireNonNull(noop, "noop");
        this.fanout = Objects.requireNonNull(fanout, "fanout");
        // the no-op listener hears nothing: leaving it out keeps the no-listener fast paths
        this.state = new AtomicReference<>(state(initial.stream().filter(l -> l != noop).toArray()));
        this.all = state.get().all;
    }

    /** Publishes the current state's listener; see {@link #all}. */
    private void publish() {
        for (;;) {
            State now = state.get();
            all = now.all;
            if (state.get() == now) {
                return;
            }
        }
    }

    private State state(Object[] members) {
        return members.length == 0 ? new State(NONE, noop) : new State(members, fanout.apply(members));
    }

    /**
     * One listener standing for every member.
     *
     * @return the fan-out listener, or the no-op listener when there is no member
     */
    @SuppressWarnings("unchecked")
    public L current() {
        return (L) all;
    }

    /**
     * The members in the order added; do not modify.
     *
     * @return the members, possibly empty
     */
    public Object[] members() {
        return state.get().members;
    }

    /**
     * Adds {@code listener} after the others.
     *
     * @param listener the listener
     * @return removes it again
     */
    public Registration add(L listener) {
        Objects.requireNonNull(listener, "listener");
        if (listener == noop) {
            return () -> false;
        }
        for (;;) {
            State now = state.get();
            Object[] next = Arrays.copyOf(now.members, now.members.length + 1);
            next[now.members.length] = listener;
            if (state.compareAndSet(now, state(next))) {
                publish();
                // each registration removes one occurrence, once: the same listener added twice
                // needs both registrations removed
                AtomicBoolean removed = new AtomicBoolean();
                return () -> removed.compareAndSet(false, true) && remove(listener);
            }
        }
    }

    /**
     * Tells every member in turn, in the order added; what one throws goes to {@code failed} (which
     * must not throw) and not to the next member or the caller.
     *
     * @param event what to tell each member
     * @param failed receives a member that threw and what it threw
     */
    @SuppressWarnings("unchecked")
    public void forEach(Consumer<? super L> event, BiConsumer<Object, Throwable> failed) {
        for (Object member : state.get().members) {
            try {
                event.accept((L) member);
            } catch (Throwable e) {
                failed.accept(member, e);
            }
        }
    }

    private boolean remove(Object listener) {
        for (;;) {
            State now = state.get();
            Object[] members = now.members;
            int i = 0;
            while (i < members.length && members[i] != listener) {
                i++;
            }
            if (i == members.length) {
                return false;
            }
            Object[] next = new Object[members.length - 1];
            System.arraycopy(members, 0, next, 0, i);
            System.arraycopy(members, i + 1, next, i, next.length - i);
            if (state.compareAndSet(now, state(next))) {
                publish();
                return true;
            }
        }
    }
}
