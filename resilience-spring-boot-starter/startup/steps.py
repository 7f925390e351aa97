#!/usr/bin/env python3
"""Compares StepCpu's output of starts with the starter (DIR/w*.txt) and without it (DIR/n*.txt): for each
startup step (bean), the mean difference of its self CPU, the medians with and without; the sum over all
steps, and over the starter's own beans. Usage: steps.py DIR [ROWS]. See StepCpu.java."""
import sys, re, statistics, collections, glob
def load(f):
    d = collections.defaultdict(float); tot = None
    for line in open(f):
        if line.startswith('TOTALCPU'): tot = float(line.split()[1])
        if not line.startswith('STEP'): continue
        p = line.rstrip('\n').split(' ', 3)
        d[p[1] + ' ' + (p[3] if len(p) > 3 else '')] += float(p[2])
    return d, tot
D = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
W = [load(f) for f in sorted(glob.glob(D + '/w*.txt'))]; N = [load(f) for f in sorted(glob.glob(D + '/n*.txt'))]
print('with', statistics.median([t for _, t in W]), 'without', statistics.median([t for _, t in N]), 'diff of medians', statistics.median([t for _, t in W]) - statistics.median([t for _, t in N]), 'n', len(W), len(N))
keys = set().union(*[d for d, _ in W], *[d for d, _ in N])
rows = sorted(((statistics.mean([w.get(k, 0) for w, _ in W]) - statistics.mean([x.get(k, 0) for x, _ in N]), statistics.median([w.get(k, 0) for w, _ in W]), statistics.median([x.get(k, 0) for x, _ in N]), k) for k in keys), reverse=True)
for d, a, b, k in rows[:n]: print(f'{d:8.2f} {a:8.2f} {b:8.2f} {k}')
print('...')
for d, a, b, k in rows[-12:]: print(f'{d:8.2f} {a:8.2f} {b:8.2f} {k}')
print('sum of mean diffs', round(sum(r[0] for r in rows), 1))
ours = [r for r in rows if re.search(r'esilience|paymentService', r[3])]
print('ours (resilience*/paymentService) sum', round(sum(r[0] for r in ours), 1))
