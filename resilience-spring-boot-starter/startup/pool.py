#!/usr/bin/env python3
"""Pools several runs of pairs.py (each its own pair of CDS archives, say) into one estimate of what the
starter adds: the median of all paired differences with two bootstrap 95 % intervals, one resampling
pairs, one resampling runs and then pairs within each (so an effect of one run's archives counts as
noise, not as signal; with a handful of runs that second interval is rough: few distinct resamples
of the runs exist). Usage: pool.py PAIRS_OUTPUT..."""
import random, re, statistics, sys

runs = []
for path in sys.argv[1:]:
    rows = [(int(m.group(1)), int(m.group(2))) for m in
            re.finditer(r"diff cpu (-?\d+) wall (-?\d+)", open(path).read())]
    if rows:
        runs.append((path, rows))

def interval(stat, draws=4000):
    """The 2.5th and 97.5th percentiles of draws of stat: as many draws below the one as above the other."""
    random.seed(1)
    xs = sorted(stat() for _ in range(draws))
    k = int(draws * 0.025)
    return xs[k - 1], xs[draws - k]

for i, name in ((0, "cpu"), (1, "wall")):
    every = [r[i] for _, rows in runs for r in rows]
    for path, rows in runs:
        print(f"{name} {path}: {len(rows)} pairs, median {statistics.median([r[i] for r in rows])}")
    flat = interval(lambda: statistics.median(random.choices(every, k=len(every))))
    def nested():
        picked = random.choices(runs, k=len(runs))
        return statistics.median([r[i] for _, rows in picked for r in random.choices(rows, k=len(rows))])
    print(f"{name} pooled: {len(every)} pairs in {len(runs)} runs, median {statistics.median(every)}, "
          f"95 % interval {flat} (pairs resampled), {interval(nested)} (runs, then pairs, resampled)")
