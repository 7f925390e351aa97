#!/usr/bin/env python3
"""Turns a JMH JSON result into the generated section of RESULTS.md and an SVG of cost ratios.

Which row is ours and which rows are its peers is read from the names the benchmarks use:
a method named ours*/..._ours, or an "impl"/"telemetry" parameter whose value starts with "ours"
(or is "none" for telemetry, the baseline); the rest of the name (or parameter value) groups a row
with the peers it is compared to. Ratios are our cost over the peer's: time per operation for
average-time benchmarks, 1/throughput for throughput ones; below 1 means ours is cheaper.
"""
import datetime
import json
import platform
import re
import subprocess
import sys

PEERS = ["resilience4j", "failsafeSmooth", "failsafeBursty", "failsafeInline", "failsafe", "bucket4j", "guava",
         "concurrencyLimits", "grpc", "otel", "jctools", "abq", "stormpot-tlr", "stormpot", "commons-pool2", "tpe",
         "micrometer", "netty"]


# Peers listed beside ours but not compared: Netty's Recycler does not recycle on JMH's threads (only on
# its FastThreadLocalThread), so its rows are not the same work.
NOT_EQUAL_WORK = {"netty"}
# Rows of a peer that do more than ours: Failsafe's getStageAsync runs the supplier on the common pool
# whatever with(Executor) says (a thread hop per call); its "failsafeInline" rows (a same-thread scheduler) are equal.
# Resilience4j's "pipeline" row runs its breaker's default slow-call timing on every call where ours does not
# (the pipelineSlowCalls and pipelineUntimed rows are the equal pairs); Failsafe's "pipelineTimeout" arms a
# timer per call that interrupts the call, where ours arms none: listed, not compared.
NOT_EQUAL_ROWS = {("failsafe", "async"), ("failsafe", "asyncTimeout"), ("resilience4j", "pipeline"),
                  ("failsafe", "pipelineTimeout")}


def split_name(method, params):
    """(who, group) for one result row."""
    others = ",".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("impl", "telemetry"))
    if "telemetry" in params:  # ours with and without telemetry: listed, not compared with a peer
        return f"ours ({params['telemetry']})", f"{method} {others}".strip()
    impl = params.get("impl")
    if impl is not None:
        who, _, rest = impl.partition("-")
        if impl.startswith("ours") or impl == "none":
            return ("ours" if impl != "none" else "ours (no telemetry)"), f"{method} {rest} {others}".strip()
        for p in PEERS:
            if impl == p or impl.startswith(p + "-"):
                return p, f"{method} {impl[len(p):].lstrip('-')} {others}".strip()
        return impl, f"{method} {others}".strip()
    m = re.match(r"(.*)_(ours|" + "|".join(PEERS) + r")$", method)
    if m:
        return m.group(2), f"{m.group(1)} {others}".strip()
    for who in ["ours"] + PEERS:
        if method.startswith(who):
            rest = method[len(who):]
            if who == "ours" and rest and not rest.startswith("_") and rest[0].islower():
                continue
            return who, f"{rest.lstrip('_') or 'call'} {others}".strip()
    return method, f"{method} {others}".strip()


def score(b):
    pm = b["primaryMetric"]
    sm = b.get("secondaryMetrics", {})
    if "pollsMade" in sm:  # queue groups: successful polls per microsecond on the consumer side
        return sm["pollsMade"]["score"], sm["pollsMade"]["scoreError"], "ops/us (polls)", "thrpt", sm["pollsMade"]["rawData"]
    return pm["score"], pm["scoreError"], pm["scoreUnit"], b["mode"], pm["rawData"]


def settings(data):
    """The JMH settings of one result file, as the rows of its first benchmark say."""
    b = data[0]
    return (f"{b['forks']} forks x {b['measurementIterations']} x {b['measurementTime']} after "
            f"{b['warmupIterations']} x {b['warmupTime']} warm-up")


