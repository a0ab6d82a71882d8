"""Metric cost over one validation epoch: ours (confusion-matrix counts, torch AUC, preallocated storage) against fastai's and torchmetrics'."""
import warnings
from types import SimpleNamespace
import torch
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")
ours = try_import("mylib.metrics")
fastai = try_import("fastai.metrics")
fastai_core = try_import("fastai.torch_core")
tm = try_import("torchmetrics.classification")

N, C, BS = 10_000, 10, 64  # validation items, classes (or labels), batch size
SEG_N, SEG_C, SEG_HW, SEG_BS = 160, 3, 128, 8  # segmentation: images, classes, side, batch size

def batches(preds, targs, bs):
    return [(preds[i:i + bs], targs[i:i + bs]) for i in range(0, len(preds), bs)]

def our_epoch(m, bs_list, n):
    "A validation epoch as our Recorder runs it: reset, accumulate each batch, read the value"
    learn = SimpleNamespace(training=False, dl=SimpleNamespace(n=n))
    m.reset()
    for p, t in bs_list:
        learn.pred, learn.yb = p, (t,)
        m.accumulate(learn)
    return m.value

def fastai_epoch(m, bs_list, n):
    "The same for fastai's metrics, which read `learn.y` and detach through `learn.to_detach`"
    learn = SimpleNamespace(training=False, to_detach=fastai_core.to_detach)
    m.reset()
    for p, t in bs_list:
        learn.pred, learn.y, learn.yb = p, t, (t,)
        m.accumulate(learn)
    return m.value

def tm_epoch(m, bs_list, n):
    "torchmetrics: reset, update per batch, compute"
    m.reset()
    for p, t in bs_list: m.update(p, t)
    return float(m.compute())

def case(title, bs_list, n, impls):
    "Rows for one metric: time per validation epoch of each available implementation, its value in the note"
    fns = {k: (lambda f=f, m=m: f(m, bs_list, n)) for k, (f, m) in impls.items() if m is not None}
    times = timeit_many(fns, warmup=2, repeats=7, number=1)
    vals = {k: fn() for k, fn in fns.items()}
    return [(title, k, times.get(k), "epoch", f"value {vals[k]:.4f}" if k in vals else "") for k in impls]

def opt(mod, name, *args, **kwargs): return getattr(mod, name)(*args, **kwargs) if mod else None

if __name__ == "__main__":
    g = torch.Generator().manual_seed(0)
    logits, targs = torch.randn(N, C, generator=g), torch.randint(0, C, (N,), generator=g)
    ml_logits, ml_targs = torch.randn(N, C, generator=g), torch.randint(0, 2, (N, C), generator=g)
    seg, masks = torch.randn(SEG_N, SEG_C, SEG_HW, SEG_HW, generator=g), torch.randint(0, SEG_C, (SEG_N, SEG_HW, SEG_HW), generator=g)
    sc, ml, sg = batches(logits, targs, BS), batches(ml_logits, ml_targs, BS), batches(seg, masks, SEG_BS)
    rows = []
    rows += case(f"F1 macro, {C} classes, {N} items", sc, N, {
        "mylib": (our_epoch, opt(ours, "F1Score", average="macro")),
        "fastai": (fastai_epoch, opt(fastai, "F1Score", average="macro")),
        "torchmetrics": (tm_epoch, opt(tm, "MulticlassF1Score", num_classes=C, average="macro"))})
    rows += case(f"ROC AUC one-vs-rest, {C} classes, {N} items", sc, N, {
        "mylib": (our_epoch, opt(ours, "RocAuc")),
        "fastai": (fastai_epoch, opt(fastai, "RocAuc")),
        "torchmetrics": (tm_epoch, opt(tm, "MulticlassAUROC", num_classes=C, thresholds=None))})
    rows += case(f"multi-label F1 macro, {C} labels, {N} items", ml, N, {
        "mylib": (our_epoch, opt(ours, "F1ScoreMulti")),
        "fastai": (fastai_epoch, opt(fastai, "F1ScoreMulti")),
        "torchmetrics": (tm_epoch, opt(tm, "MultilabelF1Score", num_labels=C))})
    rows += case(f"Dice per class (DiceMulti), {SEG_N} images {SEG_C}x{SEG_HW}x{SEG_HW}", sg, SEG_N, {
        "mylib": (our_epoch, opt(ours, "DiceMulti")),
        "fastai": (fastai_epoch, opt(fastai, "DiceMulti"))})
    report("Metrics: time per validation epoch (reset, every batch, value)", rows, ours="mylib")
