#!/usr/bin/env python3
"""What the starter adds to an application's startup: StartupCostTest's application started in fresh
JVMs with and without the starter's auto-configurations, in pairs (the order alternating), printing each
pair's wall clock and starting-thread CPU and the median of the paired differences with a bootstrap 95 %
interval. Usage: pairs.py N CLASSPATH_FILE [JVM flags...]; "{v}" in a flag becomes "with" or "without"
(for one CDS archive per variant: -XX:SharedArchiveFile=/tmp/{v}.jsa). See README, "Startup cost"."""
import os, subprocess, sys, re, random, statistics
n = int(sys.argv[1]); cp = open(sys.argv[2]).read().strip(); flags = sys.argv[3:]
ARGS = ["--resilience.retry.payments.max-attempts=3", "--resilience.circuitbreaker.payments.consecutive-failures=5",
        "--resilience.ratelimiter.api.rate=50/s", "--resilience.bulkhead.api.max-concurrent=10", "--logging.level.root=WARN"]
EX = "--spring.autoconfigure.exclude=" + ",".join("dev.resilience.spring.autoconfigure." + c for c in
      ["ResilienceAutoConfiguration", "ResilienceWebAutoConfiguration", "ResilienceActuatorAutoConfiguration",
       "ResilienceWebFluxAutoConfiguration", "ResilienceCloudAutoConfiguration"])
def run(with_starter):
    cmd = ["java", "-Xshare:auto"] + [f.replace("{v}", "with" if with_starter else "without") for f in flags] + ["-cp", cp, "dev.resilience.spring.StartupCostTest"] + ARGS + ([] if with_starter else [EX])
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    m = re.search(r"startup-ms=(\d+) cpu-ms=(\d+)", out)
    return int(m.group(1)), int(m.group(2))
for w in (True, False):  # a missing CDS archive is made by one start of its variant (a training run)
    for f in flags:
        path = f.replace("{v}", "with" if w else "without").partition("-XX:SharedArchiveFile=")[2]
        if path and not os.path.exists(path):
            subprocess.run(["java", "-XX:ArchiveClassesAtExit=" + path, "-cp", cp, "dev.resilience.spring.StartupCostTest"]
                           + ARGS + ([] if w else [EX]), capture_output=True, check=True)
run(True); run(False)  # warms the file cache for both
rows = []
for i in range(n):
    order = [True, False] if i % 2 == 0 else [False, True]
    r = {}
    for w in order:
        r[w] = run(w)
    rows.append((r[True], r[False]))
    print(f"pair {i}: with wall {r[True][0]} cpu {r[True][1]}  without wall {r[False][0]} cpu {r[False][1]}  diff cpu {r[True][1]-r[False][1]} wall {r[True][0]-r[False][0]}", flush=True)
dc = [a[1]-b[1] for a, b in rows]; dw = [a[0]-b[0] for a, b in rows]
def boot(d):
    random.seed(1); ms = sorted(statistics.median(random.choices(d, k=len(d))) for _ in range(2000))
    return ms[50], ms[1950]
print("flags", flags, "pairs", n)
print("cpu diff median", statistics.median(dc), "mean", round(statistics.mean(dc),1), "sd", round(statistics.stdev(dc),1), "95% CI of median", boot(dc))
print("wall diff median", statistics.median(dw), "mean", round(statistics.mean(dw),1), "sd", round(statistics.stdev(dw),1), "95% CI of median", boot(dw))
print("with cpu median", statistics.median([a[1] for a,b in rows]), "without", statistics.median([b[1] for a,b in rows]))
