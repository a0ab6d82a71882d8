"""Loading a folder of JPEGs: decode, resize to 128 px and batch, with 0 and 2 workers, ours against torchvision's ImageFolder and fastai."""
import tempfile, warnings
from pathlib import Path
import torch
from torch.utils.data import DataLoader as TorchDataLoader
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")  # fastai's import warns about deprecations
fastai_all = try_import("fastai.vision.all")  # slow imports: once, up front
tv_datasets = try_import("torchvision.datasets")
tv2 = try_import("torchvision.transforms.v2")
mylib_data = try_import("mylib.vision.data")
from mylib.vision.core import Resize  # noqa: E402
from mylib.vision.shapes import make_shapes  # noqa: E402

N, SIZE, OUT, BS = 2000, 256, 128, 64  # JPEGs of SIZE px, resized to OUT px, batches of BS

def ours(folder, nw):
    "`ImageDataLoaders.from_folder` with `Resize` per item (JPEGs decoded at reduced size) and its default `IntToFloatTensor` per batch"
    dls = mylib_data.ImageDataLoaders.from_folder(folder, valid_pct=0., seed=0, item_tfms=Resize(OUT), bs=BS,
                                                  num_workers=nw, persistent_workers=nw > 0)
    return dls.train

def torchvision(folder, nw):
    "`torchvision.datasets.ImageFolder` with v2 transforms (to tensor, resize, centre crop, to float in [0, 1] as the others do), torch's DataLoader"
    tfm = tv2.Compose([tv2.PILToTensor(), tv2.Resize(OUT, antialias=True), tv2.CenterCrop(OUT), tv2.ToDtype(torch.float32, scale=True)])
    return TorchDataLoader(tv_datasets.ImageFolder(folder, transform=tfm), batch_size=BS, shuffle=True, drop_last=True,
                           num_workers=nw, persistent_workers=nw > 0)

def fastai(folder, nw):
    "fastai's `ImageDataLoaders.from_folder` with `Resize` per item and its default `IntToFloatTensor` per batch"
    F = fastai_all
    dls = F.ImageDataLoaders.from_folder(folder, valid_pct=0.01, seed=0, item_tfms=F.Resize(OUT), bs=BS, num_workers=nw, device='cpu')
    return dls.train

def run_epoch(dl):
    "A function running one epoch of `dl`, returning the number of images it delivered"
    def run():
        n = 0
        for b in dl: n += len(b[0])
        return n
    return run

if __name__ == "__main__":
    torch.manual_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        folder = make_shapes(Path(d)/'shapes', n=N, size=SIZE, seed=0)/'images'
        for nw in (0, 2):
            makers = {"mylib": ours if mylib_data else None, "torchvision": torchvision if tv_datasets and tv2 else None,
                      "fastai": fastai if fastai_all else None}
            dls = {k: f(folder, nw) for k, f in makers.items() if f is not None}
            fns = {k: run_epoch(dl) for k, dl in dls.items()}
            n_imgs = {k: fn() for k, fn in fns.items()}  # also the warm-up (and starts persistent workers)
            times = timeit_many(fns, warmup=0, repeats=3, number=1)
            case = f"{N} JPEGs of {SIZE} px -> {OUT} px, bs {BS}, {nw} workers"
            goal = "goal: ratio >= 1.3 for the faster peer"
            rows += [(case, k, times[k] / n_imgs[k] if k in fns else None, "image",
                      (f"{n_imgs[k] / times[k]:,.0f} images/s" + ("" if k == "mylib" else f"; {goal}")) if k in fns else "") for k in makers]
    report("Loading a folder of JPEGs on the CPU", rows, ours="mylib")
