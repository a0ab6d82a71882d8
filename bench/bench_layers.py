"""Speed of our xresnets: one training step (forward, loss, backward) and one inference forward, against fastai's xresnets and torchvision's ResNets."""
import argparse, warnings
import torch
import torch.nn.functional as F
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")
mylib_xres = try_import("mylib.vision.models.xresnet")
fastai_xres = try_import("fastai.vision.models.xresnet")
tvm = try_import("torchvision.models")

BS, SZ, N_OUT = 16, 64, 10  # batch size, image size, classes

def models(depth):
    "Implementation name -> a fresh model of `depth` layers with `N_OUT` outputs (None when not installed)"
    return {"mylib": getattr(mylib_xres, f"xresnet{depth}")(n_out=N_OUT) if mylib_xres else None,
            "fastai": getattr(fastai_xres, f"xresnet{depth}")(n_out=N_OUT) if fastai_xres else None,
            "torchvision": getattr(tvm, f"resnet{depth}")(num_classes=N_OUT) if tvm else None}

def train_step(m, x, y):
    "Forward, cross-entropy and backward, gradients cleared"
    m.zero_grad(set_to_none=True)
    F.cross_entropy(m(x), y).backward()

def infer(m, x):
    with torch.inference_mode(): m(x)

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cpu")
    p.add_argument("--depths", default="18,50", help="comma-separated depths among 18, 34, 50, 101, 152")
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    x, y = torch.randn(BS, 3, SZ, SZ, device=device), torch.randint(0, N_OUT, (BS,), device=device)
    rows = []
    for depth in map(int, args.depths.split(",")):
        ms = {k: (m.to(device) if m is not None else None) for k, m in models(depth).items()}
        ok = {k: m for k, m in ms.items() if m is not None}
        n_params = {k: f"{sum(p.numel() for p in m.parameters())/1e6:.2f}M parameters" for k, m in ok.items()}
        for m in ok.values(): m.train()
        train = timeit_many({k: (lambda m=m: train_step(m, x, y)) for k, m in ok.items()}, warmup=2, repeats=5, number=3)
        for m in ok.values(): m.eval()
        inf = timeit_many({k: (lambda m=m: infer(m, x)) for k, m in ok.items()}, warmup=2, repeats=5, number=5)
        for case, times in ((f"xresnet{depth} train step", train), (f"xresnet{depth} inference", inf)):
            for k in ms:
                note = n_params.get(k, "") + (" (7x7 stem, strided shortcut)" if k == "torchvision" else "")
                rows.append((case, k, times.get(k), "batch", note))
    report(f"XResNet speed: bs {BS}, {SZ}x{SZ}, {N_OUT} classes, {device.type}", rows, ours="mylib", name=f"bench_layers_{device.type}")
