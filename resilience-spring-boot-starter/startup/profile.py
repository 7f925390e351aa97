#!/usr/bin/env python3
"""Where the starter's startup CPU goes, from async-profiler's collapsed stacks of StartupCostTest's
application (see benchmarks/runs/2026-12-01-startup-profile.txt for the command). Each sample of the
main thread (named DestroyJavaVM by the time the profile is written) goes to the outermost frame of
dev/resilience code; then the children of a few frames of interest, and what the samples under our
frames were doing (loading classes, linking call sites, ...). Usage: profile.py COLLAPSED_FILE..."""
import collections, sys

def stacks(path):
    for line in open(path):
        stack, _, n = line.rstrip().rpartition(' ')
        frames = stack.split(';')
        if frames[0].startswith('[DestroyJavaVM') or frames[0].startswith('[main'):
            yield frames, int(n)

def ours(frame):
    return 'dev/resilience' in frame and 'StartupCostTest' not in frame and 'examples/boot' not in frame

def children(paths, root, depth):
    c = collections.Counter()
    for p in paths:
        for frames, n in stacks(p):
            for i, f in enumerate(frames):
                if root in f:
                    c[' > '.join(x.split('/')[-1][:70] for x in frames[i + 1:i + 1 + depth]) or '(self)'] += n
                    break
    print(f'\n## inside {root}: {sum(c.values())} samples')
    for k, v in c.most_common(12):
        print(f'{v:6d} {k}')

paths = sys.argv[1:]
for p in paths:
    top = collections.Counter(); kinds = collections.Counter(); main = 0
    for frames, n in stacks(p):
        main += n
        hit = next((i for i, f in enumerate(frames) if ours(f)), None)
        if hit is None:
            continue
        top[frames[hit].split('$$Lambda')[0]] += n
        kind = 'other'
        for f in frames[hit + 1:]:
            if 'linkCallSite' in f or 'LambdaMetafactory' in f:
                kind = 'call site linking (lambdas, indy)'; break
            if any(k in f for k in ('loadClass', 'defineClass', 'SystemDictionary', 'ClassFileParser', 'Verifier')):
                kind = 'class loading'; break
        kinds[kind] += n
    print(f'# {p}: main thread {main} samples, under our frames {sum(top.values())}: {dict(kinds)}')
    for k, v in top.most_common(12):
        print(f'{v:6d} {k}')
children(paths, 'ResilienceAutoConfiguration.resilienceRegistry', 2)
children(paths, 'GuardPostProcessor.postProcessAfterInitialization', 1)
children(paths, 'MeterBinder.accept', 3)
