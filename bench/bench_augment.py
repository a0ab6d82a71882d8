"""Batch augmentation throughput: our merged `aug_transforms()` against fastai's, kornia's `AugmentationSequential` and torchvision v2 per sample."""
import argparse, warnings
import torch
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")  # fastai's and kornia's imports warn about deprecations
fastai_aug = try_import("fastai.vision.augment")  # slow imports: once, up front; it also exports fastai's Pipeline and TensorImage
kornia_aug = try_import("kornia.augmentation")
mylib_aug = try_import("mylib.vision.augment")
mylib_tfm = try_import("mylib.transform")
from torchvision.transforms import v2

BS, C, H, W = 64, 3, 128, 128
CASES = {"flip, rotate, zoom, warp, brightness, contrast": dict(sat=0., hue=0.),
         "the same + saturation, hue": dict(sat=0.2, hue=0.1)}  # the peers get the same magnitudes and probabilities

def ours(x, sat, hue):
    "Our default set (one resample, one lighting pass) as a training `Pipeline`"
    if not (mylib_aug and mylib_tfm): return None
    pipe, xb = mylib_tfm.Pipeline(mylib_aug.aug_transforms(max_saturation=sat, max_hue=hue), split_idx=0), mylib_aug.TensorImage(x)
    return lambda: pipe(xb)

def fastai(x, sat, hue):
    "fastai's `aug_transforms()` (it merges its affine and its lighting transforms too), with its `Saturation` and `Hue` when asked"
    if fastai_aug is None: return None
    xtra = [fastai_aug.Saturation(sat), fastai_aug.Hue(hue)] if sat else None
    pipe, xb = fastai_aug.Pipeline(fastai_aug.aug_transforms(xtra_tfms=xtra), split_idx=0), fastai_aug.TensorImage(x)
    return lambda: pipe(xb)

def kornia(x, sat, hue):
    "kornia's `AugmentationSequential` with the closest transforms: affine (rotate and zoom), perspective, colour jitter"
    if kornia_aug is None: return None
    K = kornia_aug
    aug = K.AugmentationSequential(K.RandomHorizontalFlip(p=0.5),
                                   K.RandomAffine(degrees=10., scale=(1., 1.1), padding_mode="reflection", p=0.75),
                                   K.RandomPerspective(0.2, p=0.75),
                                   K.ColorJitter(brightness=0.2, contrast=0.2, saturation=sat, hue=hue, p=0.75))
    return lambda: aug(x)

def torchvision(x, sat, hue):
    "torchvision v2 with the same transforms, applied to each image in turn (its random parameters are per call)"
    bil = v2.InterpolationMode.BILINEAR
    per = v2.Compose([v2.RandomHorizontalFlip(0.5),
                      v2.RandomApply([v2.RandomAffine(degrees=10., scale=(1., 1.1), interpolation=bil)], p=0.75),
                      v2.RandomPerspective(0.2, p=0.75, interpolation=bil),
                      v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=sat, hue=hue)], p=0.75)])
    return lambda: torch.stack([per(im) for im in x])

def synced(fn, device):
    "`fn`, waiting for the device to finish its work, so that the time is the work's, not the launch's"
    if fn is None or device.type != "cuda": return fn
    def run(): fn(); torch.cuda.synchronize(device)
    return run

def rows_for(case, device):
    "Rows of median seconds per image of each implementation on a `BS`x`C`x`H`x`W` batch on `device`"
    x = torch.rand(BS, C, H, W, device=device)
    fns = {k: synced(f(x, **CASES[case]), device) for k,f in (("mylib", ours), ("fastai", fastai), ("kornia", kornia), ("torchvision v2, per sample", torchvision))}
    ok = {k: fn for k,fn in fns.items() if fn is not None}
    times = timeit_many(ok, warmup=2, repeats=7, number=3)
    return [(case, k, times[k]/BS if k in ok else None, "image", f"{BS/times[k]:,.0f} images/s" if k in ok else "") for k in fns]

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cpu", help="where the batch is and the augmentation runs: cpu, cuda, cuda:1, ...")
    device = torch.device(p.parse_args().device)
    torch.manual_seed(0)
    rows = [row for case in CASES for row in rows_for(case, device)]
    report(f"Batch augmentation, {BS}x{C}x{H}x{W} float images on {device.type}, training mode", rows, ours="mylib",
           name=f"bench_augment_{device.type}")
