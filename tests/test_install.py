"Packaging checks: the package builds, installs its modules, and imports lean."
import subprocess, sys, zipfile, importlib
import mylib

def modules(root):
    return sorted(p.stem for p in (root/'mylib').glob('*.py') if not p.stem.startswith('_'))

def test_version_matches_pyproject(root):
    assert mylib.__version__
    assert 'dynamic = ["version"]' in (root/"pyproject.toml").read_text()

def test_every_module_has_all_and_imports(root):
    for m in modules(root):
        mod = importlib.import_module(f'mylib.{m}')
        assert mod.__all__, m
        for name in mod.__all__: assert hasattr(mod, name), f'mylib.{m}.{name}'

def test_wheel_contains_the_package(root, tmp_path):
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path), str(root)], check=True)
    whl, = tmp_path.glob('mylib-*.whl')
    names = zipfile.ZipFile(whl).namelist()
    for m in modules(root): assert f'mylib/{m}.py' in names
    assert 'mylib/_modidx.py' in names
    ep = next(n for n in names if n.endswith('entry_points.txt'))
    assert 'mylib._modidx:d' in zipfile.ZipFile(whl).read(ep).decode()

def test_import_is_lean():
    "The foundation imports no plotting or vision library until something is drawn or converted."
    code = ("import sys, mylib.torch_core, mylib.dispatch, mylib.transform; "
            "print(' '.join(m for m in ('matplotlib', 'torchvision', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == '', f'imported at import time: {out}'

def test_readme_is_the_index_notebook(root):
    "README.md and nbs/index.ipynb say the same thing (until the docs build generates one from the other)."
    import json
    cells = json.loads((root/'nbs'/'index.ipynb').read_text())['cells']
    md = '\n\n'.join(''.join(c['source']).strip() for c in cells if c['cell_type'] == 'markdown')  # as tools/readme.py joins them
    assert md.strip() == (root/'README.md').read_text().strip()

def test_ci_workflow_runs_the_ci_script(root):
    "GitHub's workflow runs the steps `.ci/run` runs, browser included, by running it: its only command is `bash .ci/run`."
    wf = (root/'.github'/'workflows'/'test.yaml').read_text()
    runs = [l.split('run:', 1)[1].strip() for l in wf.splitlines() if l.strip().startswith(('run:', '- run:'))]
    assert runs == ['bash .ci/run'], runs
    ci = (root/'.ci'/'run').read_text()
    assert 'MYLIB_REQUIRE_BROWSER=1' in ci and 'pip install -e ".[dev]"' in ci and 'bash tools/test.sh' in ci

# Star-import modules: what `from mylib.basics import *` and `from mylib.vision.all import *` give a user
STAR = '''
import importlib, json, pkgutil, sys, mylib
b, v, t, tab = {}, {}, {}, {}
exec('from mylib.basics import *', b)
exec('from mylib.vision.all import *', v)
exec('from mylib.text.all import *', t)
exec('from mylib.tabular.all import *', tab)
alls = {m.name: importlib.import_module(m.name).__all__ for m in pkgutil.walk_packages(mylib.__path__, 'mylib.')
        if hasattr(importlib.import_module(m.name), '__all__')}
import torchvision.models as tvm
print(json.dumps(dict(basics=sorted(k for k in b if k != '__builtins__'), vision=sorted(k for k in v if k != '__builtins__'),
                      text=sorted(k for k in t if k != '__builtins__'), tabular=sorted(k for k in tab if k != '__builtins__'), alls=alls,
                      tv=[v[n] is getattr(tvm, n) for n in ('resnet18', 'resnet34', 'resnet50')],
                      heavy=[m for m in ('tensorboard', 'torch.utils.tensorboard', 'sklearn') if m in sys.modules])))
'''
FIXTURES = {'synth_dls', 'RegModel'}  # test fixtures, in `mylib.test_utils`: never star-imported
NOT_BASICS = {'mylib.serialize', 'mylib.test_utils', 'mylib.collab'}  # and `from mylib.collab import *` is its own star import, as fastai's  # generic names (`register`, `get_config`, `builder`): `from mylib.serialize import ...`
NOT_VISION = {'mylib.vision.gan'}  # as fastai's vision.all: `from mylib.vision.gan import *`

def test_star_imports_give_a_users_names(python):
    import json
    r = json.loads(subprocess.run([python, '-c', STAR], capture_output=True, text=True, check=True).stdout)
    basics,vision,text,tabular,alls = set(r['basics']),set(r['vision']),set(r['text']),set(r['tabular']),r['alls']
    assert {'Learner', 'DataLoaders', 'DataBlock', 'Datasets', 'Transform', 'Pipeline', 'TensorImage', 'typedispatch', 'Adam', 'SGD',
            'accuracy', 'error_rate', 'CrossEntropyLossFlat', 'ConvLayer', 'Callback', 'SaveModelCallback', 'MixedPrecision', 'MixUp',
            'Checkpoint', 'ClassificationInterpretation', 'load_learner', 'Path', 'torch', 'nn', 'F', 'np'} <= basics
    assert not {'vision_learner', 'ImageDataLoaders', 'resnet18'} & basics  # no application in the mid level
    assert basics <= vision and {'vision_learner', 'unet_learner', 'ImageDataLoaders', 'aug_transforms', 'make_shapes', 'xresnet18',
                                 'resnet18', 'resnet34', 'resnet50', 'Path'} <= vision
    assert r['tv'] == [True] * 3  # torchvision's own builders, which `vision_learner` knows
    assert not (FIXTURES | {'main'}) & (vision | basics), 'test fixtures and the command line are no user names'
    assert r['heavy'] == [], f'imported eagerly: {r["heavy"]}'
    assert basics <= text and {'TextDataLoaders', 'TextBlock', 'language_model_learner', 'text_classifier_learner', 'AWD_LSTM',
                               'Tokenizer', 'Numericalize', 'tokenize_df', 'Perplexity', 'ModelResetter'} <= text
    assert not {'TextDataLoaders', 'AWD_LSTM'} & (basics | vision)
    assert {'TabularPandas', 'tabular_learner', 'Categorify', 'FillMissing'} <= tabular
    apps = {'mylib.vision.': vision, 'mylib.text.': text, 'mylib.tabular.': tabular} # each application's modules go to its `all`, the rest to basics
    serving = ('mylib.deploy', 'mylib.quantize', 'mylib.predict') # deployment serves every application: in each `all`
    for m,names in alls.items():  # every layer's names are there: a new module gets its line in basics.py or its application's all.py
        if m in NOT_BASICS | NOT_VISION: continue
        where = vision & text & tabular if m.startswith(serving) else next((v for k,v in apps.items() if m.startswith(k)), basics)
        missing = set(names) - where - FIXTURES - {'main'}
        assert not missing, f'{m}: {sorted(missing)} not star-imported (add the module to mylib/basics.py or its application\'s all.py)'

def test_hand_written_modules_stay_out_of_nbdevs_way(root):
    "nbdev-export writes a package docstring and nbs/llms.txt once a module's docstring is over 3 lines: the sync check would fail"
    import ast
    for f in ('mylib/basics.py', 'mylib/vision/all.py', 'mylib/text/all.py', 'mylib/tabular/all.py'):
        assert len(ast.get_docstring(ast.parse((root/f).read_text())).strip().splitlines()) <= 3, f
