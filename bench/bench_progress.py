"""Cost of a progress-bar update in a terminal: our TerminalOutput against fastprogress (fastai's bar) and tqdm."""
import contextlib, io
from _util import report, timeit_many, try_import

progress = try_import("mylib.callback.progress")
fastprogress = try_import("fastprogress.fastprogress")
tqdm = try_import("tqdm")

TOTAL = 10**7  # steps of the bar: never reached, so every bar stays in its throttled middle

class NullTTY(io.TextIOBase):
    "A terminal that shows nothing: `isatty` is True and writes are dropped"
    def isatty(self): return True
    def writable(self): return True
    def write(self, s): return len(s)

def counter(update):
    "A function calling `update(i)` with i = 1, 2, 3, ..."
    state = {"i": 0}
    def step():
        state["i"] += 1
        update(state["i"])
    return step

def ours():
    out = progress.TerminalOutput(file=NullTTY())  # redraws at most every 0.1 s
    out.start_bar(TOTAL, "epoch 0 train")
    return counter(out.bar)

def fastprogress_bar():
    "fastprogress prints to `sys.stdout` (console mode outside a notebook), which is a `NullTTY` while timing"
    pb = fastprogress.progress_bar(range(TOTAL))
    pb.update(0)
    return counter(pb.update)

def tqdm_bar():
    pb = tqdm.tqdm(total=TOTAL, file=NullTTY(), mininterval=0.1)
    return counter(lambda i: pb.update(1))

if __name__ == "__main__":
    fns = {}
    if progress: fns["mylib"] = ours()
    if tqdm: fns["tqdm"] = tqdm_bar()
    with contextlib.redirect_stdout(NullTTY()):
        if fastprogress: fns["fastprogress"] = fastprogress_bar()
        times = timeit_many(fns, warmup=1000, repeats=7, number=20_000)
    case = "one update of a terminal bar (throttled redraw, output dropped)"
    rows = [(case, k, times[k], "update") for k in fns]
    report("Progress bar: cost per update", rows, ours="mylib")
