"""The cost of checkpointing: training the small CNN of `bench_learner.py` for 300 steps with `Checkpoint(every=100)` against without it."""
import statistics, tempfile, time
from pathlib import Path
import torch
from torch import nn
from _util import report, timeit_many, try_import

mylib_learner = try_import("mylib.learner")
mylib_load = try_import("mylib.data.load")
mylib_core = try_import("mylib.data.core")
mylib_ckpt = try_import("mylib.callback.checkpoint")
mylib_progress = try_import("mylib.callback.progress")  # adds `Learner.no_bar`

N_IMG, BS, EPOCHS, EVERY = 2560, 128, 15, 100  # 20 batches an epoch: 300 steps, a checkpoint every 100

def conv(ni, nf): return [nn.Conv2d(ni, nf, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(nf), nn.ReLU()]
def cnn(): return nn.Sequential(*conv(3, 16), *conv(16, 32), *conv(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def learner(x, y, path):
    "Our Learner on the in-memory images (shuffled, seeded), Adam, default callbacks, nothing logged"
    dls = mylib_core.DataLoaders(mylib_load.DataLoader((x, y), bs=BS, shuffle=True, seed=0), mylib_load.DataLoader((x[:1], y[:1]), bs=BS))
    learn = mylib_learner.Learner(dls, cnn(), loss_func=nn.CrossEntropyLoss(), lr=1e-3, path=path)
    learn.logger = lambda *a: None
    return learn

def timed(cls):
    "A subclass of callback class `cls` that adds up the time spent in its events"
    def wrap(f):
        def timed_event(self):
            t0 = time.perf_counter()
            try: return f(self)
            finally: self.spent += time.perf_counter() - t0
        return timed_event
    events = {e: wrap(getattr(cls, e)) for e in ('before_fit', 'before_epoch', 'before_train', 'after_batch', 'after_train', 'after_epoch', 'after_fit')
              if hasattr(cls, e)}
    return type(f'Timed{cls.__name__}', (cls,), {'spent': 0., **events})

def fit(x, y, path, cbs=None):
    learn = learner(x, y, path)
    with learn.no_bar(): learn.fit(EPOCHS, cbs=cbs)
    return learn

if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.randn(N_IMG, 3, 32, 32), torch.randint(0, 10, (N_IMG,))
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name)
    Ckpt,TimedCkpt = mylib_ckpt.Checkpoint,timed(mylib_ckpt.Checkpoint)
    shares,files = [],[]
    def ours():
        "Checkpoint every 100 steps, noting the share of the fit spent in the callback (a figure other processes disturb little)"
        cb = TimedCkpt(every=EVERY, at_epoch_end=False)
        t0 = time.perf_counter()
        fit(x, y, path, cb)
        shares.append(cb.spent / (time.perf_counter() - t0 - cb.spent))
        files.append(cb.last_saved.stat().st_size)
    fns = {"no checkpoint": lambda: fit(x, y, path),
           "mylib": ours,
           "mylib, no fsync": lambda: fit(x, y, path, Ckpt(every=EVERY, at_epoch_end=False, sync=False)),
           "mylib, also every epoch end": lambda: fit(x, y, path, Ckpt(every=EVERY))}
    steps = EPOCHS * (N_IMG // BS)
    wall = timeit_many(fns, warmup=1, repeats=3, number=1)
    case = f"CNN 3 conv-BN-ReLU, {N_IMG:,} images of 32 px, bs {BS}, {steps} steps"
    notes = {"no checkpoint": "goal: mylib within 1.05x (ratio >= 0.95)",
             "mylib": f"Checkpoint(every={EVERY}): {steps // EVERY} saves of {files[-1] / 1024:.0f} KiB; time in the callback: "
                      f"{statistics.median(shares):.2%} of the rest of the fit",
             "mylib, also every epoch end": f"{steps // EVERY + EPOCHS} saves"}
    rows = [(case, k, t / steps, "step", notes.get(k, "")) for k,t in wall.items()]
    report("Checkpoint: overhead of saving every 100 steps", rows, ours="mylib")
    tmp.cleanup()
