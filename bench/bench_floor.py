"""Close to the floor: the optimizer, the training loop, batch augmentation and JPEG loading against the bare work each cannot avoid."""
import math, tempfile, warnings
from functools import partial
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet18
from PIL import Image
from _util import report, timeit_many

warnings.filterwarnings("ignore")
from mylib.optimizer import Adam  # noqa: E402
from mylib.data.load import DataLoader  # noqa: E402
from mylib.data.core import DataLoaders  # noqa: E402
from mylib.learner import Learner  # noqa: E402
import mylib.callback.progress  # noqa: E402,F401  (adds `Learner.no_bar`)
from mylib.transform import Pipeline  # noqa: E402
from mylib.torch_core import TensorImage  # noqa: E402
from mylib.vision.augment import aug_transforms  # noqa: E402
from mylib.vision.core import Resize  # noqa: E402
from mylib.vision.data import ImageDataLoaders  # noqa: E402
from mylib.vision.shapes import make_shapes  # noqa: E402

HP = dict(lr=1e-3, mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.01)
TORCH_HP = dict(lr=HP["lr"], betas=(HP["mom"], HP["sqr_mom"]), eps=HP["eps"], weight_decay=HP["wd"])

def synced(fn, device):
    "`fn`, waiting for the device to finish its work, so that the time is the work's, not the launch's"
    if device.type != "cuda": return fn
    def run(): fn(); torch.cuda.synchronize(device)
    return run

def adam_case(device=torch.device("cpu")):
    "An AdamW step on ResNet-18's parameters (two groups, random gradients): torch's fused kernel against our `Adam`"
    def params():
        torch.manual_seed(0)
        m = resnet18().to(device)
        for p in m.parameters(): p.grad = torch.randn_like(p)
        head = list(m.fc.parameters())
        return [[p for p in m.parameters() if all(p is not q for q in head)], head]
    floor = torch.optim.AdamW([{"params": g} for g in params()], fused=True, **TORCH_HP)
    ours = Adam(params(), **HP)
    with torch.no_grad(): t = timeit_many({"floor": synced(floor.step, device), "mylib": synced(ours.step, device)}, warmup=3, repeats=7, number=3)
    return f"Adam step, ResNet-18's parameters, {device.type}", t, "step", "torch AdamW(fused=True)"

N, D, BS = 20_000, 32, 64
def loop_case():
    "One epoch of a tiny MLP on in-memory rows: a raw loop over pre-sliced batches against our `Learner` (default callbacks, bar off)"
    torch.manual_seed(0)
    x, y = torch.randn(N, D), torch.randn(N, 1)
    def mlp(): return nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, 1))
    batches = [(x[i:i+BS], y[i:i+BS]) for i in range(0, N, BS)]
    def floor():
        model = mlp(); opt = torch.optim.AdamW(model.parameters(), fused=True, **TORCH_HP)
        model.train()
        for xb, yb in batches:
            F.mse_loss(model(xb), yb).backward(); opt.step(); opt.zero_grad()
    dls = DataLoaders(DataLoader((x, y), bs=BS, shuffle=True), DataLoader((x[:1], y[:1]), bs=BS))
    def ours():
        learn = Learner(dls, mlp(), loss_func=nn.MSELoss(), lr=HP["lr"], opt_func=partial(Adam, **{k: v for k, v in HP.items() if k != "lr"}))
        learn.logger = lambda *a: None
        with learn.no_bar(): learn.fit(1)
    t = timeit_many({"floor": floor, "mylib": ours}, warmup=1, repeats=5, number=1)
    return f"training loop, MLP {D}-64-1, {N:,} rows, bs {BS}, 1 epoch", t, "epoch", "raw loop over pre-sliced batches, fused AdamW"

