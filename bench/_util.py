"""Shared helpers for the benchmarks: thread setup, timing, optional peers, and reporting."""
import importlib, json, os, statistics, sys, time
from pathlib import Path
import torch

THREADS = int(os.environ.get("MYLIB_BENCH_THREADS", 2))  # CPU threads for every benchmark; 2 matches the reference machine
torch.set_num_threads(THREADS)  # set explicitly so results are comparable across machines and runs
RESULTS = Path(__file__).parent/"results"  # git-ignored

def try_import(name):
    "Module `name`, or None when it (or its package) is not installed; other import errors propagate"
    try: return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and f"{name}.".startswith(f"{e.name}."): return None
        raise

def timeit_many(fns, warmup=10, repeats=7, number=100):
    "Median seconds per call of each fn in dict `fns`, timing them in turn within each repeat so load changes hit all alike"
    for fn in fns.values():
        for _ in range(warmup): fn()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k,fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(number): fn()
            times[k].append((time.perf_counter()-t0)/number)
    return {k: statistics.median(ts) for k,ts in times.items()}

def timeit(fn, warmup=10, repeats=7, number=100):
    "Median seconds per call of `fn()` over `repeats` timed loops of `number` calls, after `warmup` calls"
    return timeit_many({0: fn}, warmup, repeats, number)[0]

def fmt_time(s):
    "Seconds as a short human string (ns/µs/ms/s)"
    if s is None: return "not installed"
    for unit,scale in (("s",1),("ms",1e-3),("µs",1e-6)):
        if abs(s) >= scale: return f"{s/scale:.3g} {unit}"
    return f"{s/1e-9:.3g} ns"

def fmt_ratio(r): return "—" if r is None else f"{r:.2f}x"

def _ratio(peer, ours):
    "`peer/ours`, or None when either is missing or `ours` is not positive"
    if peer is None or ours is None or ours <= 0: return None
    return peer/ours

def _minus(a, b): return None if a is None or b is None else a-b

def _add_ratios(rows, ours, base):
    "Add `overhead` (time minus `base`'s time on the same case) and `ratio` (peer / `ours`) to each row"
    times = {(r["case"],r["impl"]): r["time"] for r in rows}
    for r in rows: r["overhead"] = _minus(r["time"], times.get((r["case"],base))) if base else r["time"]
    cost = {r["case"]: r["overhead"] for r in rows if r["impl"]==ours}
    for r in rows: r["ratio"] = None if r["impl"] in (ours, base) else _ratio(r["overhead"], cost.get(r["case"]))

def _cells(r, ours, base, notes):
    "One table row as strings"
    time = fmt_time(r["time"]) + ("" if r["time"] is None else f" / {r['unit']}")
    ratio = "ref" if r["impl"]==ours else "floor" if r["impl"]==base else fmt_ratio(r["ratio"])
    over = [fmt_time(r["overhead"]) if r["overhead"] is not None else ""] if base else []
    return [r["case"], r["impl"], time, *over, ratio] + ([r["note"]] if notes else [])

def report(title, rows, ours="mylib", base=None, name=None):
    "Print `rows` of (case, impl, seconds per unit or None, unit[, note]) as a markdown table; save them as JSON"
    rows = [dict(zip(("case","impl","time","unit","note"), (*r, "")[:5])) for r in rows]
    _add_ratios(rows, ours, base)
    what = f"overhead over {base}" if base else "time"
    print(f"\n## {title}\n\ntorch {torch.__version__}, threads: {torch.get_num_threads()}. "
          f"ratio = peer {what} / {ours} {what}: >1 means {ours} is faster.\n")
    notes = any(r["note"] for r in rows)
    cols = ["case", "implementation", "time"] + ([f"overhead over {base}"] if base else []) + [f"ratio vs {ours}"] + (["note"] if notes else [])
    print("| " + " | ".join(cols) + " |\n|" + "---|"*len(cols))
    for r in rows: print("| " + " | ".join(_cells(r, ours, base, notes)) + " |")
    RESULTS.mkdir(exist_ok=True)
    meta = dict(title=title, ours=ours, base=base, threads=torch.get_num_threads(), torch=torch.__version__)
    (RESULTS/f"{name or Path(sys.argv[0]).stem}.json").write_text(json.dumps(dict(**meta, rows=rows), indent=1))

def _proc_status(key):
    "A field of /proc/self/status, in bytes (Linux)"
    import re
    return int(re.search(rf'^{key}:\s+(\d+) kB', Path('/proc/self/status').read_text(), re.M).group(1)) * 1024

def extra_peak_memory(fn):
    "`fn()`'s result and the extra peak resident memory it took, in bytes (Linux; run it in a fresh process)"
    Path('/proc/self/clear_refs').write_text('5') # the peak resident size starts again from the current one
    before = _proc_status('VmRSS')
    res = fn()
    return res, _proc_status('VmHWM') - before
