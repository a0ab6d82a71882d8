"""CPU inference of a vision classifier, as deployed: eager PyTorch against TorchScript, torch.export, ONNX Runtime and int8 (static quantization)."""
import argparse, tempfile, warnings
from pathlib import Path
import torch
from _util import THREADS, report, timeit_many, try_import

warnings.filterwarnings("ignore")
ort = try_import("onnxruntime")

def learner(size, arch):
    "A `vision_learner` over generated shapes images of `size` px (random weights: speed does not depend on them)"
    from mylib.vision.all import ImageDataLoaders, make_shapes, vision_learner, xresnet18, small_cnn, set_seed
    set_seed(0)
    path = make_shapes(Path(tempfile.mkdtemp())/"shapes", n=96, size=size)
    dls = ImageDataLoaders.from_folder(path/"images", valid_pct=0.25, seed=42, bs=32, device="cpu")
    return vision_learner(dls, {"xresnet18": xresnet18, "small_cnn": small_cnn}[arch], pretrained=False)

def runners(learn, folder):
    "Implementation -> a function of a uint8 batch (bs, 3, h, w): each runs the same graph (preprocessing, model, softmax)"
    from mylib.deploy import inference_graph
    from mylib.quantize import quantize_static
    graph = inference_graph(learn)[0].eval()
    res = {"eager": graph}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res["TorchScript"] = torch.jit.load(str(learn.to_torchscript(folder/"model.pt")))
    res["torch.export"] = torch.export.load(str(learn.to_exported(folder/"model.pt2"))).module()
    if ort is not None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = THREADS, 1
        sess = ort.InferenceSession(str(learn.to_onnx(folder/"model.onnx")), opts, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        res["ONNX Runtime"] = lambda x: sess.run(None, {name: x.numpy()})
    else: res["ONNX Runtime"] = None
    qgraph = inference_graph(learn)[0].eval()
    qgraph.model = quantize_static(learn, n_batches=2).model # the same preprocessing and activation, around the int8 model
    res["int8 (eager)"] = qgraph
    with torch.no_grad(): res["int8 TorchScript"] = torch.jit.freeze(torch.jit.trace(qgraph, torch.zeros(2, 3, *learn.dls.one_batch()[0].shape[-2:], dtype=torch.uint8)))
    return res

def call(f, x):
    with torch.inference_mode(): f(x)

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, default=128, help="image size in pixels")
    p.add_argument("--arch", default="xresnet18", choices=["xresnet18", "small_cnn"])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    learn = learner(args.size, args.arch)
    fns = runners(learn, Path(tempfile.mkdtemp()))
    ok = {k: f for k, f in fns.items() if f is not None}
    rows = []
    for bs, number in ((1, 20), (32, 2)):
        x = torch.randint(0, 256, (bs, 3, args.size, args.size), dtype=torch.uint8)
        times = timeit_many({k: (lambda f=f, x=x: call(f, x)) for k, f in ok.items()}, warmup=2, repeats=args.repeats, number=number)
        case = "latency, bs 1" if bs == 1 else "throughput, bs 32"
        for k in fns:
            t = times.get(k)
            if t is None: rows.append((case, k, None, "batch" if bs == 1 else "image")); continue
            note = f"{times['eager'] / t:.2f}x eager's speed" + ("" if bs == 1 else f", {bs / t:,.0f} images/s")
            rows.append((case, k, t / (1 if bs == 1 else bs), "batch" if bs == 1 else "image", note))
    report(f"Deployed vision classifier on the CPU: {args.arch}, {args.size}x{args.size}, uint8 in, probabilities out", rows, ours="eager")
