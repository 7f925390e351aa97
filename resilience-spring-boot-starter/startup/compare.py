#!/usr/bin/env python3
"""Two builds of the starter against each other and against no starter, in one sequence of fresh JVMs:
each round starts StartupCostTest's application with class path A (the starter's auto-configurations
on), with class path B (on), and with A but the auto-configurations excluded, in a rotating order, so
that a machine whose speed drifts affects the three alike. Prints each round and, for A and B, the
median of (with - without) for the starting thread's CPU and the wall clock, with a bootstrap 95 %
interval, and the median of B - A. Usage: compare.py N CLASSPATH_FILE_A CLASSPATH_FILE_B [JVM flags...];
B may add JVM flags of its own after "::", comma-separated (the same build with a part of the starter
switched off: B=cp.txt::-Dresilience.spring.metrics.enabled=false). "{v}" in a flag becomes the
variant's name, A, B or none (one CDS archive per variant: -XX:SharedArchiveFile=/tmp/{v}.jsa, made by a
training start if missing). See README, "Startup cost", and benchmarks/RESULTS.md, "Spring Boot starter: startup cost"; pairs.py measures one build; starts.py holds
what the two share."""
import statistics, sys
from starts import boot, start, train
n = int(sys.argv[1]); b_file, _, b_flags = sys.argv[3].partition("::")
cps = {"A": open(sys.argv[2]).read().strip(), "B": open(b_file).read().strip()}
own = {"A": [], "B": [f for f in b_flags.split(",") if f], "none": []}
flags = sys.argv[4:]
if any("{v}" not in f for f in flags if f.startswith(("-XX:SharedArchiveFile=", "-XX:AOTCache="))):
    sys.exit("an archive flag needs \"{v}\": the variants' class paths differ, so each needs its own archive")
VARIANTS = {"A": ("A", True), "B": ("B", True), "none": ("A", False)}  # the class path, the starter on or off
def run(variant):
    cp, with_starter = VARIANTS[variant]
    return start(cps[cp], [f.replace("{v}", variant) for f in flags] + own[variant], with_starter, variant)
for v, (cp, with_starter) in VARIANTS.items():
    train(cps[cp], [f.replace("{v}", v) for f in flags] + own[v], with_starter)
for v in VARIANTS:  # warms the file cache
    run(v)
orders = [["A", "B", "none"], ["B", "none", "A"], ["none", "A", "B"]]
rounds = []
for i in range(n):
    r = {v: run(v) for v in orders[i % 3]}
    rounds.append(r)
    print(f"round {i}: " + "  ".join(f"{v} wall {r[v][0]} cpu {r[v][1]}" for v in VARIANTS), flush=True)
print("flags", flags, "rounds", n)
for k, name in ((1, "cpu"), (0, "wall")):
    for v in ("A", "B"):
        d = [r[v][k] - r["none"][k] for r in rounds]
        print(f"{v} - none {name}: median {statistics.median(d)} mean {round(statistics.mean(d), 1)} 95% CI of median {boot(d)}")
    d = [r["B"][k] - r["A"][k] for r in rounds]
    print(f"B - A {name}: median {statistics.median(d)} 95% CI of median {boot(d)}")
print("medians, cpu: A", statistics.median(r["A"][1] for r in rounds), "B", statistics.median(r["B"][1] for r in rounds),
      "none", statistics.median(r["none"][1] for r in rounds))
