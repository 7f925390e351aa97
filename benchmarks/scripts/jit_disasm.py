#!/usr/bin/env python3
"""Disassembles what HotSpot's C2 compiled, without hsdis.

HotSpot prints a compiled method's machine code as hex words when no hsdis library is installed
(Debian's libhsdis0-fcml exports only the old decode_instructions entry, which JDK 17 does not
load). This script rebuilds the bytes from that print and disassembles them with objdump (binutils).

  java -jar benchmarks/target/benchmarks.jar 'QueueSafetyTaxBenchmark.oursSpsc$' -f 1 -wi 2 -i 1 \\
      -jvmArgsAppend "-XX:+UnlockDiagnosticVMOptions \\
      -XX:CompileCommand=print,*QueueSafetyTaxBenchmark_oursSpsc_jmhTest::oursSpsc_avgt_jmhStub" > print.txt
  python3 benchmarks/scripts/jit_disasm.py print.txt            # lists the C2 compilations
  python3 benchmarks/scripts/jit_disasm.py print.txt 1          # disassembles the second one
  python3 benchmarks/scripts/jit_disasm.py print.txt 1 LO HI    # counts instructions, memory
                                                                # operands and branches in [LO, HI]

LO and HI are hex addresses from the listing (a loop: from a backward branch's target to that
branch). Relocation notes HotSpot prints (oops, metadata, calls) are shown as ';;' lines.
"""
import re
import subprocess
import sys
import tempfile


def c2_blocks(text):
    blocks = re.split(r'(?=Compiled method \()', text)
    return [b for b in blocks if b.startswith('Compiled method (c2)')]


def disassemble(block):
    code = block.split('[MachCode]')[1].split('[/MachCode]')[0]
    mem, start = {}, None
    for line in code.splitlines():
        m = re.match(r'\s*0x([0-9a-f]+): ((?:[0-9a-f]{2,8} ?\|? ?)+)\s*$', line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        hexes = re.sub(r'[^0-9a-f]', '', m.group(2))
        start = addr if start is None else start
        for i in range(0, len(hexes), 2):
            mem[addr + i // 2] = int(hexes[i:i + 2], 16)
    data = bytes(mem.get(a, 0x90) for a in range(start, max(mem) + 1))
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(data)
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', '-Mintel',
                              '--adjust-vma=%#x' % start, f.name], capture_output=True, text=True, check=True).stdout
    notes = {}
    for m in re.finditer(r'0x([0-9a-f]+): ;([^\n]*)', code):
        notes.setdefault(int(m.group(1), 16), []).append(m.group(2).strip())
    rows = []
    for line in out.splitlines():
        m = re.match(r'\s*([0-9a-f]+):\t[^\t]*\t?(.*)', line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        for n in notes.get(addr, []):
            rows.append((addr, ';; ' + n))
        if m.group(2).strip():
            rows.append((addr, m.group(2).strip()))
    return rows


def main():
    text = open(sys.argv[1]).read()
    blocks = c2_blocks(text)
    if len(sys.argv) == 2:
        for i, b in enumerate(blocks):
            print(i, b.split('\n')[0])
        return
    rows = disassemble(blocks[int(sys.argv[2])])
    if len(sys.argv) == 3:
        for addr, ins in rows:
            print('%x:\t%s' % (addr, ins))
        return
    lo, hi = int(sys.argv[3], 16), int(sys.argv[4], 16)
    n = mem = branches = 0
    for addr, ins in rows:
        if lo <= addr <= hi and not ins.startswith(';;'):
            print('%x:\t%s' % (addr, ins))
            op = ins.split()[0]
            n += 1
            branches += op.startswith('j')
            mem += 'PTR' in ins and op != 'lea'
    print('instructions %d, with a memory operand %d, branches %d' % (n, mem, branches))


if __name__ == '__main__':
    main()
