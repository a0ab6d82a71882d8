"""The cost of watching activations: per-batch overhead of `ActivationStats` on a small CNN, ours against fastai's, each over its own Learner without hooks."""
import argparse, logging, warnings
import torch
from torch import nn
from torch.utils.data import TensorDataset
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")
fastai = try_import("fastai.learner")
fastai_data = try_import("fastai.data.core")
fastai_load = try_import("fastai.data.load")
fastai_hook = try_import("fastai.callback.hook")
fastai_opt = try_import("fastai.optimizer")
fastai_progress = try_import("fastai.callback.progress")  # adds `Learner.no_bar`
mylib_learner = try_import("mylib.learner")
mylib_hook = try_import("mylib.callback.hook")
mylib_load = try_import("mylib.data.load")
mylib_core = try_import("mylib.data.core")

N, BS, SZ = 1024, 64, 32  # training images, batch size, image size

def cnn():
    "Conv-BN-ReLU x 3 and a linear head: 7 layers with parameters to hook"
    def block(ni, nf): return [nn.Conv2d(ni, nf, 3, stride=2, padding=1), nn.BatchNorm2d(nf), nn.ReLU()]
    return nn.Sequential(*block(3, 16), *block(16, 32), *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def ours(x, y, device, cbs):
    "One epoch of our Learner; a one-item validation set keeps the timing about training"
    dls = mylib_core.DataLoaders(mylib_load.DataLoader((x, y), bs=BS, shuffle=True, device=device),
                                 mylib_load.DataLoader((x[:1], y[:1]), bs=BS, device=device))
    learn = mylib_learner.Learner(dls, cnn(), loss_func=nn.CrossEntropyLoss(), cbs=cbs())
    learn.logger = lambda *a: None
    learn.fit(1)

def theirs(x, y, device, cbs):
    "One epoch of fastai's Learner, bar and logging off"
    dls = fastai_data.DataLoaders(fastai_load.DataLoader(TensorDataset(x, y), bs=BS, shuffle=True),
                                  fastai_load.DataLoader(TensorDataset(x[:1], y[:1]), bs=BS), device=device)
    learn = fastai.Learner(dls, cnn(), loss_func=nn.CrossEntropyLoss(), opt_func=fastai_opt.Adam, cbs=cbs())
    with learn.no_bar(), learn.no_logging(): learn.fit(1)

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cpu")
    device = torch.device(p.parse_args().device)
    torch.manual_seed(0)
    x, y = torch.randn(N, 3, SZ, SZ), torch.randint(0, 10, (N,))
    fns = {}
    if mylib_hook:
        fns["mylib", "none"] = lambda: ours(x, y, device, lambda: None)
        fns["mylib", "stats"] = lambda: ours(x, y, device, lambda: mylib_hook.ActivationStats())
        fns["mylib", "hist"] = lambda: ours(x, y, device, lambda: mylib_hook.ActivationStats(with_hist=True))
    if fastai_hook:
        fns["fastai", "none"] = lambda: theirs(x, y, device, lambda: None)
        fns["fastai", "stats"] = lambda: theirs(x, y, device, lambda: fastai_hook.ActivationStats())
        fns["fastai", "hist"] = lambda: theirs(x, y, device, lambda: fastai_hook.ActivationStats(with_hist=True))
    times = timeit_many(fns, warmup=1, repeats=5, number=1)
    n_batches = -(-N // BS)
    cases = {"stats": "mean and std", "hist": "mean, std and 40-bin histogram"}
    rows = []
    for case, what in cases.items():
        for impl in ("mylib", "fastai"):
            if (impl, case) not in times: rows.append((f"{what}, 7 layers", impl, None, "batch")); continue
            over = (times[impl, case] - times[impl, "none"]) / n_batches
            note = f"epoch {times[impl, case]:.3f} s vs {times[impl, 'none']:.3f} s without hooks"
            rows.append((f"{what}, 7 layers", impl, over, "batch", note))
    report(f"ActivationStats: overhead per training batch over the same Learner without it "
           f"(CNN, bs {BS}, {SZ}x{SZ}, {device.type})", rows, ours="mylib", name=f"bench_hook_{device.type}")
