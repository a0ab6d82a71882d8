"What notebooks cannot check well: objects crossing process boundaries, as DataLoader workers need."
import multiprocessing as mp, pickle
import torch
from mylib.torch_core import TensorImage, TensorPoint
from mylib.transform import Pipeline, Transform
from tfms_for_tests import Double, make_pipe

def describe(o):
    "Runs in a worker: report the type and metadata the worker received."
    return type(o).__name__, getattr(o, 'img_size', None), o.sum().item()

def run_pipe(args):
    pipe, x = args
    y = pipe(x)
    return type(y).__name__, y.tolist()

def test_semantic_tensors_cross_processes():
    pts = TensorPoint(torch.tensor([[1., 2.], [3., 4.]]), img_size=(20, 30))
    with mp.get_context('spawn').Pool(1) as pool:
        assert pool.map(describe, [pts]) == [('TensorPoint', (20, 30), 10.0)]

def test_pipeline_runs_in_worker_processes():
    pipe = make_pipe()
    x = TensorImage(torch.ones(1, 1, 2))
    with mp.get_context('spawn').Pool(2) as pool:
        res = pool.map(run_pipe, [(pipe, x)] * 4)
    assert res == [('TensorImage', [[[3.0, 3.0]]])] * 4
    assert run_pipe((pipe, x)) == res[0]
