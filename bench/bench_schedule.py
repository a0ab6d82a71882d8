"""Scheduler cost per training batch: a one-cycle schedule setting `lr` and `mom` of two parameter groups, against torch's `OneCycleLR` and fastai's `ParamScheduler`."""
import re, warnings
from types import SimpleNamespace
import numpy as np
import torch
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore", category=FutureWarning)  # fastai's imports warn about torch.jit
fastai_sched = try_import("fastai.callback.schedule")  # slow import: once, up front
fastai_opt = try_import("fastai.optimizer")
mylib_sched = try_import("mylib.callback.schedule")
mylib_opt = try_import("mylib.optimizer")

N = 10**6  # steps in the schedule: more than the benchmark takes
LR_MAX, DIV, DIV_FINAL, PCT = np.array([1e-4, 1e-3]), 25., 1e5, 0.25

def groups():
    "Two parameter groups, a body and a head (their size does not matter here)"
    torch.manual_seed(0)
    return [[torch.randn(64, 32, requires_grad=True), torch.randn(64, requires_grad=True)], [torch.randn(1, 64, requires_grad=True)]]

class Progress:
    "A stand-in learner: the training progress a scheduler reads, moving on one batch per call"
    def __init__(self, opt): self.opt, self.i, self.training, self.n_iter, self.n_epoch = opt, 0, True, N, 1
    @property
    def pct_train(self): return self.i / N

def ours():
    "Our `ParamScheduler`, with the schedules `fit_one_cycle` builds, on our Adam"
    if mylib_sched is None: return None
    s = mylib_sched
    pcts = [PCT, 1 - PCT]
    cb = s.ParamScheduler({"lr": s.combine_scheds(pcts, [s.SchedCos(LR_MAX / DIV, LR_MAX), s.SchedCos(LR_MAX, LR_MAX / DIV_FINAL)]),
                           "mom": s.combine_scheds(pcts, [s.SchedCos(0.95, 0.85), s.SchedCos(0.85, 0.95)])})
    cb.learn = learn = Progress(mylib_opt.Adam(groups(), lr=1e-3))
    def batch(): cb("before_batch"); learn.i += 1
    return batch

def fastai():
    "fastai's `ParamScheduler` with the schedules of its `fit_one_cycle`, on its Adam"
    if fastai_sched is None: return None
    s = fastai_sched
    cb = s.ParamScheduler({"lr": s.combined_cos(PCT, LR_MAX / DIV, LR_MAX, LR_MAX / DIV_FINAL), "mom": s.combined_cos(PCT, 0.95, 0.85, 0.95)})
    cb.learn = learn = Progress(fastai_opt.Adam(groups(), lr=1e-3))
    def batch(): cb("before_batch"); learn.i += 1
    return batch

def torch_one_cycle():
    "torch's `OneCycleLR` on AdamW: `step()` once per batch"
    opt = torch.optim.AdamW([{"params": g} for g in groups()], lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, LR_MAX.tolist(), total_steps=N, pct_start=PCT, div_factor=DIV,
                                                final_div_factor=DIV_FINAL / DIV, base_momentum=0.85, max_momentum=0.95)
    warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()` before `optimizer.step()`"))
    return sched.step

if __name__ == "__main__":
    impls = {"mylib": ours(), "torch OneCycleLR": torch_one_cycle(), "fastai": fastai()}
    ok = {k: f for k, f in impls.items() if f is not None}
    times = timeit_many(ok, warmup=200, repeats=7, number=2000)
    case = "one-cycle lr and mom, 2 groups"
    notes = {"torch OneCycleLR": "goal: ratio >= 0.5 (within 2x; a few µs either way, nothing against a batch)", "fastai": "goal: ratio > 1"}
    report("Scheduler cost per training batch", [(case, k, times.get(k), "batch", notes.get(k, "")) for k in impls], ours="mylib")
