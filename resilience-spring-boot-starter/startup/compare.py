#!/usr/bin/env python3
"""Two builds of the starter against each other and against no starter, in one sequence of fresh JVMs:
each round starts StartupCostTest's application with class path A (the starter's auto-configurations
on), with class path B (on), and with A but the auto-configurations excluded, in a rotating order, so
that a machine whose speed drifts affects the three alike. Prints each round and, for A and B, the
median of (with - without) for the starting thread's CPU and the wall clock, with a bootstrap 95 %
interval, and the median of B - A. Usage: compare.py N CLASSPATH_FILE_A CLASSPATH_FILE_B [JVM flags...];
B may add JVM flags of its own after "::", comma-separated (the same build with a part of the starter
switched off: B=cp.txt::-Dresilience.spring.metrics.enabled=false). See README, "Startup cost";
pairs.py measures one build."""
import random, re, statistics, subprocess, sys
n = int(sys.argv[1]); b_file, _, b_flags = sys.argv[3].partition("::")
cps = {"A": open(sys.argv[2]).read().strip(), "B": open(b_file).read().strip()}
own = {"A": [], "B": [f for f in b_flags.split(",") if f]}
flags = sys.argv[4:]
ARGS = ["--resilience.retry.payments.max-attempts=3", "--resilience.circuitbreaker.payments.consecutive-failures=5",
        "--resilience.ratelimiter.api.rate=50/s", "--resilience.bulkhead.api.max-concurrent=10", "--logging.level.root=WARN"]
EX = "--spring.autoconfigure.exclude=" + ",".join("dev.resilience.spring.autoconfigure." + c for c in
      ["ResilienceAutoConfiguration", "ResilienceWebAutoConfiguration", "ResilienceActuatorAutoConfiguration",
       "ResilienceWebFluxAutoConfiguration", "ResilienceCloudAutoConfiguration"])
VARIANTS = {"A": ("A", []), "B": ("B", []), "none": ("A", [EX])}  # the class path's, and the exclusion
def run(variant):
    cp, extra = VARIANTS[variant]
    cmd = ["java", "-Xshare:auto"] + flags + (own[variant] if variant in own else []) + ["-cp", cps[cp],
           "dev.resilience.spring.StartupCostTest"] + ARGS + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"startup-ms=(\d+) cpu-ms=(\d+)", p.stdout)
    if p.returncode != 0 or m is None:
        sys.exit(f"a start of {variant} failed (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
    return int(m.group(1)), int(m.group(2))
for v in VARIANTS:  # warms the file cache
    run(v)
orders = [["A", "B", "none"], ["B", "none", "A"], ["none", "A", "B"]]
rounds = []
for i in range(n):
    r = {v: run(v) for v in orders[i % 3]}
    rounds.append(r)
    print(f"round {i}: " + "  ".join(f"{v} wall {r[v][0]} cpu {r[v][1]}" for v in VARIANTS), flush=True)
def boot(d):
    random.seed(1); ms = sorted(statistics.median(random.choices(d, k=len(d))) for _ in range(2000))
    return ms[50], ms[1950]
print("flags", flags, "rounds", n)
for k, name in ((1, "cpu"), (0, "wall")):
    for v in ("A", "B"):
        d = [r[v][k] - r["none"][k] for r in rounds]
        print(f"{v} - none {name}: median {statistics.median(d)} mean {round(statistics.mean(d), 1)} 95% CI of median {boot(d)}")
    d = [r["B"][k] - r["A"][k] for r in rounds]
    print(f"B - A {name}: median {statistics.median(d)} 95% CI of median {boot(d)}")
print("medians, cpu: A", statistics.median(r["A"][1] for r in rounds), "B", statistics.median(r["B"][1] for r in rounds),
      "none", statistics.median(r["none"][1] for r in rounds))
