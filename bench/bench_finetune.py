"""Fine-tuning throughput: images/s of a ResNet-18 `fine_tune` at 128 px with batch augmentation on the device, ours against fastai's `vision_learner`."""
import argparse, sys, tempfile, time, warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import torch
from _util import report, try_import

warnings.filterwarnings("ignore", category=FutureWarning)  # fastai's imports warn about torch.jit
fastai_all = try_import("fastai.vision.all")
mylib_all = try_import("mylib.vision.all")

SIZE, BS, SHARDS = 128, 64, 4  # image size, batch size, dataset shards generated in parallel
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

def shard(args):
    "One shard of the shapes dataset (its own seed), generated in a worker process"
    path, n, seed = args
    from mylib.vision.shapes import make_shapes
    return make_shapes(path, n=n, size=SIZE, seed=seed)

def dataset(n):
    "A `labels.csv`-style frame of `n` generated shapes images of `SIZE` px, and the folder its `fname`s are relative to"
    import pandas as pd
    d = Path(tempfile.mkdtemp())
    jobs = [(d/f'part{i}', n // SHARDS, i) for i in range(SHARDS)]
    with ProcessPoolExecutor(SHARDS) as ex: paths = list(ex.map(shard, jobs))
    dfs = [pd.read_csv(p/'labels.csv').assign(fname=lambda df, p=p: p.name + '/' + df.fname) for p in paths]
    return pd.concat(dfs, ignore_index=True), d

def timer(base):
    "A callback (on the library's `Callback` base) noting each epoch's training time"
    class Timer(base):
        def __init__(self): self.times = []
        def before_train(self): self.sync(); self.t0 = time.perf_counter()
        def after_train(self): self.sync(); self.times.append(time.perf_counter() - self.t0)
        def sync(self):
            if torch.cuda.is_available(): torch.cuda.synchronize()
    return Timer()

def ours(df, path, device, workers, fp16):
    "Our `vision_learner(resnet18)` fine-tuning; returns each epoch's training seconds"
    from torchvision.models import resnet18
    m = mylib_all
    dls = m.ImageDataLoaders.from_df(df, path, valid_col='is_valid', bs=BS, seed=0, num_workers=workers, persistent_workers=workers > 0,
                                     pin_memory=device.type == 'cuda', device=device, batch_tfms=[*m.aug_transforms(), m.Normalize.from_stats(*IMAGENET)])
    learn = m.vision_learner(dls, resnet18, pretrained=False, metrics=m.accuracy)
    if fp16: learn.to_fp16()
    tm = timer(m.Callback)
    learn.logger = lambda *a: None
    with learn.no_bar(): learn.fine_tune(2, freeze_epochs=2, cbs=tm)
    return tm.times, learn.recorder.values[-1][-1]

def fastai(df, path, device, workers, fp16):
    "fastai's `vision_learner(resnet18)` fine-tuning on the same data and settings"
    from torchvision.models import resnet18
    fa = fastai_all
    dls = fa.ImageDataLoaders.from_df(df, path, fn_col='fname', label_col='label', valid_col='is_valid', bs=BS, num_workers=workers,
                                      persistent_workers=workers > 0, device=device, batch_tfms=[*fa.aug_transforms(), fa.Normalize.from_stats(*IMAGENET)])
    learn = fa.vision_learner(dls, resnet18, pretrained=False, metrics=fa.accuracy)
    if fp16: learn.to_fp16()
    tm = timer(fa.Callback)
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(2, freeze_epochs=2, cbs=tm)
    return tm.times, learn.recorder.values[-1][-1]

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="where the model trains and the batches are augmented")
    p.add_argument("--n", type=int, default=8000, help="images generated (about 80%% train)")
    p.add_argument("--workers", type=int, default=8, help="loader worker processes, for both libraries")
    a = p.parse_args()
    device = torch.device(a.device)
    if device.type == 'cuda': torch.backends.cudnn.benchmark = True
    df, path = dataset(a.n)
    n_train = int((~df.is_valid).sum())
    rows = []
    for fp16 in ((False, True) if device.type == 'cuda' else (False,)):  # float16 autocast on a CPU has no hardware behind it
        prec = "mixed fp16" if fp16 else "fp32"
        for k, f in (("mylib", ours if mylib_all else None), ("fastai", fastai if fastai_all else None)):
            if f is None:
                rows += [(f"{prec}, frozen body", k, None, "image"), (f"{prec}, whole model", k, None, "image")]; continue
            torch.manual_seed(0)
            times, acc = f(df, path, device, a.workers, fp16)
            print(f"{k} {prec}: epochs {', '.join(f'{t:.2f} s' for t in times)}, final accuracy {acc:.3f}", file=sys.stderr)
            note = f"{n_train / times[1]:,.0f} images/s frozen, {n_train / min(times[3:]):,.0f} unfrozen; final accuracy {acc:.3f}"
            rows.append((f"{prec}, frozen body (2nd frozen epoch)", k, times[1] / n_train, "image", note))
            rows.append((f"{prec}, whole model (2nd unfrozen epoch)", k, times[3] / n_train, "image"))
    report(f"fine_tune of resnet18 at {SIZE} px, bs={BS}, aug_transforms + Normalize on {device.type}, {a.workers} workers, {n_train} training images",
           rows, ours="mylib", name=f"bench_finetune_{device.type}")

if __name__ == "__main__":
    main()
