#!/usr/bin/env python3
"""How soon a Vegas probe takes a rise in latency for the new normal: a step-by-step model of
LimitAlgorithm.vegas's update (resilience-core, VegasLimit, which does not probe) with a probe added,
driven as AdaptiveLimiterTest.simulate drives a limiter (saturated rounds: every permit taken, all
complete after the round's latency). A limiter runs a random 30-90 rounds at 10 ms (its limit grows
to 200), then every call takes 50 ms (a 5x rise); counted: samples until the next probe
re-baselines, and the lowest limit before it. Two rules for the probe: concurrency-limits'
VegasLimit (the count compared with jitter x 30 x the current limit) and the variant tried in
session 18 and not kept (the threshold fixed at the last probe, from the limit then; README, "Which
limit algorithm"). 400 seeds; no JVM involved. Usage: python3 benchmarks/sim/vegas_probe.py"""
import math, random

class Vegas:
    def __init__(self, initial, lo, hi, jitter, fixed):
        self.lo, self.hi, self.jitter, self.fixed = lo, hi, jitter, fixed
        self.noload = 2**63 - 1
        self.est = float(initial)
        self.count = 0
        self.probes = 0
        self.j = jitter()
        self.at = self.j * 30 * self.est  # ours: the threshold, fixed at each probe

    def update(self, limit, rtt, inflight):
        self.count += 1
        due = self.count >= (self.at if self.fixed else self.j * 30 * self.est)
        if due:
            self.count = 0
            self.j = self.jitter()
            self.at = self.j * 30 * self.est
            self.noload = rtt
            self.probes += 1
            return limit
        if rtt < self.noload:
            self.noload = rtt
            return limit
        cur = self.est
        log = max(1.0, math.log10(cur))
        if inflight * 2 < cur:
            return limit
        q = math.ceil(cur * (1.0 - self.noload / rtt))
        if q <= log:
            nxt = cur + 6 * log
        elif q < 3 * log:
            nxt = cur + log
        elif q > 6 * log:
            nxt = cur - log
        else:
            return limit
        self.est = max(self.lo, min(self.hi, nxt))
        return int(self.est)

def rounds(v, limit, n, ms):
    for _ in range(n):
        size = limit
        for i in range(size):
            nxt = v.update(limit, ms * 1_000_000, size - i)
            limit = max(1, nxt)
    return limit

def quantiles(xs):
    xs = sorted(xs)
    return [xs[int(p * (len(xs) - 1))] for p in (0.1, 0.5, 0.9)]

for fixed, name in ((False, "concurrency-limits' rule (current limit)"), (True, "the session-18 variant (limit at the last probe)")):
    waits, lows = [], []
    for seed in range(400):
        rnd = random.Random(seed)
        v = Vegas(20, 2, 200, lambda: rnd.uniform(0.5, 1), fixed)
        limit = rounds(v, 20, 30 + rnd.randrange(60), 10)
        before, n, low = v.probes, 0, limit
        while v.probes == before:
            limit = max(1, v.update(limit, 50_000_000, limit))
            n += 1
            low = min(low, limit)
        waits.append(n)
        lows.append(low)
    print(f"{name}: samples from the rise to the probe p10/p50/p90 {quantiles(waits)}, "
          f"lowest limit before it p10/p50/p90 {quantiles(lows)}")
