"""Everything a text user needs, for `from mylib.text.all import *` (written by hand, not generated: it only gathers the
layers' exports): `mylib.basics` (the mid level, with `Path`, `torch`, `nn`, `F`, `np`) and every text module (tokenization,
loaders, AWD-LSTM and transformer models, learners) and deployment (exports, int8, batch prediction). A new text module gets a line here."""
# At most 3 lines of docstring: a longer one makes `nbdev-export` write a package docstring and `nbs/llms.txt`.
from ..basics import *
from .core import *
from .data import *
from .models.awdlstm import *
from .models.core import *
from .learner import *
from ..deploy import *
from ..deploy_runtime import *
from ..quantize import *
from ..predict import *

del main  # `mylib-predict`'s command line, not a name for a user's namespace
