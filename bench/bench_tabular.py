"""Tabular: an epoch of `tabular_learner` (ours, fastai's, a raw PyTorch loop over pre-built tensors with the same model), `TabularPandas`
preprocessing time and peak memory (ours, fastai's; each in a fresh process), and `predict` on one row of a 100-column table.

    python bench/bench_tabular.py                 # 1,000,000 rows (10 categorical, 10 continuous), bs 1024
    python bench/bench_tabular.py --rows 100000   # a quick run
"""
import argparse, json, statistics, subprocess, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from _util import report, timeit_many, try_import, extra_peak_memory

mylib_core = try_import("mylib.tabular.core")
mylib_learner = try_import("mylib.tabular.learner")
mylib_model = try_import("mylib.tabular.model")
fastai_tab = try_import("fastai.tabular.all")
BS,LR = 1024,1e-3

def make_frame(n, n_cat=10, n_cont=10, seed=0):
    "A generated table: `n_cat` string columns of 5 to 1,000 categories, `n_cont` float columns (1% missing), a binary target that depends on both"
    rng = np.random.default_rng(seed)
    cols,score = {},np.zeros(n)
    for j in range(n_cat):
        card = int(np.geomspace(5, 1000, n_cat)[j])
        codes = rng.integers(0, card, n)
        cols[f'cat{j}'] = pd.Series(np.array([f'c{j}_{i}' for i in range(card)], dtype=object)[codes], dtype='str')
        score += (codes % 3 == 0) * 0.3
    for j in range(n_cont):
        x = rng.normal(0, 1, n)
        score += x * (0.3 if j % 2 else -0.2)
        x[rng.random(n) < 0.01] = np.nan
        cols[f'cont{j}'] = x
    cols['y'] = np.where(score + rng.normal(0, 1, n) > score.mean(), 'yes', 'no')
    return pd.DataFrame(cols)

def names(df): return [c for c in df.columns if c.startswith('cat')],[c for c in df.columns if c.startswith('cont')]

def splits(n): return [np.arange(int(0.8 * n)), np.arange(int(0.8 * n), n)]

def ours_to(df):
    cats,conts = names(df)
    return mylib_core.TabularPandas(df, [mylib_core.Categorify, mylib_core.FillMissing, mylib_core.Normalize], cats, conts, 'y', splits=[list(s) for s in splits(len(df))])

def fastai_to(df):
    cats,conts = names(df)
    return fastai_tab.TabularPandas(df, [fastai_tab.Categorify, fastai_tab.FillMissing, fastai_tab.Normalize], cats, conts, 'y', splits=[list(s) for s in splits(len(df))])

def ours_epoch(to):
    "One epoch of our `tabular_learner` (bar and logging off), validation included"
    dls = to.dataloaders(bs=BS, device='cpu')
    learn = mylib_learner.tabular_learner(dls, layers=[200, 100], lr=LR)
    learn.logger = lambda *a: None
    with learn.no_bar(): learn.fit(1)

def fastai_epoch(to):
    dls = to.dataloaders(bs=BS, device='cpu')
    learn = fastai_tab.tabular_learner(dls, layers=[200, 100], lr=LR)
    with learn.no_bar(), learn.no_logging(): learn.fit(1)

def raw_epoch(to):
    "The floor: our `TabularModel` trained by hand over the pre-built tensors (a random permutation sliced into batches), then validated"
    tr,va = to.train,to.valid
    model = mylib_model.TabularModel(mylib_model.get_emb_sz(to), len(to.cont_names), to.c, [200, 100])
    opt,loss_func = torch.optim.Adam(model.parameters(), lr=LR),torch.nn.CrossEntropyLoss()
    model.train()
    perm = torch.randperm(len(tr))
    for i in range(0, len(tr) - BS + 1, BS): # the last partial batch dropped, as the learners drop it
        idx = perm[i:i + BS]
        loss = loss_func(model(tr.cats[idx], tr.conts[idx]), tr.ys[idx])
        loss.backward(); opt.step(); opt.zero_grad()
    model.eval()
    with torch.no_grad():
        for i in range(0, len(va), BS): loss_func(model(va.cats[i:i + BS], va.conts[i:i + BS]), va.ys[i:i + BS])

def prep_in_fresh_process(impl, n):
    "Seconds and extra peak resident bytes of building `impl`'s `TabularPandas` on a fresh `n`-row frame, and the frame's bytes, in a new process"
    r = subprocess.run([sys.executable, __file__, '--prep', impl, '--rows', str(n)], capture_output=True, text=True, cwd=Path(__file__).parent)
    if r.returncode: raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])

