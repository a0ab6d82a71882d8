"""Optimizer speed: an Adam step on ResNet-18's parameters, and setting hyper-parameters per batch, against torch's and fastai's optimizers."""
import warnings
import torch
from torchvision.models import resnet18
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore", category=FutureWarning)  # fastai's imports warn about torch.jit
fastai_opt = try_import("fastai.optimizer")  # slow import: once, up front
mylib_opt = try_import("mylib.optimizer")

HP = dict(lr=1e-3, mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.01)  # the same Adam for every implementation
TORCH_HP = dict(lr=HP["lr"], betas=(HP["mom"], HP["sqr_mom"]), eps=HP["eps"], weight_decay=HP["wd"])

def model_with_grads():
    "A fresh ResNet-18 (random init, the same each time) whose parameters all have random gradients"
    torch.manual_seed(0)
    model = resnet18()
    for p in model.parameters(): p.grad = torch.randn_like(p)
    return model

def groups(model):
    "Two parameter groups: the body and the final layer"
    head = list(model.fc.parameters())
    return [[p for p in model.parameters() if all(p is not q for q in head)], head]

def optimizers():
    "Implementation name -> an Adam over its own ResNet-18's parameters (with gradients), in two groups (None when not installed)"
    def ps(): return groups(model_with_grads())
    return {"mylib": mylib_opt.Adam(ps(), **HP) if mylib_opt else None,
            "torch AdamW(foreach=True)": torch.optim.AdamW([{"params": g} for g in ps()], foreach=True, **TORCH_HP),
            "torch AdamW(fused=True)": torch.optim.AdamW([{"params": g} for g in ps()], fused=True, **TORCH_HP),
            "mylib OptimWrapper(AdamW, foreach=True)": mylib_opt.OptimWrapper(ps(), torch.optim.AdamW, foreach=True, **HP) if mylib_opt else None,
            "fastai": fastai_opt.Adam(ps(), **HP) if fastai_opt else None}

def set_lr_mom(opt, i):
    "What a one-cycle scheduler does at each batch: set `lr` and `mom` of every group"
    lr, mom = 1e-3 * (1 + i % 7), 0.85 + 0.01 * (i % 5)
    if isinstance(opt, torch.optim.Optimizer):
        for g in opt.param_groups: g["lr"], g["betas"] = lr, (mom, g["betas"][1])
    else: opt.set_hyper("lr", lr); opt.set_hyper("mom", mom)

NOTES = {"torch AdamW(foreach=True)": "goal: ratio >= 0.77 (within 1.3x)", "fastai": "goal: ratio > 1",
         "torch AdamW(fused=True)": "one fused kernel per group", "mylib OptimWrapper(AdamW, foreach=True)": "the wrapper's cost"}

def step_rows(opts):
    "Rows of median seconds per `step()` of each optimizer in `opts`"
    ok = {k: o for k, o in opts.items() if o is not None}
    with torch.no_grad(): times = timeit_many({k: o.step for k, o in ok.items()}, warmup=3, repeats=7, number=3)
    ps = ok["mylib"].all_params(with_grad=True)
    case = f"Adam step, ResNet-18 ({sum(p.numel() for p in ps)/1e6:.1f}M params, {len(ps)} tensors)"
    return [(case, k, times.get(k), "step", NOTES.get(k, "")) for k in opts]

def hyper_rows(opts):
    "Rows of median seconds to set `lr` and `mom` of both groups"
    ok = {k: o for k, o in opts.items() if o is not None}
    counter = iter(range(10**9))
    times = timeit_many({k: (lambda o=o: set_lr_mom(o, next(counter))) for k, o in ok.items()}, warmup=100, repeats=7, number=2000)
    notes = {"torch AdamW(foreach=True)": "a loop over param_groups, by hand"}
    return [("set lr and mom (2 groups)", k, times.get(k), "call", notes.get(k, "")) for k in opts if k != "torch AdamW(fused=True)"]

if __name__ == "__main__":
    opts = optimizers()
    report("Optimizer: Adam on ResNet-18's parameters with random gradients", step_rows(opts) + hyper_rows(opts), ours="mylib")