def main():
    # report.py <json[,json...]> <pattern or label> <RESULTS.md> <svg>: several result files are
    # merged (e.g. the 1-thread and the 2-thread runs of one session), each listed with its settings.
    files = sys.argv[1].split(",")
    pattern, results_md, svg_path = sys.argv[2], sys.argv[3], sys.argv[4]
    runs = [(f, json.load(open(f))) for f in files]
    data = [b for _, d in runs for b in d]
    rows = []
    for b in (dict(b, _file=f) for f, d in runs for b in d):
        cls, method = b["benchmark"].split(".")[-2:]
        params = b.get("params") or {}
        who, group = split_name(method, params)
        threads = b.get("threads", 1)
        if threads > 1 and "thread" not in method.lower():  # the same method run with -t N: its own group
            group += f" threads={threads}"
            params = dict(params, threads=threads)
        s, err, unit, mode, raw = score(b)
        forks = [sum(f) / len(f) for f in raw]
        sm = b.get("secondaryMetrics", {})
        alloc = sm.get("gc.alloc.rate.norm", {}).get("score")
        overlap = None
        if "concurrent" in sm and "windows" in sm:  # RateLimiterBenchmark's co-scheduling check, per fork
            overlap = [sum(c) / sum(w) if sum(w) else 0.0
                       for c, w in zip(sm["concurrent"]["rawData"], sm["windows"]["rawData"])]
        rows.append(dict(file=b["_file"], cls=cls, method=method, params=params, who=who, group=group, score=s, err=err,
                         unit=unit, mode=mode, forks=forks, alloc=alloc, threads=b.get("threads", 1),
                         overlap=overlap))
    jdk = data[0]["jdkVersion"] + " (" + data[0]["vmName"] + ")" if data else "?"
    cpu = "?"
    try:
        cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = ["<!-- report:begin (generated by benchmarks/scripts/report.py; edit the script, not this) -->",
             "## Generated report", "",
             f"`{pattern}`, generated on {datetime.date.today()}: JDK {jdk}, {cores} cores ({cpu}), {platform.system()};",
             "`-prof gc`. The runs (raw JMH JSON; regenerate with `python3 benchmarks/scripts/report.py "
             + ",".join(files) + " ...`):", ""]
    for f, d in runs:
        lines.append(f"- `{f}`: {len(d)} results, {settings(d)}")
    lines += ["", "The Forks column gives each fork's mean. Ratio = our cost / the peer's (time per op, or",
              "1 / throughput): below 1, ours is cheaper; computed only between rows of the same result file",
              "(the same run), and left out where the two rows do not do the same work (listed in report.py).",
              "On 2 cores, rows with 2 threads or producer/consumer groups are noisy: read the per-fork figures",
              "(and, for the rate limiter, the overlap column).", ""]
    ratios = []
    for cls in sorted({r["cls"] for r in rows}):
        lines += [f"### {cls}", "", "| Benchmark | Who | Score | Forks | B/op | Ratio vs ours |", "|---|---|---|---|---|---|"]
        crows = [r for r in rows if r["cls"] == cls]
        for r in sorted(crows, key=lambda r: (r["group"], r["who"] != "ours" and not r["who"].startswith("ours"), r["who"])):
            # a ratio only within one result file: two runs on this machine can differ by more than the rows do
            same = [o for o in crows if o["group"] == r["group"] and o["who"].startswith("ours") and o["file"] == r["file"]]
            if not same:  # a peer with one variant (e.g. ArrayBlockingQueue) against each of ours
                same = [o for o in crows if o["method"] == r["method"] and o["who"].startswith("ours")
                        and o["file"] == r["file"]
                        and {k: v for k, v in o["params"].items() if k != "impl"}
                        == {k: v for k, v in r["params"].items() if k != "impl"}]
            parts = []
            unequal = r["who"] in NOT_EQUAL_WORK or (r["who"], r["group"]) in NOT_EQUAL_ROWS
            for ours in same if o_is_peer(r) and not unequal else []:
                if r["score"] > 0 and ours["score"] > 0:
                    value = ours["score"] / r["score"] if r["mode"] != "thrpt" else r["score"] / ours["score"]
                    label = ours["group"] if len(same) > 1 else ""
                    parts.append(f"{label} {value:.2f}".strip())
                    ratios.append((f"{cls.replace('Benchmark', '')} {ours['group']} vs {r['who']}", value,
                                   len(r["forks"]), r["file"]))
            ratio = ", ".join(parts)
            forks = " / ".join(f"{f:.1f}" for f in r["forks"])
            if r["overlap"] is not None:
                forks += " (overlap " + " / ".join(f"{o:.2f}" for o in r["overlap"]) + ")"
            alloc = "-" if r["alloc"] is None else f"{r['alloc']:.0f}"
            lines.append(f"| {r['method']} {' '.join(f'{k}={v}' for k, v in r['params'].items())} | {r['who']} | "
                         f"{r['score']:.2f} ± {r['err']:.2f} {r['unit']} | {forks} | {alloc} | {ratio} |")
        lines.append("")
    lines += ["![ours relative to each peer](report.svg)", "", "<!-- report:end -->", ""]
    section = "\n".join(lines)
    text = open(results_md).read()
    begin = text.find("<!-- report:begin")
    end = text.find("<!-- report:end -->")
    if begin >= 0 and end > begin:
        text = text[:begin] + section + text[end + len("<!-- report:end -->\n"):]
    else:
        text = text.rstrip() + "\n\n" + section
    open(results_md, "w").write(text)
    write_svg(svg_path, distinct_labels(ratios))
    print(f"wrote {results_md} ({len(rows)} results, {len(ratios)} ratios) and {svg_path}")


