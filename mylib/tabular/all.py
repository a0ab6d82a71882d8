"""Everything a tabular user needs, for `from mylib.tabular.all import *` (written by hand, not generated: it only gathers the
layers' exports): `mylib.basics`, every tabular module and deployment (exports, int8, batch prediction).
Note: the tabular `Normalize` (a proc) shadows the image batch one."""
# At most 3 lines of docstring: a longer one makes `nbdev-export` write a package docstring and `nbs/llms.txt`.
from ..basics import *
from .core import *
from .model import *
from .learner import *
from ..deploy import *
from ..deploy_runtime import *
from ..quantize import *
from ..predict import *

del main  # `mylib-predict`'s command line, not a name for a user's namespace
