"""Everything a vision user needs, for `from mylib.vision.all import *` (written by hand, not generated: it only gathers the
layers' exports): `mylib.basics` (the mid level, with `Path`, `torch`, `nn`, `F`, `np`), every vision module, and torchvision's
`resnet18`, `resnet34`, `resnet50` (the archs fastai users pass to `vision_learner`). A new user-facing vision module gets a line here."""
# At most 3 lines of docstring: a longer one makes `nbdev-export` write a package docstring and `nbs/llms.txt`.
from torchvision.models import resnet18, resnet34, resnet50
from ..basics import *
from .core import *
from .shapes import *
from .data import *
from .augment import *
from .models.xresnet import *
from .models.unet import *
from .learner import *
from .train import *
from ..deploy import *
from ..deploy_runtime import *
from ..quantize import *
from ..predict import *

del main  # the command lines (`mylib-train`, `mylib-predict`), not a name for a user's namespace
