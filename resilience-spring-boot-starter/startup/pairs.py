#!/usr/bin/env python3
"""What the starter adds to an application's startup: StartupCostTest's application started in fresh
JVMs with and without the starter's auto-configurations, in pairs (the order alternating), printing each
pair's wall clock and starting-thread CPU and the median of the paired differences with a bootstrap 95 %
interval. Usage: pairs.py N CLASSPATH_FILE [JVM flags...]; "{v}" in a flag or in the class path becomes "with" or "without"
(for one CDS archive per variant: -XX:SharedArchiveFile=/tmp/{v}.jsa; on JDK 25, one AOT cache per variant:
-XX:AOTCache=/tmp/{v}.aot with STARTUP_JAVA set; for Spring's AOT processing, one jar of generated code
per variant on the class path and -Dspring.aot.enabled=true, see aot.sh). See README, "Startup cost", and benchmarks/RESULTS.md, "Spring Boot starter: startup cost"."""
import statistics, sys
from starts import boot, start, train
n = int(sys.argv[1]); cp = open(sys.argv[2]).read().strip(); flags = sys.argv[3:]
def run(with_starter):
    v = "with" if with_starter else "without"
    return start(cp.replace("{v}", v), [f.replace("{v}", v) for f in flags], with_starter, v)
for w in (True, False):  # a missing CDS archive or AOT cache is made by one start of its variant (a training run)
    v = "with" if w else "without"
    train(cp.replace("{v}", v), [f.replace("{v}", v) for f in flags], w)
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
print("flags", flags, "pairs", n)
print("cpu diff median", statistics.median(dc), "mean", round(statistics.mean(dc),1), "sd", round(statistics.stdev(dc),1), "95% CI of median", boot(dc))
print("wall diff median", statistics.median(dw), "mean", round(statistics.mean(dw),1), "sd", round(statistics.stdev(dw),1), "95% CI of median", boot(dw))
print("with cpu median", statistics.median([a[1] for a,b in rows]), "without", statistics.median([b[1] for a,b in rows]))
