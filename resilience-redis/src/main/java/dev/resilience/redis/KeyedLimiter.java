package dev.resilience.redis;

import dev.resilience.context.Context;
import dev.resilience.context.Registration;
import dev.resilience.context.Ticker;
import dev.resilience.context.internal.Checks;
import dev.resilience.context.internal.Listeners;
import dev.resilience.core.Policy;
import dev.resilience.core.RequestNotPermittedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What both kinds of distributed limit share: one Redis key per caller key, one script call per
 * decision, per-key overrides, and the failure mode with its bounded table of local limiters.
 *
 * @param <L> the limit of one key
 * @param <F> the local limiter of one key, for {@link FailureMode#local(int)}
 */
abstract class KeyedLimiter<L, F> implements DistributedLimiter {

    /**
     * Local limiters kept at most by default ({@link Builder#localKeys}). Past the bound, limiters
     * that are full again (they carry no state) go first, then the least recently used.
     */
    static final int MAX_LOCAL_KEYS = 100_000;

    final String name;
    final RedisBackend backend;
    final String prefix;
    final FailureMode failureMode;
    private final Listeners<DistributedLimiterListener> listeners;
    final Ticker ticker;
    private final L defaultLimit;
    private final Map<String, L> overrides;
    private final Function<String, L> resolver;
    private final Script script;
    private final ConcurrentHashMap<String, Local<F>> local = new ConcurrentHashMap<>();
    private final int maxLocalKeys;
    private final boolean limitsInRedis;
    private final java.util.concurrent.locks.ReentrantLock evicting = new java.util.concurrent.locks.ReentrantLock();

    /** A local limiter and when it was last used (fallback decisions only). */
    static final class Local<F> {
        final F limiter;
        volatile long lastUsed;

        Local(F limiter, long now) {
            this.limiter = limiter;
            this.lastUsed = now;
        }
    }

    KeyedLimiter(Builder<L, ?> s, Script script) {
        this.name = s.name;
        this.backend = s.backend;
        this.prefix = s.prefix;
        this.failureMode = s.failureMode != null ? s.failureMode : FailureMode.local(1);
        this.listeners = new Listeners<>(DistributedLimiterListener.NOOP, members -> DistributedLimiterListener.NOOP,
                s.listeners);
        this.ticker = s.ticker != null ? s.ticker : Ticker.system();
        this.defaultLimit = s.defaultLimit;
        this.overrides = Map.copyOf(s.overrides);
        this.resolver = s.resolver;
        this.script = script;
        this.maxLocalKeys = s.localKeys > 0 ? s.localKeys : MAX_LOCAL_KEYS;
        this.limitsInRedis = s.limitsInRedis;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Policy forKey(String key) {
        Args.key(key);
        return new KeyPolicy(this, () -> key);
    }

    @Override
    public final Policy forKey(Supplier<String> key) {
        return new KeyPolicy(this, Objects.requireNonNull(key, "key"));
    }

    /**
     * Takes one permit of {@code key} for a call through {@link #forKey}: a rate limiter waits as its
     * {@code acquire} does, a quota decides at once.
     *
     * @throws RequestNotPermittedException if refused
     */
    abstract void enter(String key) throws InterruptedException;

    /**
     * Waits for Redis's decision, or for the context to end first (its deadline may be nearer than
     * the backend's timeout): then a reservation Redis grants afterwards is given back.
     */
    final Decision awaitUnder(Context ctx, CompletableFuture<Decision> decision) {
        if (decision.isDone()) {
            try {
                return decision.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw unwrapped(e);
            }
        }
        CompletableFuture<Decision> waiter = new CompletableFuture<>();
        decision.whenComplete((d, e) -> {
            // a failed decision fails the waiter with its cause (completing it with null would
            // hand the caller a null decision to dereference)
            boolean taken = e != null ? waiter.completeExceptionally(e) : waiter.complete(d);
            if (!taken && d != null) {
                giveBack(d); // the caller left: a reservation granted meanwhile goes back
            }
        });
        Registration onDone = ctx.onDone(() -> waiter.completeExceptionally(ctx.err()), Runnable::run);
        try {
            return waiter.join();
        } catch (java.util.concurrent.CompletionException e) {
            ctx.throwIfDone();
            throw unwrapped(e);
        } finally {
            onDone.remove();
        }
    }

    /** What a failed decision failed with, thrown as it was if unchecked, else still wrapped. */
    private static RuntimeException unwrapped(java.util.concurrent.CompletionException e) {
        Throwable cause = RedisBackend.unwrap(e);
        if (cause instanceof RuntimeException r) {
            return r;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        return e;
    }

    /**
     * The Redis key of {@code key}: the prefix, then the key as a hash tag ({@code {key}}), so that
     * whatever a script touches for one key lives in one cluster slot.
     */
    final String redisKey(String key) {
        if (key.indexOf('{') < 0 && key.indexOf('}') < 0) {
            return prefix + "{" + key + "}";
        }
        // a brace would end the tag early (or leave it empty): tag the key's hex instead, which has
        // none, and end with a character after the tag, which a plain key's Redis key never has (it
        // ends at its tag's brace): so no plain key, "x7b" say, shares the bucket of "{"
        StringBuilder hex = new StringBuilder(prefix.length() + 3 + 4 * key.length()).append(prefix).append("{x");
        for (byte b : key.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return hex.append("}h").toString();
    }

    /** The script's keys for {@code key}: its state, and its limit hash when limits are kept in Redis. */
    final String[] keys(String key) {
        String state = redisKey(key);
        return limitsInRedis ? new String[] {state, state + ":limit"} : new String[] {state};
    }

    /**
     * Keeps {@code fields} (name, value, ...) as {@code key}'s limit in Redis, or clears it when
     * there is none; every instance reads it on its next decision.
     */
    final void storeLimit(String key, String... fields) {
        Args.key(key);
        if (!limitsInRedis) {
            throw new IllegalStateException(name + ": limits are not kept in Redis (see limitsInRedis())");
        }
        try {
            backend.eval(Script.SET_LIMIT, new String[] {redisKey(key) + ":limit"}, fields).join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = RedisBackend.unwrap(e);
            throw new IllegalStateException(name + ": could not store the limit of " + key + " in Redis",
                    cause instanceof RedisBackend.Unavailable && cause.getCause() != null ? cause.getCause() : cause);
        }
    }

    /** Gives a granted reservation back, if it can be (a rate limiter's delayed grant). */
    final void giveBack(Decision d) {
        if (d.undo != null) {
            d.undo.run();
        }
    }

    /** The exception for a refused decision, naming why. */
    abstract RequestNotPermittedException refusal(Decision d);

    @Override
    public final Decision decide(String key, int permits) {
        try {
            return decideAsync(key, permits).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw unwrapped(e); // as the blocking acquire does: the cause, not its wrapper
        }
    }

    @Override
    public final CompletableFuture<Decision> decideAsync(String key, int permits) {
        return evaluate(key, permits, 0L, RequestNotPermittedException.Reason.NO_PERMIT);
    }

    /** The limit that applies to {@code key}: its override, else the resolver's answer, else the default. */
    final L limitFor(String key) {
        L l = overrides.get(key);
        if (l == null && resolver != null) {
            l = resolver.apply(key);
        }
        return l != null ? l : defaultLimit;
    }

    /**
     * Decides for {@code permits} of {@code key}, granting a wait shorter than {@code maxWaitNanos}
     * (0: none, {@link Long#MAX_VALUE}: any); a refusal for the wait carries {@code waitReason}.
     */
    final CompletableFuture<Decision> evaluate(String key, int permits, long maxWaitNanos,
            RequestNotPermittedException.Reason waitReason) {
        Args.key(key);
        Args.permits(permits);
        L limit = limitFor(key);
        long start = System.nanoTime();
        return backend.eval(script, keys(key), arguments(limit, permits, maxWaitNanos)).handle((reply, error) -> {
            Decision d = null;
            boolean listening = listeners.members().length != 0;
            if (error == null) {
                long roundTrip = System.nanoTime() - start;
                if (listening) {
                    tellListener(l -> l.onRoundTrip(this, roundTrip), "onRoundTrip");
                }
                try {
                    d = fromReply(key, limit, permits, waitReason, reply);
                } catch (RuntimeException unreadable) { // a reply we cannot read: this key's problem, decided locally
                    error = new RedisBackend.Unavailable(FallbackCause.KEY_ERROR, unreadable);
                    d = null;
                }
            }
            if (error != null) {
                Throwable e = RedisBackend.unwrap(error);
                FallbackCause cause = e instanceof RedisBackend.Unavailable u ? u.reason : FallbackCause.REDIS_ERROR;
                Throwable reported = e instanceof RedisBackend.Unavailable ? e.getCause() : e;
                if (listening) {
                    tellListener(l -> l.onFallback(this, cause, reported), "onFallback");
                }
                d = fallback(key, limit, permits, maxWaitNanos, waitReason, cause);
            }
            if (listening) {
                Decision decided = d;
                tellListener(l -> l.onDecision(this, key, decided), "onDecision");
            }
            return d;
        });
    }

    /** Tells every listener in turn; what one throws is logged and never changes the decision. */
    private void tellListener(java.util.function.Consumer<DistributedLimiterListener> event, String method) {
        listeners.forEach(event, (l, e) -> {
            try {
                LOG.log(System.Logger.Level.ERROR, l.getClass().getName() + "." + method + " threw; the decision stands", e);
            } catch (Throwable ignored) {
                // logging itself failed
            }
        });
    }

    @Override
    public final Registration addListener(DistributedLimiterListener listener) {
        return listeners.add(listener);
    }

    private static final System.Logger LOG = System.getLogger("dev.resilience.redis.listener");

    private Decision fromReply(String key, L limit, int permits, RequestNotPermittedException.Reason waitReason,
            List<Object> reply) {
        boolean granted = "1".equals(reply.get(0));
        double delayMicros = Double.parseDouble((String) reply.get(1));
        long delay = delayMicros < 0 ? -1L : (long) Math.ceil(delayMicros * 1000.0);
        long remaining = Math.max(0L, (long) Math.floor(Double.parseDouble((String) reply.get(2))));
        long reset = (long) Math.ceil(Double.parseDouble((String) reply.get(3)) * 1000.0);
        RequestNotPermittedException.Reason reason = granted ? null
                : delay < 0 ? RequestNotPermittedException.Reason.EXCEEDS_BURST : waitReason;
        Runnable undo = granted && delay > 0 ? undo(key, limit, permits, (String) reply.get(4)) : null;
        return new Decision(granted, permits, delay, remaining, reset, Decision.Source.REDIS, reason, null, undo);
    }

    private Decision fallback(String key, L limit, int permits, long maxWaitNanos,
            RequestNotPermittedException.Reason waitReason, FallbackCause cause) {
        switch (failureMode.kind()) {
            case FAIL_OPEN:
                return new Decision(true, permits, 0L, -1L, -1L, Decision.Source.FAIL_OPEN, null, cause, null);
            case FAIL_CLOSED:
                return new Decision(false, permits, -1L, -1L, -1L, Decision.Source.FAIL_CLOSED,
                        RequestNotPermittedException.Reason.NO_PERMIT, cause, null);
            default:
                return decideLocally(localFor(key, limit), permits, maxWaitNanos, waitReason, cause);
        }
    }

    private F localFor(String key, L limit) {
        long now = ticker.read();
        Local<F> f = local.get(key);
        if (f == null) {
            if (local.size() >= maxLocalKeys) {
                evict(now);
            }
            f = local.computeIfAbsent(key, k -> new Local<>(newLocal(k, limit, failureMode.instances()), now));
        }
        f.lastUsed = now;
        return f.limiter;
    }

    /**
     * Makes room below the bound without forgetting active limits first: limiters that are full
     * again go (a new one would be the same); only if that is not enough, the least recently used,
     * down to 90 % of the bound. One thread evicts at a time; the others go on (the table may pass the bound briefly).
     */
    private void evict(long now) {
        if (!evicting.tryLock()) {
            return;
        }
        try {
            local.entrySet().removeIf(e -> isIdle(e.getValue().limiter, now));
            if (local.size() < maxLocalKeys) {
                return; // the full buckets made room: no active limit is forgotten
            }
            int target = maxLocalKeys - Math.max(1, maxLocalKeys / 10);
            int excess = local.size() - target;
            if (excess > 0) {
                java.util.List<Map.Entry<String, Local<F>>> byAge = new java.util.ArrayList<>(local.entrySet());
                byAge.sort(java.util.Comparator.comparingLong(e -> e.getValue().lastUsed));
                for (int i = 0; i < excess && i < byAge.size(); i++) {
                    local.remove(byAge.get(i).getKey(), byAge.get(i).getValue());
                }
            }
        } finally {
            evicting.unlock();
        }
    }

    /** Whether {@code local} carries no state: a new one would decide the same. */
    abstract boolean isIdle(F local, long now);

    /** How many local limiters exist now (tests). */
    final int localLimiters() {
        return local.size();
    }

    /** The script's ARGV for one decision. */
    abstract String[] arguments(L limit, int permits, long maxWaitNanos);

    /** Gives back a granted reservation; only for limits that grant waits. */
    abstract Runnable undo(String key, L limit, int permits, String token);

    /** A local limiter for {@code key}, holding its share of {@code limit}. */
    abstract F newLocal(String key, L limit, int instances);

    /** Decides with the local limiter. */
    abstract Decision decideLocally(F local, int permits, long maxWaitNanos,
            RequestNotPermittedException.Reason waitReason, FallbackCause cause);

    /** Microseconds for the scripts: 0 stays 0 (no wait), {@link Long#MAX_VALUE} becomes -1 (any wait). */
    static String waitArgument(long maxWaitNanos) {
        if (maxWaitNanos == Long.MAX_VALUE) {
            return "-1";
        }
        return maxWaitNanos == 0 ? "0" : Double.toString(Math.max(0.001, maxWaitNanos / 1000.0));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + ", default " + defaultLimit + ", " + failureMode + "]";
    }

    /**
     * What both builders share: name, backend, key prefix, failure mode, listener, ticker, the
     * default limit and the per-key overrides. Each setter may be called once ({@code override} once
     * per key).
     *
     * @param <L> the limit of one key
     * @param <B> the concrete builder
     */
    abstract static class Builder<L, B extends Builder<L, B>> {
        final String name;
        final RedisBackend backend;
        String prefix;
        boolean prefixSet;
        int localKeys;
        boolean limitsInRedis;
        FailureMode failureMode;
        final List<DistributedLimiterListener> listeners = new ArrayList<>();
        Ticker ticker;
        L defaultLimit;
        final Map<String, L> overrides = new ConcurrentHashMap<>();
        Function<String, L> resolver;

        Builder(String name, RedisBackend backend, String kind) {
            this.name = Objects.requireNonNull(name, "name");
            this.backend = Objects.requireNonNull(backend, "backend");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("name must not be empty");
            }
            this.prefix = "resilience:" + kind + ":" + name + ":";
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /**
         * Lets an operator keep a key's limit in Redis ({@code setLimit}, {@code clearLimit}, or an
         * {@code HSET} on {@code <prefix>{<key>}:limit}): the same script round trip reads it, so
         * every instance applies a change on its next decision; a key without one uses the limits
         * in code. Off by default (it costs one {@code HMGET} inside the script). The local
         * fallback always uses the limits in code.
         *
         * @return this builder
         */
        public B limitsInRedis() {
            Checks.once(!limitsInRedis, "limitsInRedis");
            this.limitsInRedis = true;
            return self();
        }

        /**
         * The most keys the {@link FailureMode#local(int) local} fallback keeps a limiter for;
         * default 100,000. Past it, limiters that are full again are dropped first (they carry no
         * state), then the least recently used, down to 90 %: keep it above the number of keys that
         * are active at once while Redis is away, or the least recent of them start full again.
         *
         * @param keys at least 1
         * @return this builder
         */
        public B localKeys(int keys) {
            Checks.once(localKeys == 0, "localKeys");
            if (keys < 1) {
                throw new IllegalArgumentException("localKeys must be at least 1: " + keys);
            }
            this.localKeys = keys;
            return self();
        }

        /** What to decide when Redis cannot; default {@link FailureMode#local(int) local(1)}. */
        public B failureMode(FailureMode mode) {
            Checks.once(failureMode == null, "failureMode");
            this.failureMode = Objects.requireNonNull(mode, "mode");
            return self();
        }

        /**
         * The Redis key prefix; default {@code resilience:rate:<name>:} for rate limiters and
         * {@code resilience:quota:<name>:} for quotas.
         */
        public B keyPrefix(String prefix) {
            Checks.once(!prefixSet, "keyPrefix");
            if (prefix != null && (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0)) {
                throw new IllegalArgumentException("keyPrefix must not contain braces (the key is the hash tag): " + prefix);
            }
            this.prefix = Objects.requireNonNull(prefix, "prefix");
            this.prefixSet = true;
            return self();
        }

        /** Adds a listener of decisions, fallbacks and round-trip times; may be called any number of times. */
        public B listener(DistributedLimiterListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return self();
        }

        /**
         * The clock of waits and of the local fallback limiters; default {@link Ticker#system()}.
         * Redis decides on its own clock.
         */
        public B ticker(Ticker ticker) {
            Checks.once(this.ticker == null, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return self();
        }

        void addOverride(String key, L limit) {
            Args.key(key);
            overrides.put(key, limit);
        }

        void setResolver(Function<String, L> r) {
            Checks.once(resolver == null, "limits");
            this.resolver = Objects.requireNonNull(r, "limits");
        }
    }
}
