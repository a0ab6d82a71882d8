"""Per-item cost of reading a JPEG and bringing it to the training size: open, crop/resize (and flip), to a uint8 tensor."""
import io, tempfile, warnings
from pathlib import Path
import numpy as np
import torch
from PIL import Image
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")  # fastai's import warns about deprecations
fastai_vision = try_import("fastai.vision.core")  # slow imports: once, up front
fastai_aug = try_import("fastai.vision.augment")
fastai_tfms = try_import("fastai.data.transforms")
mylib_vision = try_import("mylib.vision.core")
mylib_data = try_import("mylib.data.transforms")
from torchvision import io as tvio
from torchvision.transforms import v2
import torchvision.transforms.v2.functional as TF

SIZES = {"500x375 (ImageNet-like)": (500, 375), "2000x1500 (a phone photo)": (2000, 1500)}
OUT = 224  # the training size
N_FILES = 8  # files cycled through, so no single file sits in a cache

def photo(w, h, seed):
    "A (h, w, 3) uint8 array with a photo's mix of smooth regions, edges and fine texture, so JPEG sizes are realistic"
    rng = np.random.default_rng(seed)
    low = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    mid = Image.fromarray(rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)).resize((w, h), Image.BILINEAR)
    a = np.asarray(low, dtype=np.float32) * 0.7 + np.asarray(mid, dtype=np.float32) * 0.3 + rng.normal(0, 6, (h, w, 3))
    return a.clip(0, 255).astype(np.uint8)

def write_files(folder, w, h):
    "`N_FILES` JPEGs of (w, h) at quality 90"
    fns = []
    for i in range(N_FILES):
        fn = folder/f"{w}x{h}_{i}.jpg"
        Image.fromarray(photo(w, h, i)).save(fn, quality=90)
        fns.append(fn)
    return fns

def cycling(fns, f):
    "A no-argument function calling `f` on the next file each time"
    it = iter(range(10**9))
    return lambda: f(fns[next(it) % len(fns)])

def mylib_fns(train):
    "Ours: `PILImage.create` (lazy), then `Resize` (centre crop; the JPEG decoded at reduced size) or `RandomResizedCrop` + `FlipItem`, then `ToTensor`"
    if not mylib_vision: return None, None
    V, tt = mylib_vision, mylib_data.ToTensor()
    tfms = [V.RandomResizedCrop(OUT), V.FlipItem()] if train else [V.Resize(OUT)]
    def item(fn, eager):
        x = V.PILImage.create(fn)
        if eager: x.load()  # decode at full size first: what happens without drafting
        for t in tfms: x = t(x, split_idx=0 if train else 1)
        return tt(x)
    return (lambda fn: item(fn, False)), (lambda fn: item(fn, True))

def fastai_fn(train):
    "fastai: `PILImage.create`, then its `Resize` or `RandomResizedCrop` + `FlipItem`, then `ToTensor`"
    if not fastai_vision: return None
    tt = fastai_tfms.ToTensor()
    tfms = [fastai_aug.RandomResizedCrop(OUT), fastai_aug.FlipItem()] if train else [fastai_aug.Resize(OUT)]
    def item(fn):
        x = fastai_vision.PILImage.create(fn)
        for t in tfms: x = t(x, split_idx=0 if train else 1)
        return tt(x)
    return item

def tv_pil_fn(train):
    "torchvision v2 on PIL: `Image.open` + convert, then `Resize` + `CenterCrop` or `RandomResizedCrop` + flip, then `PILToTensor`"
    tfm = v2.Compose([v2.RandomResizedCrop(OUT), v2.RandomHorizontalFlip()] if train else [v2.Resize(OUT), v2.CenterCrop(OUT)])
    to_t = v2.PILToTensor()
    return lambda fn: to_t(tfm(Image.open(fn).convert("RGB")))

def tv_tensor_fn(train):
    "torchvision on tensors: `decode_jpeg` (libjpeg-turbo, full size), then the same v2 transforms on the uint8 tensor"
    tfm = v2.Compose([v2.RandomResizedCrop(OUT), v2.RandomHorizontalFlip()] if train else [v2.Resize(OUT), v2.CenterCrop(OUT)])
    return lambda fn: tfm(tvio.decode_jpeg(tvio.read_file(str(fn))))

def rows_for(size_name, fns, train):
    "Rows of median seconds per item for every implementation on the files `fns`"
    case = f"{size_name}, {'train: random resized crop + flip' if train else 'valid: resize + centre crop'}"
    ours, ours_eager = mylib_fns(train)
    impls = {"mylib": ours, "mylib, decoded at full size (no draft)": ours_eager, "fastai": fastai_fn(train),
             "torchvision v2 (PIL)": tv_pil_fn(train), "torchvision v2 (decode_jpeg, tensors)": tv_tensor_fn(train)}
    ok = {k: cycling(fns, f) for k, f in impls.items() if f is not None}
    times = timeit_many(ok, warmup=N_FILES, repeats=5, number=2 * N_FILES)
    return [(case, k, times[k] if k in ok else None, "item", f"{1/times[k]:,.0f} items/s" if k in ok else "") for k in impls]

if __name__ == "__main__":
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        rows = []
        for name, (w, h) in SIZES.items():
            fns = write_files(Path(d), w, h)
            for train in (False, True): rows += rows_for(name, fns, train)
    report(f"Reading a JPEG to a {OUT}x{OUT} uint8 tensor, one item at a time (what a loader worker does)", rows, ours="mylib")
