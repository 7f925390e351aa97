package dev.resilience.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The server-side Lua scripts: each reads Redis's own clock ({@code TIME}, in microseconds), so
 * the instances sharing a limit never compare their clocks, and each touches one key's state and,
 * with limits kept in Redis, that key's {@code :limit} hash: both carry the key as a hash tag, so
 * they share a cluster slot. With a second key, the limit stored there replaces the ARGV one. Every script answers
 * {@code {granted, delay_us, remaining, reset_us, token}} as strings: Lua numbers are doubles, and
 * an integer reply would truncate them. A stored limit that is not a positive number up to 1e15, or
 * a stored rate limit whose burst x interval spans more than 1e9 s (what {@code Limit.of} accepts),
 * is a {@code BADLIMIT} error reply: that key falls back, the others are not affected. Expiry times
 * are capped at 1e12 ms (some 31 years), so Redis never refuses one.
 */
enum Script {
    /**
     * GCRA: the key holds the theoretical arrival time (µs). ARGV: interval (µs per permit),
     * burst, permits, max wait (µs; 0: do not wait, negative: any wait). Expires when the bucket
     * is full again, since a full bucket needs no state.
     */
    GCRA("""
            local interval = tonumber(ARGV[1])
            local burst = tonumber(ARGV[2])
            local n = tonumber(ARGV[3])
            local maxwait = tonumber(ARGV[4])
            if KEYS[2] then
              local c = redis.call('HMGET', KEYS[2], 'interval', 'burst')
              if c[1] then interval = stored(c[1]) end
              if c[2] then burst = stored(c[2]) end
              if (c[1] or c[2]) and burst * interval > 1e15 * (1 + 1e-9) then
                error({err = 'BADLIMIT the limit kept in ' .. KEYS[2] .. ' spans more than 1e9 s (burst x interval = '
                  .. f(burst * interval) .. ' us)'})
              end
            end
            local tat = tonumber(redis.call('GET', KEYS[1]))
            if tat == nil or tat < now then tat = now end
            if n > burst then
              return {'0', '-1', f(burst - (tat - now) / interval), f(tat - now), '0'}
            end
            local nxt = tat + n * interval
            local wait = nxt - burst * interval - now
            if wait > 0 and (maxwait == 0 or (maxwait > 0 and wait >= maxwait)) then
              return {'0', f(wait), f(burst - (tat - now) / interval), f(tat - now), '0'}
            end
            redis.call('SET', KEYS[1], f(nxt), 'PX', px(nxt - now))
            if wait < 0 then wait = 0 end
            return {'1', f(wait), f(burst - (nxt - now) / interval), f(nxt - now),
              f(nxt) .. ':' .. f(interval) .. ':' .. f(burst)}
            """),

    /**
     * Gives back a GCRA reservation as far as nobody reserved after it (Go's
     * {@code Reservation.Cancel}). ARGV: the interval and burst the grant used (from its token,
     * not a stored limit an operator may have changed since), permits, the reservation's arrival
     * time.
     */
    GCRA_CANCEL("""
            local interval = tonumber(ARGV[1])
            local burst = tonumber(ARGV[2])
            local n = tonumber(ARGV[3])
            local reserved = tonumber(ARGV[4])
            if reserved - burst * interval - now <= 0 then return {'0', '0', '0', '0', '0'} end
            local tat = tonumber(redis.call('GET', KEYS[1]))
            if tat == nil then return {'0', '0', '0', '0', '0'} end
            local after = tat - reserved
            if after < 0 then after = 0 end
            local restore = n * interval - after
            if restore <= 0 then return {'0', '0', '0', '0', '0'} end
            local nt = tat - restore
            if nt <= now then
              redis.call('DEL', KEYS[1])
            else
              redis.call('SET', KEYS[1], f(nt), 'PX', px(nt - now))
            end
            return {'1', '0', '0', '0', '0'}
            """),

    /**
     * A fixed-window quota: the key is a hash of the window's number (windows are aligned to the
     * Unix epoch, so every instance agrees on them) and the permits used in it; it expires at the
     * window's end. ARGV: window (µs), limit, permits. A refusal counts nothing.
     */
    QUOTA("""
            local window = tonumber(ARGV[1])
            local limit = tonumber(ARGV[2])
            local n = tonumber(ARGV[3])
            if KEYS[2] then
              local c = redis.call('HGET', KEYS[2], 'limit')
              if c then limit = stored(c) end
            end
            local idx = math.floor(now / window)
            local reset = (idx + 1) * window - now
            local v = redis.call('HMGET', KEYS[1], 'w', 'c')
            local used = 0
            if v[1] and tonumber(v[1]) == idx then used = tonumber(v[2]) end
            if n > limit then return {'0', '-1', f(limit - used), f(reset), '0'} end
            if used + n > limit then return {'0', f(reset), f(limit - used), f(reset), '0'} end
            used = used + n
            redis.call('HSET', KEYS[1], 'w', string.format('%d', idx), 'c', string.format('%d', used))
            redis.call('PEXPIRE', KEYS[1], px(reset))
            return {'1', '0', f(limit - used), f(reset), '0'}
            """),

    /**
     * Sets (ARGV: field, value, ...) or, with no ARGV, clears the limit an operator keeps in Redis
     * for one key (KEYS[1], the key's {@code :limit} hash).
     */
    SET_LIMIT("""
            redis.call('DEL', KEYS[1])
            if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
            return {'1', '0', '0', '0', '0'}
            """);

    /**
     * What every script starts with: {@code now}, Redis's clock in microseconds, and {@code f}, which
     * formats a number for a reply or a stored value without losing the fraction.
     */
    private static final String PRELUDE = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local function f(x) return string.format('%.3f', x) end
            local function stored(v)
              local x = tonumber(v)
              if x == nil or x ~= x or x <= 0 or x > 1e15 * (1 + 1e-9) then
                error({err = 'BADLIMIT the limit kept in ' .. KEYS[2] .. ' is not a positive number: ' .. tostring(v)})
              end
              return x
            end
            local function px(us)
              return math.min(1e12, math.max(1, math.ceil(us / 1000)))
            end
            """;

    final String text;
    final String sha1;

    Script(String body) {
        this.text = PRELUDE + body;
        this.sha1 = sha1(text);
    }

    private static String sha1(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(40);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }
}
