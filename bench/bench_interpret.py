"""Interpreting a classifier: confusion matrix, most confused pairs and top losses over 20,000 in-memory items with 100 classes; time per item and extra peak memory, ours against fastai's and a raw loop."""
import subprocess, sys, re
from pathlib import Path
import torch
from torch import nn
import torch.nn.functional as F
from _util import report, try_import, timeit_many, extra_peak_memory

N, D, C, BS = 20_000, 256, 100, 256 # items, input features, classes, batch size
REPEATS = 5 # timed runs of each, interleaved (the median is reported); memory is measured in a fresh process per implementation

def raw(x, y, model):
    "The floor: a hand-written loop keeping each batch's losses, argmax and targets, then one `bincount`."
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BS)
    ls, ds, ts = [], [], []
    with torch.no_grad():
        for xb, yb in dl:
            out = model(xb)
            ls.append(F.cross_entropy(out, yb, reduction='none')); ds.append(out.argmax(1)); ts.append(yb)
    losses, dec, targs = torch.cat(ls), torch.cat(ds), torch.cat(ts)
    cm = torch.bincount(C * targs + dec, minlength=C * C).reshape(C, C)
    off = cm.clone().fill_diagonal_(0)
    return cm, (off >= 1).nonzero(), losses.topk(9)

def ours(x, y, model):
    from mylib.learner import Learner
    from mylib.data.load import DataLoader
    from mylib.data.core import DataLoaders
    from mylib.losses import CrossEntropyLossFlat
    from mylib.interpret import ClassificationInterpretation
    dl = DataLoader((x, y), bs=BS)
    learn = Learner(DataLoaders(dl, dl), model, loss_func=CrossEntropyLossFlat())
    learn.logger = lambda line: None
    interp = ClassificationInterpretation.from_learner(learn)
    return interp.confusion_matrix(), interp.most_confused(), interp.top_losses(9)

def fastai_(x, y, model):
    from fastai.learner import Learner
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.losses import CrossEntropyLossFlat
    from fastai.interpret import ClassificationInterpretation
    import fastai.callback.progress
    dl = DataLoader(torch.utils.data.TensorDataset(x, y), bs=BS)
    dl.vocab = [[str(i) for i in range(C)]] # a plain loader has no vocab; fastai's interpretation needs one (a list: it takes the last)
    learn = Learner(DataLoaders(dl, dl), model, loss_func=CrossEntropyLossFlat())
    with learn.no_bar():
        interp = ClassificationInterpretation.from_learner(learn, dl=dl)
        return interp.confusion_matrix(), interp.most_confused(), interp.top_losses(9)

IMPLS = {'raw torch': raw, 'mylib': ours, 'fastai': fastai_}

def _data():
    torch.manual_seed(0)
    return torch.randn(N, D), torch.randint(0, C, (N,)), nn.Linear(D, C)

def measure(name):
    "Run one implementation in this (fresh) process; print its extra peak memory."
    x, y, model = _data()
    IMPLS[name](x[:BS * 2], y[:BS * 2], model) # warm up: imports, first-call allocations
    res, peak = extra_peak_memory(lambda: IMPLS[name](x, y, model))
    assert int(torch.as_tensor(res[0]).sum()) == N
    print(f'RESULT {peak}')

if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--impl': measure(sys.argv[2]); sys.exit()
    case, impls = f'{N} items, {C} classes', {}
    peaks = {}
    for name, f in IMPLS.items():
        if name == 'mylib' and not try_import('mylib.interpret') or name == 'fastai' and not try_import('fastai.interpret'): continue
        r = subprocess.run([sys.executable, __file__, '--impl', name], capture_output=True, text=True, cwd=Path(__file__).parent)
        m = re.search(r'RESULT (\S+)', r.stdout)
        if m is None: raise RuntimeError(f"bench_interpret: {name} failed:\n{r.stderr[-2000:]}")
        peaks[name], impls[name] = float(m.group(1)), f
    x, y, model = _data()
    times = timeit_many({k: (lambda f=f: f(x, y, model)) for k,f in impls.items()}, warmup=1, repeats=REPEATS, number=1)
    rows = [(case, k, times[k] / N if k in times else None, 'item', f'extra peak memory {peaks[k] / 2**20:.1f} MiB' if k in peaks else '')
            for k in IMPLS]
    report('Interpretation: confusion matrix, most confused, top losses (time; extra peak memory in the note)', rows, ours='mylib')
