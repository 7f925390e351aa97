#!/usr/bin/env python3
"""Where the overload lab's generator loses time, from a kernel trace of one lab command.

The generator thread runs at SCHED_FIFO priority 10 (kernel prio 89) while it keeps time, so it is
the thread most often switched in at prio 89. For it, this prints:
  - wake-up to run: from sched_wakeup to the sched_switch that runs it, the worst ones with every
    event of that CPU in between (what held the CPU: its 'N' flag shows a reschedule was pending);
  - its longest stretches on a CPU, and the longest gap between two events of that CPU inside each
    (no timer tick for many milliseconds on a busy CPU means the virtual CPU itself was not running);
  - its time off a CPU in states other than sleeping (D: uninterruptible; R: preempted).

Recording (as root; tracefs; about 100 MB of text for a 60 s command):
  mount -t tracefs nodev /sys/kernel/tracing; cd /sys/kernel/tracing
  echo 150000 > buffer_size_kb; echo > set_event
  for e in sched:sched_switch sched:sched_wakeup sched:sched_waking irq:softirq_entry \\
           irq:softirq_exit irq:irq_handler_entry irq:irq_handler_exit timer:hrtimer_expire_entry; do
    echo $e >> set_event; done
  echo 1 > tracing_on; java ... OverloadLab --no-fork ...; echo 0 > tracing_on; cat trace > t.txt
Usage: generator_trace.py t.txt [worst N]"""
import collections, re, sys

PAT = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+([\d.]+): (\w+): (.*)$')


def events(path):
    for line in open(path):
        m = PAT.match(line)
        if m:
            yield (float(m.group(5)), int(m.group(3)), m.group(6), m.group(7), line.rstrip())


def main():
    path = sys.argv[1]
    worst = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    ev = list(events(path))
    fifo = collections.Counter(re.search(r'next_pid=(\d+)', r).group(1)
                               for _, _, n, r, _ in ev if n == 'sched_switch' and 'next_prio=89' in r)
    if not fifo:
        sys.exit('no thread ran at prio 89 (SCHED_FIFO 10) in this trace')
    gen = fifo.most_common(1)[0][0]
    print(f'generator: pid {gen} ({fifo[gen]} switch-ins at prio 89); events: {len(ev)}')

    woke, lats = None, []
    on, stretches = None, []
    off, offs = None, []
    for i, (t, cpu, name, rest, _) in enumerate(ev):
        if name == 'sched_wakeup' and f'pid={gen} ' in rest and 'prio=89' in rest:
            woke = (t, i)
        elif name == 'sched_switch' and f'next_pid={gen} ' in rest and 'next_prio=89' in rest:
            if woke:
                lats.append((t - woke[0], woke[1], i, cpu))
            if off:
                offs.append((t - off[0], off[1], off[0]))
            woke, off, on = None, None, (t, i, cpu)
        elif name == 'sched_switch' and f'prev_pid={gen} ' in rest and 'prev_prio=89' in rest:
            state = re.search(r'prev_state=(\S+)', rest).group(1)
            if on:
                stretches.append((t - on[0], on[1], i, on[2]))
            on, off = None, (t, state)

    lats.sort(reverse=True)
    ordered = sorted(x[0] for x in lats)
    print(f'\n## wake-up to run: {len(lats)} wake-ups, median {ordered[len(ordered) // 2] * 1e6:.0f} us, '
          f'p99.9 {ordered[int(len(ordered) * 0.999)] * 1e3:.3f} ms, over 1 ms: {sum(1 for x in ordered if x > 1e-3)}')
    for d, i0, i1, cpu in lats[:worst]:
        print(f'\n{d * 1e3:.3f} ms, cpu{cpu}, from {ev[i0][0]:.6f}:')
        for e in [e for e in ev[i0:i1 + 1] if e[1] == cpu][:12]:
            print('    ' + e[4][:170])

    stretches.sort(reverse=True)
    print(f'\n## longest stretches on a CPU at prio 89 (of {len(stretches)}), with the longest gap between two events of that CPU')
    for d, i0, i1, cpu in stretches[:worst]:
        times = [e[0] for e in ev[i0:i1 + 1] if e[1] == cpu]
        gap = max((b - a for a, b in zip(times, times[1:])), default=0)
        print(f'  {d * 1e3:.3f} ms on cpu{cpu} from {ev[i0][0]:.6f}; longest silent gap {gap * 1e3:.3f} ms')

    by_state = collections.defaultdict(list)
    for d, state, t in offs:
        by_state[state].append((d, t))
    print('\n## off a CPU by the state it left in (S is parking: expected)')
    for state, rows in sorted(by_state.items()):
        rows.sort(reverse=True)
        print(f'  {state}: {len(rows)}, longest ' + ', '.join(f'{d * 1e3:.3f} ms @{t:.3f}' for d, t in rows[:3]))


if __name__ == '__main__':
    main()
