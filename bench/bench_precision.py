"""Mixed precision: time per training batch of our Learner in bfloat16 and float16 (`MixedPrecision`) against float32, for a small CNN on the CPU and, when CUDA is there, ResNet-18 on the GPU."""
import sys, warnings
import torch
from torch import nn
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")
mylib_learner = try_import("mylib.learner")
mylib_load = try_import("mylib.data.load")
mylib_core = try_import("mylib.data.core")
mylib_fp16 = try_import("mylib.callback.fp16")  # `MixedPrecision`, `Learner.to_fp16/to_bf16`
mylib_training = try_import("mylib.callback.training")  # `ChannelsLast`
mylib_progress = try_import("mylib.callback.progress")  # `Learner.no_bar`
tv_models = try_import("torchvision.models")

def small_cnn():
    "Three conv-BN-ReLU layers (32, 64, 128 channels, stride 2) and a linear head"
    def block(ni, nf): return [nn.Conv2d(ni, nf, 3, stride=2, padding=1), nn.BatchNorm2d(nf), nn.ReLU()]
    return nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))

def learner(x, y, model, bs, device, setup):
    "Our Learner on in-memory images, a one-item validation set (the timing is about training), nothing shown"
    dls = mylib_core.DataLoaders(mylib_load.DataLoader((x, y), bs=bs, shuffle=True), mylib_load.DataLoader((x[:1], y[:1]), bs=bs), device=device)
    learn = mylib_learner.Learner(dls, model, loss_func=nn.CrossEntropyLoss(), lr=1e-3)
    learn.logger = lambda *a: None
    return setup(learn)

def epoch(learn):
    "One epoch, the bar off; waits for the GPU"
    with learn.no_bar(): learn.fit(1)
    if torch.cuda.is_available(): torch.cuda.synchronize()

def compare(case, x, y, make_model, bs, device, setups, repeats):
    "Rows (case per 16-bit type, with float32 alongside) of time per training batch for each learner setup"
    learns = {k: learner(x, y, make_model(), bs, device, s) for k,s in setups.items()}
    times = timeit_many({k: (lambda l=l: epoch(l)) for k,l in learns.items()}, warmup=1, repeats=repeats, number=1)
    n_batches = -(-len(x) // bs)
    per = {k: t / n_batches for k,t in times.items()}
    rows = []
    for k in setups:
        if k == "fp32": continue
        rows += [(f"{case}: {k} vs fp32", "mixed", per[k], "batch", k), (f"{case}: {k} vs fp32", "fp32", per["fp32"], "batch", "")]
    return rows

if __name__ == "__main__":
    if not (mylib_learner and mylib_fp16): raise SystemExit("mylib is not installed")
    torch.manual_seed(0)
    rows = []
    x, y = torch.randn(1024, 3, 32, 32), torch.randint(0, 10, (1024,))
    cpu = {"fp32": lambda l: l, "bf16": lambda l: l.to_bf16(), "fp16": lambda l: l.to_fp16()}
    if "--cuda-only" not in sys.argv: rows += compare("small CNN, CPU, bs 128, 32 px", x, y, small_cnn, 128, None, cpu, repeats=5)
    if torch.cuda.is_available() and tv_models:
        xg, yg = torch.randn(1024, 3, 128, 128), torch.randint(0, 10, (1024,)) # the loader moves each batch to the GPU
        cl = mylib_training.ChannelsLast
        gpu = {"fp32": lambda l: l, "bf16": lambda l: l.to_bf16(), "fp16": lambda l: l.to_fp16(),
               "fp16 + channels_last": lambda l: l.to_fp16().add_cb(cl())}
        rows += compare("ResNet-18, CUDA, bs 64, 128 px", xg, yg, lambda: tv_models.resnet18(num_classes=10), 64, "cuda", gpu, repeats=5)
    else: print("CUDA not available (or torchvision missing): the ResNet-18 comparison is skipped")
    report("Mixed precision: time per training batch, 16-bit autocast vs float32 (ratio = fp32 / mixed: >1 means mixed precision is faster)",
           rows, ours="mixed")
