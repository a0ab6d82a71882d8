"""The cost of type retention: per-op overhead of semantic tensor subclasses over a plain `torch.Tensor`."""
from functools import partial
import torch
from torchvision import tv_tensors
from _util import report, timeit_many, try_import

fastai_core = try_import("fastai.torch_core")  # slow import: once, up front
mylib_core = try_import("mylib.torch_core")

def typed(img):
    "Implementation name -> `img` as that implementation's image type (None when not installed)"
    return {"torch": img,  # the floor
            "mylib": mylib_core.TensorImage(img.clone()) if mylib_core else None,
            "fastai": fastai_core.TensorImage(img.clone()) if fastai_core else None,
            "torchvision": tv_tensors.Image(img.clone())}

CASES = {"x*2+1 (2 ops)": (lambda x: x*2+1, 2),  # (op, number of torch ops in it)
         "cat([x,x]) (1 op)": (lambda x: torch.cat([x, x]), 1)}

def rows_for(case, xs):
    "Rows of median seconds per op of `case` for each typed tensor in `xs`, noting when a type is lost"
    op, n_ops = CASES[case]
    ok = {k: x for k,x in xs.items() if x is not None}
    times = timeit_many({k: partial(op, x) for k,x in ok.items()}, warmup=50, repeats=15, number=300)
    lost = {k: f"type lost: {type(op(x)).__name__}" for k,x in ok.items() if type(op(x)) is not type(x)}
    return [(case, k, times[k]/n_ops if k in ok else None, "op", lost.get(k, "")) for k in xs]

if __name__ == "__main__":
    img = torch.rand(3, 64, 64)  # (c, h, w) float image, shared by every implementation
    with tv_tensors.set_return_type("TVTensor"):  # tv_tensors keep their type through ops only in this mode; restored on exit
        rows = [row for case in CASES for row in rows_for(case, typed(img))]
    report("Type retention: overhead per op on a 3x64x64 image", rows, ours="mylib", base="torch")
