"""Batch inference over 2,000 generated JPEGs: `predict_files` (a learner, 0 and 2 workers; its ONNX artifact, 0 and 2 decoding threads) against a loop of `learn.predict` (and of `InferenceModel.predict`)."""
import argparse, statistics, tempfile, time, warnings
from pathlib import Path
from _util import report, THREADS  # noqa: F401 (sets torch's threads)
from mylib.vision.all import set_seed, make_shapes, ImageDataLoaders, Resize, vision_learner, small_cnn, get_image_files
from mylib.deploy_runtime import InferenceModel
from mylib.predict import predict_files
import mylib.deploy # noqa: F401 (`to_onnx`)

warnings.filterwarnings("ignore")
SIZE, IMG, BS = 48, 64, 64 # model input size, JPEG size, batch size

def learner(folder, tmp):
    "A small CNN classifier of the shapes, trained for one epoch (its accuracy does not change the timings)"
    dls = ImageDataLoaders.from_folder(folder, valid_pct=0.2, seed=0, bs=BS, device='cpu', item_tfms=Resize(SIZE))
    learn = vision_learner(dls, small_cnn, pretrained=False, lin_ftrs=[], ps=0., path=tmp)
    learn.logger = lambda *a: None
    with learn.no_bar(): learn.fit(1)
    return learn

def timed(fn):
    t0 = time.perf_counter(); res = fn()
    return time.perf_counter() - t0, res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--n', type=int, default=2000, help="images (default 2,000)")
    ap.add_argument('--repeats', type=int, default=3, help="interleaved runs; the median is reported (default 3)")
    ap.add_argument('--loop-n', type=int, default=None, help="images for the `learn.predict` loop (default all; per image either way)")
    a = ap.parse_args()
    set_seed(0)
    tmp = Path(tempfile.mkdtemp())
    path = make_shapes(tmp/'shapes', n=a.n, size=IMG)
    files = sorted(get_image_files(path/'images'))
    learn = learner(path/'images', tmp)
    model = InferenceModel.load(learn.to_onnx('m.onnx'))
    loop_files = files[:a.loop_n or len(files)]
    fns = {
        'learn.predict loop': (len(loop_files), lambda: [learn.predict(f) for f in loop_files]),
        'mylib predict_files, 0 workers': (len(files), lambda: learn.predict_files(files, bs=BS, progress=False)),
        'predict_files, 2 workers': (len(files), lambda: learn.predict_files(files, bs=BS, num_workers=2, progress=False)),
        'InferenceModel.predict loop (ONNX)': (len(loop_files), lambda: [model.predict(f) for f in loop_files]),
        'predict_files(InferenceModel), 0 threads': (len(files), lambda: predict_files(model, files, bs=BS, progress=False)),
        'predict_files(InferenceModel), 2 threads': (len(files), lambda: predict_files(model, files, bs=BS, num_workers=2, progress=False)),
    }
    for n, fn in fns.values(): fn() if n <= 200 else None # warm up the cheap ones (imports, first allocations)
    learn.predict(files[0]); model.predict(files[0])
    times, res = {k: [] for k in fns}, {}
    for _ in range(a.repeats):
        for k, (n, fn) in fns.items():
            t, res[k] = timed(fn)
            times[k].append(t / n)
    want = [r[0] for r in res['learn.predict loop']]
    agree = {k: sum(a == b for a, b in zip(want, [r.pred if hasattr(r, 'pred') else r[0] for r in v])) for k, v in res.items()}
    case = f'{a.n} JPEGs of {IMG} px, small_cnn at {SIZE} px'
    rows = [(case, k, statistics.median(ts), 'image', f"{agree[k]}/{len(want)} labels as learn.predict") for k, ts in times.items()]
    report('predict_files against a loop of learn.predict (goal: the loop >= 10x slower per image)', rows, ours='mylib predict_files, 0 workers')
