"""Peak memory of gathering predictions: `get_preds` over 50,000 items with 1,000 outputs each, ours against fastai's and a raw loop collecting a list then `torch.cat`."""
import subprocess, sys, time, re
from pathlib import Path
import torch
from torch import nn
from _util import report, try_import, extra_peak_memory

N, D, C, BS = 50_000, 16, 1000, 256 # items, input features, outputs per item, batch size

def raw(x, y, model):
    "The usual hand-written gathering: a list of batch outputs, concatenated at the end."
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BS)
    ps, ts = [], []
    with torch.no_grad():
        for xb, yb in dl: ps.append(model(xb).softmax(1)); ts.append(yb)
    return torch.cat(ps), torch.cat(ts)

def ours(x, y, model):
    from mylib.learner import Learner
    from mylib.data.load import DataLoader
    from mylib.data.core import DataLoaders
    from mylib.losses import CrossEntropyLossFlat
    dl = DataLoader((x, y), bs=BS)
    learn = Learner(DataLoaders(dl, dl), model, loss_func=CrossEntropyLossFlat())
    return learn.get_preds(dl=dl)

def fastai_(x, y, model):
    from fastai.learner import Learner
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.losses import CrossEntropyLossFlat
    import fastai.callback.progress
    dl = DataLoader(torch.utils.data.TensorDataset(x, y), bs=BS)
    learn = Learner(DataLoaders(dl, dl), model, loss_func=CrossEntropyLossFlat())
    with learn.no_bar(): return learn.get_preds(dl=dl)

IMPLS = {'raw torch': raw, 'mylib': ours, 'fastai': fastai_}

def measure(name):
    "Run one implementation in this (fresh) process; print its extra peak memory and its time."
    torch.manual_seed(0)
    x, y, model = torch.randn(N, D), torch.randint(0, C, (N,)), nn.Linear(D, C)
    IMPLS[name](x[:BS * 2], y[:BS * 2], model) # warm up: imports, first-call allocations
    t0 = time.perf_counter()
    (preds, targs), peak = extra_peak_memory(lambda: IMPLS[name](x, y, model))
    secs = time.perf_counter() - t0
    out = preds.nelement() * preds.element_size() + targs.nelement() * targs.element_size()
    print(f'RESULT {peak} {out} {secs}')

if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--impl': measure(sys.argv[2]); sys.exit()
    rows = []
    for name in IMPLS:
        if name == 'mylib' and not try_import('mylib.learner') or name == 'fastai' and not try_import('fastai.learner'):
            rows.append((f'{N} items x {C} outputs', name, None, 'item')); continue
        r = subprocess.run([sys.executable, __file__, '--impl', name], capture_output=True, text=True, cwd=Path(__file__).parent)
        peak, out, secs = map(float, re.search(r'RESULT (\S+) (\S+) (\S+)', r.stdout).groups())
        rows.append((f'{N} items x {C} outputs', name, secs / N, 'item',
                     f'extra peak memory {peak / 2**20:.0f} MiB = {peak / out:.2f}x the outputs ({out / 2**20:.0f} MiB)'
                     + ('; goal: at most 1.2x' if name == 'mylib' else '')))
    report('get_preds: peak memory (note) and time', rows, ours='mylib')