def distinct_labels(ratios):
    """(label, ratio) pairs; a label measured in more than one result file says which run each bar is from:
    its fork count, and the file's name too where the fork counts alone do not tell the bars apart."""
    import collections
    files = collections.defaultdict(set)
    for label, _, n, f in ratios:
        files[label].add((n, f))
    out = []
    for label, v, n, f in ratios:
        if len(files[label]) > 1:
            same_n = sum(1 for m, _ in files[label] if m == n) > 1
            stem = f.rsplit("/", 1)[-1].removesuffix(".json")
            label += f" ({n} forks, {stem})" if same_n else f" ({n} forks)"
        out.append((label, v))
    return out


def o_is_peer(r):
    return not r["who"].startswith("ours")


def write_svg(path, ratios):
    """Horizontal bars of our cost relative to each peer, on a log scale, with 1.0 marked."""
    import math
    width, left, bar, gap = 900, 430, 16, 6
    height = 40 + len(ratios) * (bar + gap) + 30
    lo, hi = math.log10(0.01), math.log10(10)
    x = lambda v: left + (math.log10(min(max(v, 0.01), 10)) - lo) / (hi - lo) * (width - left - 20)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14">Our cost relative to each peer (log scale; left of 1 = ours cheaper)</text>']
    for i, t in enumerate([0.01, 0.1, 1, 10]):
        out.append(f'<line x1="{x(t):.1f}" y1="30" x2="{x(t):.1f}" y2="{height - 25}" stroke="{"#000" if t == 1 else "#ccc"}"/>')
        out.append(f'<text x="{x(t):.1f}" y="{height - 10}" text-anchor="middle">{t:g}</text>')
    for i, (label, v) in enumerate(ratios):
        y = 35 + i * (bar + gap)
        color = "#2a9d4a" if v <= 1 else "#d0453a"
        x0, x1 = sorted((x(1), x(v)))
        out.append(f'<text x="{left - 8}" y="{y + bar - 4}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar}" fill="{color}"/>')
        out.append(f'<text x="{x1 + 4:.1f}" y="{y + bar - 4}">{v:.2f}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


def escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    main()
