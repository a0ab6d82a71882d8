"""DataLoader speed: an epoch of in-memory tensors, and the per-item cost of an item transform, against torch's and fastai's loaders."""
import warnings
from functools import partial
import torch
from torch.utils.data import Dataset, TensorDataset
from torch.utils.data import DataLoader as TorchDataLoader
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore", category=FutureWarning)  # fastai's imports warn about torch.jit
fastai_load = try_import("fastai.data.load")  # slow import: once, up front
mylib_load = try_import("mylib.data.load")
mylib_tfm = try_import("mylib.transform")

N, D, BS = 20_000, 32, 64  # rows, features per row, batch size
WORKERS = (0, 2)

def epoch(dl):
    "Run through one epoch of `dl`"
    for _ in dl: pass

def in_memory_loaders(x, y, nw):
    "Implementation name -> a shuffled loader over the in-memory tensors `x`, `y` with `nw` workers (None when not installed)"
    kw = dict(num_workers=nw, persistent_workers=nw > 0)  # persistent: the timed epochs measure loading, not process start-up
    return {"mylib": mylib_load.DataLoader((x, y), bs=BS, shuffle=True, **kw) if mylib_load else None,
            "torch": TorchDataLoader(TensorDataset(x, y), batch_size=BS, shuffle=True, **kw),
            "fastai": fastai_load.DataLoader(TensorDataset(x, y), bs=BS, shuffle=True, **kw) if fastai_load else None}

class Rows(Dataset):
    "The rows of `x` and `y` as `(features, target)` items, untransformed"
    def __init__(self, x, y): self.x,self.y = x,y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]

def standardize(item, mean, std):
    "The cheap per-item work: standardize the features, keep the target"
    x, y = item
    return (x - mean) / std, y

class NormedRows(Rows):
    "A plain torch dataset doing the per-item work `f` in `__getitem__`"
    def __init__(self, x, y, f): super().__init__(x, y); self.f = f
    def __getitem__(self, i): return self.f(super().__getitem__(i))

def make_standardize(mean, std):
    "The same work as a `mylib.transform.ItemTransform`"
    class Standardize(mylib_tfm.ItemTransform):
        def encodes(self, item): return standardize(item, mean, std)
    return Standardize()

def item_tfm_loaders(x, y, nw):
    "Implementation name -> a shuffled loader doing `standardize` on each item, with `nw` workers"
    mean, std = x.mean(0), x.std(0)
    fn = partial(standardize, mean=mean, std=std)
    tfm = make_standardize(mean, std) if mylib_tfm else None
    kw = dict(num_workers=nw, persistent_workers=nw > 0)
    return {"mylib": mylib_load.DataLoader(Rows(x, y), bs=BS, shuffle=True, after_item=tfm, **kw) if mylib_load and tfm else None,
            "torch": TorchDataLoader(NormedRows(x, y, fn), batch_size=BS, shuffle=True, **kw),
            "torch, Dataset calls our Transform": TorchDataLoader(NormedRows(x, y, tfm), batch_size=BS, shuffle=True, **kw) if tfm else None,
            "fastai": fastai_load.DataLoader(Rows(x, y), bs=BS, shuffle=True, after_item=fn, **kw) if fastai_load else None}

def rows_for(case, loaders, per, goal):
    "Rows of median seconds per epoch (or per item, `per`='item') of each loader in `loaders`"
    ok = {k: dl for k,dl in loaders.items() if dl is not None}
    nw = next(iter(ok.values())).num_workers
    times = timeit_many({k: (lambda dl=dl: epoch(dl)) for k,dl in ok.items()}, warmup=2, repeats=7 if nw else 9, number=1 if nw else 3)
    scale = N if per == "item" else 1
    return [(case, k, times[k]/scale if k in ok else None, per, goal.get(k, "")) for k in loaders]

if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.randn(N, D), torch.randint(0, 10, (N,))  # in-memory features and targets
    rows = []
    for nw in WORKERS:
        goal = {"torch": "goal: ratio >= 5" if nw == 0 else "goal: ratio >= 1"}
        rows += rows_for(f"epoch of {N}x{D} in memory, {nw} workers", in_memory_loaders(x, y, nw), "epoch", goal)
    for nw in WORKERS:
        goal = {"torch": "goal: ratio >= 0.91 (within 10%)", "torch, Dataset calls our Transform": "the loaders alone: same per-item work"}
        rows += rows_for(f"item transform, {nw} workers", item_tfm_loaders(x, y, nw), "item", goal)
    report(f"DataLoader: shuffled epochs with bs={BS}", rows, ours="mylib")
