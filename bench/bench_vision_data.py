"""A vision loader end to end: JPEG files to augmented, normalized batches, for a classifier and for a detector (padded boxes)."""
import tempfile, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")  # fastai's import warns about deprecations
fastai_all = try_import("fastai.vision.all")  # slow imports: once, up front
mylib_data = try_import("mylib.vision.data")
mylib_aug = try_import("mylib.vision.augment")
from mylib.vision.core import Resize  # noqa: E402
from mylib.vision.shapes import make_shapes  # noqa: E402
from mylib.data.transforms import ColReader, ColSplitter  # noqa: E402
from mylib.data.block import DataBlock  # noqa: E402

N, SIZE, OUT, BS = 512, 128, 96, 64  # images of SIZE px, resized per item to OUT px, batches of BS

def boxes_of(row): return np.array(row.bboxes.split(), dtype=np.float32).reshape(-1, 4)  # fastai's `TensorBBox.create` takes no strings
def labels_of(row): return row.bbox_labels.split()

def ours(path, df, detect):
    "Ours: `ImageDataLoaders.from_df` (classifier) or a `DataBlock` of image, boxes and labels; `Resize` per item, `aug_transforms()` and `Normalize` per batch"
    if not (mylib_data and mylib_aug): return None
    V, A = mylib_data, mylib_aug
    batch_tfms = [*A.aug_transforms(), A.Normalize.from_stats(*A.imagenet_stats)]
    if not detect:
        return V.ImageDataLoaders.from_df(df, path, valid_col='is_valid', item_tfms=Resize(OUT), batch_tfms=batch_tfms, bs=BS, seed=0).train
    dblock = DataBlock(blocks=(V.ImageBlock, V.BBoxBlock, V.BBoxLblBlock), n_inp=1, get_x=ColReader('fname', pref=path),
                         get_y=[ColReader('bboxes'), ColReader('bbox_labels', label_delim=' ')], splitter=ColSplitter(),
                         item_tfms=Resize(OUT), batch_tfms=batch_tfms)
    return dblock.dataloaders(df, bs=BS, seed=0).train

def fastai(path, df, detect):
    "fastai: the same recipe with its `ImageDataLoaders.from_df`, or its `DataBlock` with `BBoxBlock`, `BBoxLblBlock` and `bb_pad`"
    if fastai_all is None: return None
    F = fastai_all
    batch_tfms = [*F.aug_transforms(), F.Normalize.from_stats(*F.imagenet_stats)]
    if not detect:
        return F.ImageDataLoaders.from_df(df, path, valid_col='is_valid', item_tfms=F.Resize(OUT), batch_tfms=batch_tfms, bs=BS, device='cpu').train
    dblock = F.DataBlock(blocks=(F.ImageBlock, F.BBoxBlock, F.BBoxLblBlock), n_inp=1, get_x=F.ColReader('fname', pref=f'{path}/'),
                         get_y=[boxes_of, labels_of], splitter=F.ColSplitter(), item_tfms=F.Resize(OUT), batch_tfms=batch_tfms)
    return dblock.dataloaders(df, bs=BS, device='cpu').train

def epoch(dl):
    "A function running one epoch of `dl` and returning its number of batches"
    def run():
        n = 0
        for _ in dl: n += 1
        return n
    return run

def rows_for(path, df, detect):
    "Rows of median seconds per batch of one training epoch of each implementation"
    case = (f"detector: image + boxes + labels (padded), " if detect else "classifier: image + label, ") + \
           f"{SIZE} px JPEG -> Resize({OUT}) -> aug_transforms + Normalize, bs {BS}, 0 workers"
    dls = {"mylib": ours(path, df, detect), "fastai": fastai(path, df, detect)}
    fns = {k: epoch(dl) for k, dl in dls.items() if dl is not None}
    n_batches = {k: fn() for k, fn in fns.items()}
    times = timeit_many(fns, warmup=1, repeats=3, number=1)
    return [(case, k, times[k] / n_batches[k] if k in fns else None, "batch",
             f"{BS * n_batches[k] / times[k]:,.0f} images/s" if k in fns else "") for k in dls]

if __name__ == "__main__":
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        path = make_shapes(Path(d)/'shapes', n=N, size=SIZE, seed=0, n_objects=(1, 3))
        df = pd.read_csv(path/'labels.csv')
        rows = rows_for(path, df, detect=False) + rows_for(path, df, detect=True)
    report("A vision loader end to end, on the CPU: files to augmented batches", rows, ours="mylib")