def aug_case(device=torch.device("cpu")):
    "`aug_transforms()` on a 64x3x128x128 batch: one perspective grid, one `grid_sample` and one elementwise lighting pass against our pipeline"
    torch.manual_seed(0)
    x = torch.rand(64, 3, 128, 128, device=device)
    bs, _, h, w = x.shape
    ys, xs = torch.meshgrid(torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=device), torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=device), indexing="ij")
    base = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(1, h * w, 3)  # pixel centres, homogeneous: made once, as a floor may
    def floor():
        a, s = (torch.rand(bs, device=device) - 0.5) * math.radians(20), 1 + torch.rand(bs, device=device) * 0.1
        M = torch.zeros(bs, 3, 3, device=device)
        M[:, 0, 0], M[:, 0, 1], M[:, 1, 0], M[:, 1, 1], M[:, 2, 2] = a.cos() / s, -a.sin() / s, a.sin() / s, a.cos() / s, 1.
        M[:, 2, :2] = (torch.rand(bs, 2, device=device) - 0.5) * 0.4  # the perspective of `aug_transforms`' default warp
        g = base @ M.transpose(1, 2)  # (bs, h*w, 3)
        grid = (g[..., :2] / g[..., 2:]).view(bs, h, w, 2)
        y = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        mul, add = 1 + (torch.rand(bs, device=device) - 0.5) * 0.4, (torch.rand(bs, device=device) - 0.5) * 0.8
        return y.logit_(1e-6).mul_(mul[:, None, None, None]).add_(add[:, None, None, None]).sigmoid_()
    pipe, xb = Pipeline(aug_transforms(), split_idx=0), TensorImage(x)
    t = timeit_many({"floor": synced(floor, device), "mylib": synced(lambda: pipe(xb), device)}, warmup=2, repeats=7, number=3)
    return f"aug_transforms(), 64x3x128x128, {device.type}", t, "batch", "perspective grid + grid_sample + logit-space lighting"

def jpeg_case(folder):
    "2,000 JPEGs of 256 px to batches of 128 px floats: PIL draft decode + resize + stack against `ImageDataLoaders.from_folder`"
    files = sorted(folder.rglob("*.jpg"))
    def floor():
        for i in range(0, len(files), 64):
            ims = []
            for f in files[i:i+64]:
                with Image.open(f) as im:
                    im.draft("RGB", (128, 128))
                    ims.append(np.asarray(im.convert("RGB").resize((128, 128), Image.BILINEAR)))
            torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).float().div_(255)
    dl = ImageDataLoaders.from_folder(folder, valid_pct=0., seed=0, item_tfms=Resize(128), bs=64).train
    def ours():
        for b in dl: pass
    t = timeit_many({"floor": floor, "mylib": ours}, warmup=1, repeats=9, number=1)  # nine: an epoch of decoding is the noisiest row
    return f"{len(files):,} JPEGs of 256 px -> 128 px, bs 64, 0 workers", t, "epoch", "PIL draft + resize + stack"

GOALS = {"Adam": 1.2, "training loop": 1.2, "aug_transforms()": 1.2, "JPEGs": 1.1}

if __name__ == "__main__":
    cases = [adam_case(), loop_case(), aug_case()]
    with tempfile.TemporaryDirectory() as d: cases.append(jpeg_case(make_shapes(Path(d)/"shapes", n=2000, size=256, seed=0)/"images"))
    if torch.cuda.is_available(): cases += [adam_case(torch.device("cuda")), aug_case(torch.device("cuda"))] # the CUDA rows, where there is a GPU
    rows = []
    for case, t, unit, floor in cases:
        goal = next(g for k, g in GOALS.items() if k in case)
        r = t["mylib"] / t["floor"]
        rows += [(case, "floor", t["floor"], unit, floor), (case, "mylib", t["mylib"], unit, f"{r:.2f}x the floor; goal: within {goal}x")]
    report("Close to the floor: mylib against the bare work (ratio = mylib time / floor time; goal: <= the note's)", rows, ours="floor")
