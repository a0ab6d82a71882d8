"""The mid level without an application, for `from mylib.basics import *`, as fastai's `fastai.basics`, with `Path`, `torch`,
`nn`, `F`, `np`; test fixtures left out (written by hand, not generated: it only gathers the layers' exports)"""
# At most 3 lines of docstring: a longer one makes `nbdev-export` write a package docstring and `nbs/llms.txt`.
from pathlib import Path
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
from .torch_core import *
from .dispatch import *
from .transform import *
from .data.load import *
from .data.core import *
from .data.transforms import *
from .data.block import *
from .data.external import *
from .losses import *
from .layers import *
from .optimizer import *
from .callback.core import *
from .learner import *
from .metrics import *
from .callback.schedule import *
from .callback.tracker import *
from .callback.progress import *
from .callback.hook import *
from .callback.fp16 import *
from .callback.training import *
from .callback.checkpoint import *
from .callback.mixup import *
from .callback.compile import *
from .callback.tensorboard import *
from .callback.rnn import *
from .distributed import *
from .interpret import *

__all__ = [k for k in globals() if not k.startswith('_')]  # every name above, for `import *` and the tools that read `__all__`
