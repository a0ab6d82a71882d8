"""Collaborative filtering on MovieLens 100k: building the loaders from the ratings DataFrame, and one epoch of `fit_one_cycle` (training and validation) of a dot-product model, ours (`mylib.collab`) against fastai's (`fastai.collab`), same data, split share, batch size, model size and schedule."""
import warnings
import torch
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")
fastai_collab = try_import("fastai.collab")
fastai_progress = try_import("fastai.callback.progress") # adds `Learner.no_bar`
fastai_schedule = try_import("fastai.callback.schedule") # adds `fit_one_cycle`
mylib_collab = try_import("mylib.collab")
mylib_schedule = try_import("mylib.callback.schedule") # adds `fit_one_cycle`
mylib_progress = try_import("mylib.callback.progress") # adds `Learner.no_bar`

BS, N_FACTORS, LR, WD, Y_RANGE = 64, 50, 5e-3, 0.1, (0, 5.5)

def ratings():
    "MovieLens 100k as `load_movielens100k` reads it (RecBole's package; never redistributed): user, title, rating"
    from mylib.data.external import load_movielens100k
    return load_movielens100k(download=False)[['user', 'title', 'rating']]

def ours_dls(df): return mylib_collab.CollabDataLoaders.from_df(df, valid_pct=0.2, seed=42, bs=BS, device='cpu')
def fastai_dls(df): return fastai_collab.CollabDataLoaders.from_df(df, valid_pct=0.2, seed=42, bs=BS, device=torch.device('cpu'))

def ours_epoch(dls):
    learn = mylib_collab.collab_learner(dls, n_factors=N_FACTORS, y_range=Y_RANGE, wd=WD)
    learn.logger = lambda *a: None
    with learn.no_bar(): learn.fit_one_cycle(1, LR)
    return learn.recorder.values[-1][1]

def fastai_epoch(dls):
    learn = fastai_collab.collab_learner(dls, n_factors=N_FACTORS, y_range=Y_RANGE)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, LR, wd=WD)
    return learn.recorder.values[-1][1]

if __name__ == "__main__":
    df = ratings()
    impls = {"mylib": (ours_dls, ours_epoch)} if mylib_collab else {}
    if fastai_collab: impls["fastai"] = (fastai_dls, fastai_epoch)
    t_dls = timeit_many({k: (lambda f=f: f(df)) for k,(f,_) in impls.items()}, warmup=1, repeats=3, number=1)
    dls = {k: f(df) for k,(f,_) in impls.items()}
    losses = {}
    def epoch(k): torch.manual_seed(0); losses[k] = impls[k][1](dls[k])
    t_fit = timeit_many({k: (lambda k=k: epoch(k)) for k in impls}, warmup=1, repeats=3, number=1)
    case = f"MovieLens 100k, 80/20 split, bs {BS}, {N_FACTORS} factors"
    rows = [(f"{case}: loaders from the DataFrame", k, t_dls[k], "build") for k in impls]
    rows += [(f"{case}: one epoch (80,000 rows trained, 20,000 validated)", k, t_fit[k], "epoch", f"valid MSE after 1 epoch {losses[k]:.3f}") for k in impls]
    report("Collaborative filtering: loaders and a training epoch", rows, ours="mylib")
