"""Probe variants of Context.Slot.push / Scope.close (session 36), applied to a checkout of 3922904:
  python3 variants.py V1|V2|V3|F   (run from the repository root), then build the benchmarks jar.
None of them is kept: V1 and F drop checks the library promises (see README in this folder)."""
import sys
v=sys.argv[1]
C='resilience-context/src/main/java/dev/resilience/context/Context.java'
S='resilience-context/src/main/java/dev/resilience/context/Scope.java'
c=open(C).read(); s=open(S).read()
if v=='V1':  # no owner check
    old="""        if (s.owner != Thread.currentThread()) {"""
    assert old in s; s=s.replace(old,"""        if (false && s.owner != Thread.currentThread()) {""")
if v=='V2':  # interrupts[] read only when an interruptible scope is open
    old="""        CancelHandle.InterruptEntry interrupt = s.interrupts[depth]; // this scope's own, as the number says
        if (interrupt != null) {"""
    assert old in s; s=s.replace(old,"""        CancelHandle.InterruptEntry interrupt = s.interruptibles == 0 ? null : s.interrupts[depth];
        if (interrupt != null) {
            s.interruptibles--;""")
    old="""            if (inner != null) {
                s.interrupts[d] = null;"""
    assert old in s; s=s.replace(old,"""            if (inner != null) {
                s.interruptibles--;
                s.interrupts[d] = null;""")
    old="""                interrupts[d] = interrupt;"""
    assert old in c; c=c.replace(old,"""                interrupts[d] = interrupt;
                interruptibles++;""")
    old="""        long attaches;"""
    c=c.replace(old,"""        long attaches;
        int interruptibles;""")
if v=='F':  # the floor: no numbering, no interrupt slot, no owner check (probe only)
    old='''            int d = ++depth;
            if (d >= ids.length) {'''
    assert old in c; c=c.replace(old,'''            int d = ++depth;
            if (interrupt == null) { return new Scope(this, previous, d, 0L); } // FLOOR PROBE
            if (d >= ids.length) {''')
    old='''        Context.Slot s = slot;
        if (s.owner'''
    assert old in s; s=s.replace(old,'''        Context.Slot s = slot;
        if (id == 0L) { closed = true; s.current = previous; s.depth = depth - 1; return; } // FLOOR PROBE
        if (s.owner''')
if v=='V3':  # no numbering (probe only)
    old="""            long id = ++attaches;
            ids[d] = id;"""
    assert old in c; c=c.replace(old,"""            long id = 1L;""")
    old="""        if (depth > current || s.ids[depth] != id) {"""
    assert old in s; s=s.replace(old,"""        if (depth > current) {""")
open(C,'w').write(c); open(S,'w').write(s)