def prep_child(impl, n):
    df = make_frame(n)
    frame = int(df.memory_usage(deep=True).sum())
    build = ours_to if impl == 'mylib' else fastai_to
    t,c = time.perf_counter(),time.process_time()
    _,peak = extra_peak_memory(lambda: build(df))
    print(json.dumps({'time': time.perf_counter() - t, 'cpu': time.process_time() - c, 'peak': peak, 'frame': frame}))

def wide_learners(n_cols=100, n=2000):
    "Our and fastai's learners (untrained: `predict` costs the same) on a 50-categorical, 50-continuous table, and one row of it"
    rng = np.random.default_rng(0)
    half = n_cols // 2
    df = pd.DataFrame({**{f'cat{j}': rng.choice(['a', 'b', 'c', 'd'], n) for j in range(half)},
                       **{f'cont{j}': rng.normal(size=n) for j in range(half)}, 'y': rng.choice(['yes', 'no'], n)})
    cats,conts = names(df)
    res = {}
    if mylib_learner:
        to = mylib_core.TabularPandas(df, [mylib_core.Categorify, mylib_core.FillMissing, mylib_core.Normalize], cats, conts, 'y', splits=splits(n))
        res['mylib'] = mylib_learner.tabular_learner(to.dataloaders(bs=64, device='cpu'), layers=[200, 100])
    if fastai_tab:
        to = fastai_tab.TabularPandas(df, [fastai_tab.Categorify, fastai_tab.FillMissing, fastai_tab.Normalize], cats, conts, 'y', splits=[list(s) for s in splits(n)])
        learn = fastai_tab.tabular_learner(to.dataloaders(bs=64, device='cpu'), layers=[200, 100])
        res['fastai'] = learn
    return res,df.iloc[7]

def main(n, repeats, prep_repeats=5):
    rows = []
    impls = ['mylib'] + (['fastai'] if fastai_tab else [])
    runs = {impl: [] for impl in impls}
    for _ in range(prep_repeats): # interleaved, each in a fresh process: a new process's first touch of its memory is part of the cost
        for impl in impls: runs[impl].append(prep_in_fresh_process(impl, n))
    for impl in impls:
        r = {k: statistics.median(x[k] for x in runs[impl]) for k in ('time', 'cpu', 'peak', 'frame')}
        rows.append((f"TabularPandas of {n:,} rows (10 cat, 10 cont), Categorify+FillMissing+Normalize (median of {prep_repeats} fresh processes)", impl, r['time'], 'table',
                     f"CPU {r['cpu']:.2f} s; extra peak memory {r['peak'] / 2**20:.0f} MiB = {r['peak'] / r['frame']:.2f}x the frame ({r['frame'] / 2**20:.0f} MiB)"))
    df = make_frame(n)
    tos = {'mylib': ours_to(df)}
    if fastai_tab: tos['fastai'] = fastai_to(df)
    del df
    fns = {'raw torch': lambda: raw_epoch(tos['mylib']), 'mylib': lambda: ours_epoch(tos['mylib'])}
    if fastai_tab: fns['fastai'] = lambda: fastai_epoch(tos['fastai'])
    torch.manual_seed(0)
    times = timeit_many(fns, warmup=0, repeats=repeats, number=1)
    case = f"an epoch of tabular_learner, {n:,} rows (80% train), bs {BS}, layers [200, 100]"
    rows += [(case, k, t, 'epoch', 'goal: mylib within 1.2x' if k == 'raw torch' else 'goal: >= 10x' if k == 'fastai' else '') for k,t in times.items()]
    learners,row = wide_learners()
    pfns = {k: (lambda l=l: l.predict(row)) for k,l in learners.items()}
    ptimes = timeit_many(pfns, warmup=3, repeats=5, number=10)
    rows += [("predict one row (a Series) of a 100-column table (50 cat, 50 cont)", k, t, 'row', 'goal: >= 10x' if k == 'fastai' else '')
             for k,t in ptimes.items()]
    report("Tabular: preprocessing, training epoch, predict", rows, ours="mylib")

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument('--rows', type=int, default=1_000_000)
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument('--prep-repeats', type=int, default=5) # fresh processes per preprocessing
    p.add_argument('--prep', default=None) # internal: run one preprocessing in this (fresh) process
    a = p.parse_args()
    if a.prep: prep_child(a.prep, a.rows)
    else: main(a.rows, a.repeats, a.prep_repeats)
