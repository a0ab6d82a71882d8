"""Everything a tabular user needs, for `from mylib.tabular.all import *` (written by hand, not generated: it only gathers the
layers' exports): `mylib.basics` and every tabular module. Note: the tabular `Normalize` (a proc) shadows the image batch one."""
# At most 3 lines of docstring: a longer one makes `nbdev-export` write a package docstring and `nbs/llms.txt`.
from ..basics import *
from .core import *
from .model import *
from .learner import *
