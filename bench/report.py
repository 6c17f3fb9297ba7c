#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""report.py - turn fwpm-bench JSON files (--benchmark_out) into a Markdown
report (fwpm's ratio to each peer for every benchmark, page cost against
memcpy, the machine) and PNG plots.

    /usr/bin/python3 bench/report.py RESULTS.json... [--out DIR]

Several files (e.g. one per engine, as bench/run.sh writes them) are merged.
Writes DIR/report.md and DIR/*.png (DIR defaults to the first JSON's directory).
With both fwpm and snapcache (the cached-vector design, rebuilt after every
change) in the results, report.md also compares the two against the goals the
persistent vector was built for.
Plots need Debian's python3-matplotlib, hence /usr/bin/python3; without it
the Markdown is still written. Ratios read "fwpm is N times better": peer/fwpm
for costs (time, bytes), fwpm/peer for rates. With repetitions, medians are
used.
"""
import argparse
import json
import math
import os
import re
import statistics
import sys

IMPLS = ["fwpm", "mutex", "rwlock", "urcu", "snapcache"]
BASELINES = ["memcpy", "memcpy_noalloc"]
FAMILIES = ["open_close", "open_close_in_turn", "startup_shutdown", "create_enum_handle", "enum_page", "enumerate_all", "mixed", "memory"]
TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
DROP = re.compile(r"^(real_time|manual_time|iterations:\d+|repeats:\d+|min_time:.*)$")

# family -> [(label, getter, higher_is_better, kind)]
METRICS = {
    "open_close": [("open+close/s", lambda b: b.get("items_per_second"), True, "rate")],
    "open_close_in_turn": [("open+close/s", lambda b: b.get("items_per_second"), True, "rate")],
    "startup_shutdown": [
        ("open/close calls/s", lambda b: b.get("items_per_second"), True, "rate"),
        ("worst single call", lambda b: (b.get("worst_call_us") or 0) * 1e3 or None, False,
         "time"),
    ],
    "create_enum_handle": [("create+destroy", lambda b: b["ns"], False, "time")],
    "enum_page": [("per page", lambda b: b.get("page_ns"), False, "time")],
    "enumerate_all": [("whole table", lambda b: b["ns"], False, "time")],
    "mixed": [
        ("writer open+close/s", lambda b: b.get("writer_ops"), True, "rate"),
        ("reader entries/s", lambda b: b.get("reader_entries"), True, "rate"),
        ("peak RSS (process)", lambda b: (b.get("peak_rss_MiB") or 0) * 1048576 or None, False,
         "bytes"),
    ],
    "memory": [
        ("bytes/session", lambda b: b.get("bytes_per_session"), False, "bytes"),
        ("bytes/live snapshot", lambda b: b.get("bytes_per_snapshot"), False, "bytes"),
    ],
}


def parse_name(name):
    """'mixed/fwpm/readers:1/writers:1/iterations:1/real_time/threads:2' ->
    ('mixed', 'fwpm', 'readers:1/writers:1')"""
    parts = [p for p in name.split("/") if not DROP.match(p)]
    family, impl, args = parts[0], parts[1], parts[2:]
    if family == "mixed":
        args = [a for a in args if not a.startswith("threads:")]
    return family, impl, "/".join(args)


ROUND = re.compile(r"\.r(\d+)$")


def round_of(path):
    """'out/fwpm.r2.json' -> 2 (run.sh --rounds names each round's file so);
    None for a file of no round."""
    m = ROUND.search(os.path.splitext(os.path.basename(path))[0])
    return int(m.group(1)) if m else None


def merged(bs):
    """One benchmark's entries -> one entry, each number the median of theirs."""
    b = dict(bs[0])
    if len(bs) > 1:
        for k, v in b.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                b[k] = statistics.median(x[k] for x in bs if k in x)
    return b


def load(paths):
    """-> (machine context, {(family, impl, args): entry}, {(family, impl, args):
    [(round, entry)...]}); the last holds only benchmarks seen in 2+ rounds."""
    ctx, benchmarks, loads = {}, [], []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for k, v in data.get("context", {}).items():
            ctx.setdefault(k, v)  # the first file's machine and date
        load1 = data.get("context", {}).get("load_avg", [None])[0]
        if load1 is not None:
            loads.append(f"{os.path.splitext(os.path.basename(path))[0]} {load1:.2f}")
        for b in data["benchmarks"]:
            b["round"] = round_of(path)
        benchmarks += data["benchmarks"]
    runs = {}
    have_aggregates = any(b.get("run_type") == "aggregate" for b in benchmarks)
    for b in benchmarks:
        if have_aggregates and b.get("aggregate_name") not in (None, "median"):
            continue
        if have_aggregates and b.get("run_type") != "aggregate" and b.get("repetitions", 1) > 1:
            continue
        name = b.get("run_name", b["name"])
        b["ns"] = b["real_time"] * TO_NS[b.get("time_unit", "ns")]
        runs.setdefault(name, []).append(b)
    results, rounds = {}, {}
    for name, bs in runs.items():
        results[parse_name(name)] = merged(bs)  # over rounds and repetitions
        by_round = {}
        for b in bs:
            if b["round"] is not None:
                by_round.setdefault(b["round"], []).append(b)
        if len(by_round) > 1:
            rounds[parse_name(name)] = [(r, merged(by_round[r])) for r in sorted(by_round)]
    ctx["loads"] = loads
    return ctx, results, rounds


def si(v, unit):
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.3g} {prefix}{unit}"
    return f"{v:.3g} {unit}"


def fmt(v, kind):
    if v is None:
        return "–"
    if kind == "time":
        for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
            if v >= scale:
                return f"{v / scale:.3g} {unit}"
        return f"{v:.3g} ns"
    if kind == "rate":
        return si(v, "/s")
    if kind == "bytes":
        for scale, unit in ((1 << 20, "MiB"), (1 << 10, "KiB")):
            if abs(v) >= scale:
                return f"{v / scale:.3g} {unit}"
        return f"{v:.0f} B"
    return f"{v:.3g}"


def ratio(fwpm, peer, higher):
    if not fwpm or not peer or fwpm <= 0 or peer <= 0:
        return None
    return fwpm / peer if higher else peer / fwpm


def fmt_ratio(r):
    if r is None:
        return "–"
    text = f"{r:,.0f}×" if r >= 1000 else f"{r:.3g}×"
    return f"**{text}**" if r >= 1 else text


def arg_key(args):
    """Sort args naturally: numbers as numbers, INFINITE last."""
    key = []
    for part in args.split("/"):
        v = part.split(":", 1)[-1]
        if re.fullmatch(r"\d+(\.\d+)?", v):
            key.append((0, float(v), ""))
        else:  # INFINITE after every number; "unchanged" before "changed"
            key.append((1, math.inf if v == "INFINITE" else 0, v.replace("unchanged", " ")))
    return key


def machine(ctx):
    caches = ", ".join(
        f"L{c['level']} {c['type'].lower()} {c['size'] // 1024} KiB" + (f" ×{c['num_sharing']}" if c.get("num_sharing", 0) > 1 else "")
        for c in ctx.get("caches", []))
    rows = [
        ("CPU", f"{ctx.get('fwpm_bench_cpu', '?')}, {ctx.get('num_cpus', '?')} cores at "
                f"{ctx.get('mhz_per_cpu', '?')} MHz"),
        ("caches", caches or "not reported (virtual machine)"),
        ("memory", ctx.get("fwpm_bench_memory", "?")),
        ("kernel", ctx.get("fwpm_bench_kernel", "?")),
        ("compiler / build", f"{ctx.get('compiler', '?')}, CMAKE_BUILD_TYPE={ctx.get('build_type', '?')}"),
        ("fwpm commit", ctx.get("commit", "?")),
        ("date", ctx.get("date", "?")),
        ("mode", f"{ctx.get('fwpm_bench_mode', '?')} (mixed runs {ctx.get('fwpm_bench_mixed_seconds', '?')} s each)"),
        ("1-minute load average as each run started", ", ".join(ctx.get("loads", [])) or "?"),
    ]
    return "\n".join(["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


def ratio_table(results):
    impls = [i for i in IMPLS if any(k[1] == i for k in results)]
    peers = [i for i in impls if i != "fwpm"]
    head = ["benchmark", "metric"] + impls + [f"fwpm vs {p}" for p in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for family in FAMILIES:
        argsets = sorted({k[2] for k in results if k[0] == family and k[1] in impls}, key=arg_key)
        for args in argsets:
            for label, get, higher, kind in METRICS[family]:
                vals = {}
                for i in impls:
                    b = results.get((family, i, args))
                    vals[i] = get(b) if b and not b.get("error_occurred") else None
                if not any(vals.values()):
                    continue  # e.g. writer rate of a readers-only split
                row = [f"`{family}/{args}`" if args else f"`{family}`", label]
                row += [fmt(vals[i], kind) for i in impls]
                row += [fmt_ratio(ratio(vals.get("fwpm"), vals[p], higher)) for p in peers]
                lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def page_table(results):
    """Each engine's page against malloc + memcpy of as many pointers. The
    ratio is against the floor its own run measured between its drains
    (floor_ns, vs_floor: the same process, milliseconds apart), so that it
    holds whatever speed the machine ran at; the memcpy columns are the
    separate baseline runs, for reference."""
    impls = [i for i in IMPLS if any(k[0] == "enum_page" and k[1] == i for k in results)]
    sizes = sorted({k[2] for k in results if k[0] == "enum_page"}, key=arg_key)
    if not sizes:
        return ""
    head = ["page size", "memcpy + malloc (own run)", "memcpy only (own run)"] + \
           [f"{i} (÷ floor in its run)" for i in impls]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in sizes:
        get = lambda impl, key="page_ns": (results.get(("enum_page", impl, s)) or {}).get(key)
        row = [s.split(":", 1)[-1], fmt(get("memcpy"), "time"), fmt(get("memcpy_noalloc"), "time")]
        for i in impls:
            v, floor = get(i), get(i, "floor_ns")
            row.append(f"{fmt(v, 'time')} ({v / floor:.2g}× {fmt(floor, 'time')})"
                       if v and floor else fmt(v, "time"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


# ---- the cached-vector design: fwpm against snapcache ---------------------------

def n_of(args):
    m = re.match(r"n:(\d+)", args)
    return int(m.group(1)) if m else None


def verdict(ok):
    return "**pass**" if ok else "**fail**"


def cached_vector(results):
    """fwpm against snapcache (the cached-vector design) and the goals."""
    if not any(k[1] == "snapcache" for k in results) or not any(k[1] == "fwpm" for k in results):
        return ""
    def get(family, impl, args):
        b = results.get((family, impl, args))
        return b if b and not b.get("error_occurred") else None

    def ns(family, impl, args):
        return (get(family, impl, args) or {}).get("ns")

    out, goals = [], []

    ns_all = sorted({n_of(k[2]) for k in results if k[0] == "create_enum_handle"} - {None})
    out += ["### Handle creation (create + destroy)", "",
            "| N | fwpm unchanged | fwpm after a change | snapcache unchanged | snapcache after a change | snapcache ÷ fwpm after a change |",
            "|---|---|---|---|---|---|"]
    for n in ns_all:
        v = [ns("create_enum_handle", i, f"n:{n}/{st}") for i in ("fwpm", "snapcache")
             for st in ("unchanged", "changed")]
        out.append(f"| {n:,} | " + " | ".join(fmt(x, "time") for x in v) +
                   f" | {fmt_ratio(ratio(v[1], v[3], False))} |")
    big = ns_all[-1] if ns_all else None
    after, base = ns("create_enum_handle", "fwpm", f"n:{big}/changed"), \
        ns("create_enum_handle", "fwpm", "n:1000/unchanged")
    if after and base:
        goals.append((f"handle right after a change at N = {big:,} ≤ 3× a handle on an "
                      "unchanged table of 1,000", f"{fmt(after, 'time')} ÷ {fmt(base, 'time')} = "
                      f"{after / base:.2f}×", verdict(after <= 3 * base)))

    ns_enum = sorted({n_of(k[2]) for k in results if k[0] == "enumerate_all"} - {None})
    out += ["", "### Full enumeration, per entry (create, 1000 a page, destroy)", "",
            "| N | memcpy of N pointers | memcpy 1000 a page (+ malloc) | fwpm | fwpm ÷ memcpy | snapcache | snapcache ÷ memcpy |",
            "|---|---|---|---|---|---|---|"]
    for n in ns_enum:
        per = {i: (ns("enumerate_all", i, f"n:{n}") or 0) / n or None
               for i in ("memcpy", "memcpy_paged", "fwpm", "snapcache")}
        r = {i: per[i] / per["memcpy"] if per[i] and per["memcpy"] else None
             for i in ("fwpm", "snapcache")}
        xr = {i: "–" if r[i] is None else f"{r[i]:.2f}×" for i in r}
        out.append(f"| {n:,} | {fmt(per['memcpy'], 'time')} | {fmt(per['memcpy_paged'], 'time')} | "
                   f"{fmt(per['fwpm'], 'time')} | {xr['fwpm']} | {fmt(per['snapcache'], 'time')} | "
                   f"{xr['snapcache']} |")
        if r["fwpm"] is not None:
            goals.append((f"full enumeration at N = {n:,} ≤ 3× memcpy, per entry",
                          f"{fmt(per['fwpm'], 'time')} vs {fmt(per['memcpy'], 'time')}: "
                          f"{r['fwpm']:.2f}×", verdict(r["fwpm"] <= 3)))

    oc = [(get("open_close", i, "threads:1") or {}).get("items_per_second")
          for i in ("fwpm", "snapcache")]
    if all(oc):
        goals.append(("single-thread open+close ≥ 0.8× the previous design's",
                      f"{fmt(oc[0], 'rate')} vs {fmt(oc[1], 'rate')}: {oc[0] / oc[1]:.2f}×",
                      verdict(oc[0] >= 0.8 * oc[1])))

    splits = sorted({k[2] for k in results if k[0] == "mixed"}, key=arg_key)
    if splits:
        out += ["", "### Readers and writers at N = 100k (mixed)", "",
                "peak RSS: the process's VmHWM, reset as each run starts (it includes the "
                "table and what earlier benchmarks left); growth: VmHWM minus the RSS at the start.",
                "",
                "| split | writer open+close/s fwpm | snapcache | reader entries/s fwpm | snapcache | peak RSS fwpm | snapcache | growth fwpm | snapcache |",
                "|---|---|---|---|---|---|---|---|---|"]
        for sp in splits:
            b = [get("mixed", i, sp) or {} for i in ("fwpm", "snapcache")]
            row = [sp.replace("readers:", "R").replace("/writers:", " W")]
            for key, kind, scale in (("writer_ops", "rate", 1), ("reader_entries", "rate", 1),
                                     ("peak_rss_MiB", "bytes", 1048576),
                                     ("rss_growth_MiB", "bytes", 1048576)):
                for x in b:
                    v = x.get(key)
                    row.append("–" if v is None or (v == 0 and kind == "rate") else
                               fmt(v * scale, kind))
            out.append("| " + " | ".join(row) + " |")

    head = ["## The cached-vector design: fwpm against snapcache", "",
            "`snapcache` is the cached-vector design the persistent vector replaced: a snapshot vector cached while "
            "nothing changes and copied again (under the writers' mutex) by the first handle "
            "after a change. See bench/README.md.", ""]
    if goals:
        head += ["| goal | measured | |", "|---|---|---|"] + \
                [f"| {g} | {m} | {v} |" for g, m, v in goals] + [""]
    return "\n".join(head + out + [""])


# ---- plots -------------------------------------------------------------------

STYLE = {"fwpm": ("C0", "o"), "mutex": ("C1", "s"), "rwlock": ("C2", "^"), "urcu": ("C3", "D"),
         "snapcache": ("C4", "v"), "memcpy": ("0.4", "x"), "memcpy_noalloc": ("0.7", "+")}


def series(results, family, impl, xkey, yget, match=lambda a: True):
    pts = []
    for (f, i, args), b in results.items():
        if f != family or i != impl or not match(args) or b.get("error_occurred"):
            continue
        kv = dict(p.split(":", 1) for p in args.split("/") if ":" in p)
        x = kv.get(xkey)
        y = yget(b)
        if x is None or not y:
            continue
        pts.append((1e5 if x == "INFINITE" else float(x), y))
    return sorted(pts)


def plots(results, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: no matplotlib (apt-get install python3-matplotlib); skipping plots",
              file=sys.stderr)
        return []
    made = []

    def save(fig, name):
        axes = fig.get_axes()
        if not any(ax.get_legend_handles_labels()[0] for ax in axes):
            plt.close(fig)  # nothing of this kind in the results
            return
        for ax in axes:
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, name), dpi=110)
        plt.close(fig)
        made.append(name)

    # Throughput against threads.
    fig, ax = plt.subplots(figsize=(6, 4))
    for impl in IMPLS:
        pts = series(results, "open_close", impl, "threads", lambda b: b.get("items_per_second"))
        if pts:
            c, m = STYLE[impl]
            ax.plot(*zip(*pts), marker=m, color=c, label=impl)
    ax.set(xscale="log", yscale="log", xlabel="threads", ylabel="open+close pairs / s",
           title="open_close: throughput against threads")
    ax.set_xticks([p for p in (1, 2, 4, 8, 16) if any(
        k[0] == "open_close" and k[2] == f"threads:{p}" for k in results)])
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    save(fig, "open_close.png")

    # Cost against N, log axes.
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for impl in IMPLS:
        c, m = STYLE[impl]
        for state, ls in (("unchanged", "-"), ("changed", "--")):
            pts = series(results, "create_enum_handle", impl, "n", lambda b: b["ns"],
                         lambda a, s=state: a.endswith("/" + s))
            if pts:
                axes[0].plot(*zip(*pts), marker=m, color=c, ls=ls, label=f"{impl} ({state})")
        pts = series(results, "enumerate_all", impl, "n", lambda b: b["ns"])
        if pts:
            axes[1].plot(*zip(*pts), marker=m, color=c, label=impl)
    pts = series(results, "enumerate_all", "memcpy", "n", lambda b: b["ns"])
    if pts:
        c, m = STYLE["memcpy"]
        axes[1].plot(*zip(*pts), marker=m, color=c, ls=":", label="memcpy of N pointers")
    axes[0].set(title="create_enum_handle: create + destroy", ylabel="ns")
    axes[1].set(title="enumerate_all: create + page through + destroy", ylabel="ns")
    for ax in axes:
        ax.set(xscale="log", yscale="log", xlabel="sessions in the table (N)")
        ax.grid(True, which="both", alpha=0.3)
    save(fig, "cost_vs_n.png")

    # Page cost against page size, with the memcpy floor.
    fig, ax = plt.subplots(figsize=(6, 4))
    for impl in IMPLS + BASELINES:
        pts = series(results, "enum_page", impl, "size", lambda b: b.get("page_ns"))
        if pts:
            c, m = STYLE[impl]
            ax.plot(*zip(*pts), marker=m, color=c, label=impl,
                    ls=":" if impl in BASELINES else "-")
    ax.set(xscale="log", yscale="log", xlabel="entries per page (INFINITE = all 100k)",
           ylabel="ns per page (Enum + FreeMemory)", title="enum_page at N = 100k")
    ax.grid(True, which="both", alpha=0.3)
    save(fig, "enum_page.png")

    # Mixed: both sides' throughput per reader/writer split.
    splits = sorted({k[2] for k in results if k[0] == "mixed"}, key=arg_key)
    if splits:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        width = 0.8 / len(IMPLS)
        for j, impl in enumerate(IMPLS):
            for ax, key in zip(axes, ("writer_ops", "reader_entries")):
                ys = [(results.get(("mixed", impl, s)) or {}).get(key) or 0 for s in splits]
                xs = [i + (j - len(IMPLS) / 2 + 0.5) * width for i in range(len(splits))]
                if any(ys):
                    ax.bar(xs, ys, width, color=STYLE[impl][0], label=impl)
        labels = [s.replace("readers:", "R").replace("/writers:", " W") for s in splits]
        for ax, t in zip(axes, ("writers: open+close pairs / s", "readers: entries / s")):
            ax.set_xticks(range(len(splits)))
            ax.set_xticklabels(labels)
            ax.set(yscale="log", title=f"mixed at N = 100k — {t}", xlabel="readers R, writers W")
            ax.grid(True, axis="y", which="both", alpha=0.3)
        save(fig, "mixed.png")
    return made


def cpu_rate(b):
    """Entries per second of the process's own CPU time (the host engine's
    wall time also waits for the daemon and, on a loaded machine, the run queue)."""
    m, cpu = re.search(r"n:(\d+)", b["name"]), b.get("cpu_time")
    if not m or not cpu:
        return None
    return int(m.group(1)) / (cpu * TO_NS[b.get("time_unit", "ns")] * 1e-9)


def nlabel(args):
    m = re.search(r"n:\d+", args)
    return m.group(0) if m else args


def boundary_table(results):
    """The host engine (fwpmd) against the in-process engine of the same run
    (`--fwpm_impls=host`): each pair of rows that differ only in the impl, or
    in N for the largest table each engine reaches; ratios host / in-process."""
    def get(impl, prefix):
        keys = sorted((k for k in results if k[0] == "boundary" and k[1] == impl
                       and k[2].startswith(prefix)), key=lambda k: n_of(k[2]) or 0)
        return [(k[2], results[k]) for k in keys if not results[k].get("error_occurred")]
    rows = []
    for t in (1, 4, 32):
        rows.append((f"open+close, {t} client thread{'s' if t > 1 else ''} (each its own session)",
                     get("fwpm", f"open_close/threads:{t}"), get("host", f"open_close/threads:{t}"),
                     "rate", lambda b: b.get("items_per_second")))
    for t in (1, 8, 64):
        rows.append((f"create+destroy enum handle, {t} client thread{'s' if t > 1 else ''} (each its own session)",
                     get("fwpm", f"threads_create_enum/threads:{t}"),
                     get("host", f"threads_create_enum/threads:{t}"),
                     "rate", lambda b: b.get("items_per_second")))
    fc, hc = get("fwpm", "create_enum/"), get("host", "create_enum/")
    for i, what in enumerate(("create+destroy enum handle, small N", "create+destroy enum handle, large N")):
        rows.append((what, fc[i:i + 1], hc[i:i + 1], "time", lambda b: b["ns"]))
    rows.append(("full enumeration, entries/s (host: sessions of ten other processes)",
                 get("fwpm", "enumerate/"), get("host", "enumerate/"), "rate",
                 lambda b: b.get("items_per_second")))
    rows.append(("full enumeration, entries per CPU second of the enumerating process",
                 get("fwpm", "enumerate/"), get("host", "enumerate/"), "rate", cpu_rate))
    if not any(f or h for _, f, h, _, _ in rows):
        return ""
    out = ["## Crossing the process boundary (host engine against in-process, one run)", "",
           "| | in-process | host engine | host ÷ in-process |", "|---|---|---|---|"]
    for what, f, h, kind, val in rows:
        fv = val(f[0][1]) if f else None
        hv = val(h[0][1]) if h else None
        fn = f" ({nlabel(f[0][0])})" if f and "n:" in f[0][0] else ""
        hn = f" ({nlabel(h[0][0])})" if h and "n:" in h[0][0] else ""
        r = f"{hv / fv:.3g}×" if fv and hv else "–"
        out.append(f"| {what} | {fmt(fv, kind) if fv else '–'}{fn} | {fmt(hv, kind) if hv else '–'}{hn} | {r} |")
    if len(hc) >= 2:
        out += ["", f"Host handle creation, {nlabel(hc[-1][0])} against {nlabel(hc[0][0])}: "
                f"{hc[-1][1]['ns'] / hc[0][1]['ns']:.2f}× (must stay within 2×: O(1))."]
    return "\n".join(out + [""])


def spread(values):
    """The largest of a row's values over its smallest, or None."""
    values = [v for v in values if v]
    return max(values) / min(values) if len(values) > 1 and min(values) > 0 else None


def rounds_table(rounds):
    """Each engine's value round by round, and the largest over the smallest:
    the shift a median of rounds hides."""
    if not rounds:
        return ""
    impls = [i for i in IMPLS if any(k[1] == i for k in rounds)]
    head = ["benchmark", "metric"] + [f"{i} by round (spread)" for i in impls]
    lines = [
        "## Round by round",
        "",
        "Each engine's value in rounds 1, 2, … (each engine in its own process each round), "
        "and in brackets its largest over its smallest. The tables above take the median; "
        "a spread well above that of the other rows marks a row the machine moved between "
        "rounds.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for family in FAMILIES:
        argsets = sorted({k[2] for k in rounds if k[0] == family}, key=arg_key)
        for args in argsets:
            for label, get, higher, kind in METRICS[family]:
                cells, any_value = [], False
                for i in impls:
                    entries = rounds.get((family, i, args), [])
                    values = [get(b) if not b.get("error_occurred") else None for _, b in entries]
                    any_value = any_value or any(values)
                    text = " / ".join(fmt(v, kind) for v in values) or "–"
                    s = spread(values)
                    cells.append(text + (f" ({s:.2f}×)" if s else ""))
                if any_value:
                    name = f"`{family}/{args}`" if args else f"`{family}`"
                    lines.append("| " + " | ".join([name, label] + cells) + " |")
    return "\n".join(lines + [""])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+")
    ap.add_argument("--out", help="output directory (default: the JSON's directory)")
    a = ap.parse_args()
    outdir = a.out or os.path.dirname(os.path.abspath(a.json[0]))
    os.makedirs(outdir, exist_ok=True)
    ctx, results, rounds = load(a.json)
    made = plots(results, outdir)
    md = [
        "# fwpm-bench results",
        "",
        f"From {', '.join(f'`{os.path.basename(p)}`' for p in a.json)}. Ratios read *fwpm is N× better*: peer ÷ fwpm for "
        "times and bytes, fwpm ÷ peer for rates; **bold** where fwpm wins. The `urcu` peer's "
        "snapshots are only weakly consistent (see bench/README.md).",
        "",
        "## Machine",
        "",
        machine(ctx),
        "",
        "## fwpm against each peer",
        "",
        ratio_table(results),
        "",
        "## A page against memcpy (N = 100k, ns per page; each engine's ratio is to the "
        "malloc + memcpy floor measured in its own run)",
        "",
        page_table(results),
        "",
        cached_vector(results),
        boundary_table(results),
        rounds_table(rounds),
    ]
    if made:
        md += ["## Plots", ""] + [f"![{m}]({m})" for m in made] + [""]
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(md))
    print(os.path.join(outdir, "report.md"))


if __name__ == "__main__":
    main()
