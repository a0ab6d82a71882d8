"Module-level transforms, so worker processes can unpickle them."
from mylib.torch_core import TensorImage
from mylib.transform import Pipeline, Transform

class Double(Transform):
    def encodes(self, x: TensorImage): return x * 2

def add_one(x: TensorImage): return x + 1

def make_pipe(): return Pipeline([Double(), Transform(add_one, order=1)])
