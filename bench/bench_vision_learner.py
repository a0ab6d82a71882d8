"""Transfer learning: wall time to 95% validation accuracy when fine-tuning a pretrained body on the generated shapes, ours against fastai's `vision_learner`."""
import math, statistics, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np
import torch
from torch import nn
from _util import report, try_import

warnings.filterwarnings("ignore", category=FutureWarning)  # fastai's imports warn about torch.jit
fastai_all = try_import("fastai.vision.all")  # slow import: once, up front
mylib_vl = try_import("mylib.vision.learner")

N, SIZE, BS = 1000, 64, 32  # fine-tuning images (about 20% validation, the `is_valid` column), their size, batch size
EPOCHS, BASE_LR, TARGET, REPEATS = 4, 2e-3, 0.95, 3  # `fine_tune(EPOCHS)` (after one frozen epoch), accuracy to reach
PRETRAIN = dict(n=1200, epochs=5, lr=3e-3, seed=1)  # the body is pretrained on other shapes images (plain PyTorch, untimed)
WEIGHTS = None  # the pretrained state dict's file, set in `main`
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

def conv_stage(ni, nf): return nn.Sequential(nn.Conv2d(ni, nf, 3, padding=1, bias=False), nn.BatchNorm2d(nf), nn.ReLU(), nn.MaxPool2d(2))

def small_cnn(pretrained=False):
    "The arch both libraries fine-tune: four conv-BN-ReLU-max-pool stages, pooling and a linear classifier; `pretrained` loads `WEIGHTS`"
    m = nn.Sequential(conv_stage(3, 32), conv_stage(32, 64), conv_stage(64, 128), conv_stage(128, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 4))
    if pretrained: m.load_state_dict(torch.load(WEIGHTS, weights_only=True))
    return m

def whole_body(body): return [body]  # one group for the body, as fastai's default split: the same discriminative rates

def load_images(path):
    "Images of a shapes folder as normalized floats, and their labels, in the order of `labels.csv`"
    import pandas as pd
    from PIL import Image
    df = pd.read_csv(path/'labels.csv')
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(path/f), dtype=np.float32)).permute(2, 0, 1) / 255 for f in df.fname])
    x = (x - torch.tensor(IMAGENET[0])[:, None, None]) / torch.tensor(IMAGENET[1])[:, None, None]
    classes = sorted(set(df.label))
    return x, torch.tensor([classes.index(l) for l in df.label])

def pretrain(path, dest):
    "Train `small_cnn` on the shapes in `path` (a plain PyTorch loop: AdamW, one cycle); save its state dict to `dest`"
    x, y = load_images(path)
    torch.manual_seed(0)
    model, e, lr = small_cnn(), PRETRAIN['epochs'], PRETRAIN['lr']
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=e * math.ceil(len(x) / BS))
    for _ in range(e):
        model.train()
        for idx in torch.randperm(len(x)).split(BS):
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    torch.save(model.state_dict(), dest)

def ticker(base):
    "A callback class (on the library's `Callback` base) noting the wall time and validation accuracy after each epoch"
    class Tick(base):
        order = 60  # after the recorder (50), which has appended the epoch's values
        def __init__(self): self.ticks = []
        def after_epoch(self): self.ticks.append((time.perf_counter(), self.learn.recorder.values[-1][-1]))
    return Tick()

def ours(df, path):
    "Our `vision_learner` fine-tuning from the weights file; returns the epochs' (time, accuracy) and the start time"
    from mylib.vision.data import ImageDataLoaders
    from mylib.vision.augment import aug_transforms
    from mylib.data.transforms import Normalize
    from mylib.metrics import accuracy
    from mylib.callback.core import Callback
    dls = ImageDataLoaders.from_df(df, path, valid_col='is_valid', bs=BS, seed=0, batch_tfms=[*aug_transforms(), Normalize.from_stats(*IMAGENET)])
    tick = ticker(Callback)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    learn = mylib_vl.vision_learner(dls, small_cnn, weights=WEIGHTS, metrics=accuracy, splitter=mylib_vl.TransferSplitter(whole_body))
    learn.logger = lambda *a: None
    with learn.no_bar(): learn.fine_tune(EPOCHS, BASE_LR, cbs=tick)
    return tick.ticks, t0

def fastai(df, path):
    "fastai's `vision_learner` fine-tuning from the same weights (through `small_cnn(pretrained=True)`)"
    fa = fastai_all
    dls = fa.ImageDataLoaders.from_df(df, path, fn_col='fname', label_col='label', valid_col='is_valid', bs=BS, num_workers=0,
                                      batch_tfms=[*fa.aug_transforms(), fa.Normalize.from_stats(*IMAGENET)])
    tick = ticker(fa.Callback)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    learn = fa.vision_learner(dls, small_cnn, pretrained=True, metrics=fa.accuracy)
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(EPOCHS, BASE_LR, cbs=tick)
    return tick.ticks, t0

def summary(runs):
    "Median seconds to reach `TARGET` (None if any run never did), median total seconds, and a note"
    reach = [next((t - t0 for t, acc in ticks if acc >= TARGET), None) for ticks, t0 in runs]
    total = statistics.median(ticks[-1][0] - t0 for ticks, t0 in runs)
    accs = [ticks[-1][1] for ticks, _ in runs]
    epochs = [next((i + 1 for i, (_, acc) in enumerate(ticks) if acc >= TARGET), None) for ticks, _ in runs]
    hit = None if None in reach else statistics.median(reach)
    note = f"final accuracy {', '.join(f'{a:.3f}' for a in accs)}; {TARGET:.0%} reached at epoch {epochs} of {EPOCHS + 1}"
    return hit, total, note

def main():
    global WEIGHTS
    import pandas as pd
    from mylib.vision.shapes import make_shapes
    d = Path(tempfile.mkdtemp())
    WEIGHTS = d/'small_cnn.pth'
    pretrain(make_shapes(d/'pretrain', n=PRETRAIN['n'], size=SIZE, seed=PRETRAIN['seed']), WEIGHTS)
    path = make_shapes(d/'shapes', n=N, size=SIZE, seed=0)
    df = pd.read_csv(path/'labels.csv')
    impls = {"mylib": ours if mylib_vl else None, "fastai": fastai if fastai_all else None}
    runs = {k: [] for k, f in impls.items() if f}
    for _ in range(REPEATS):  # interleaved, so load changes hit both alike
        for k in runs:
            runs[k].append(impls[k](df, path))
            ticks, t0 = runs[k][-1]
            print(f"{k}: {', '.join(f'{t - t0:.1f} s {acc:.3f}' for t, acc in ticks)}", file=sys.stderr)
    rows = []
    for k in impls:
        hit, total, note = summary(runs[k]) if k in runs else (None, None, "")
        goal = "goal: ratio > 1; " if k == "fastai" else ""
        rows.append((f"time to {TARGET:.0%} validation accuracy", k, hit, "run", goal + note))
        rows.append((f"fine_tune({EPOCHS}) in all", k, total, "run"))
    report(f"vision_learner: fine-tuning a pretrained body on {N} shapes of {SIZE} px, bs={BS}, aug_transforms, 0 workers", rows, ours="mylib")

if __name__ == "__main__":
    main()
