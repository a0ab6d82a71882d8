"Saved and exported learners, loaded back in processes that never ran the training code."
import subprocess, sys, textwrap

BUILD = '''
import sys, torch
from pathlib import Path
from torch import nn
from mylib.vision.shapes import make_shapes
from mylib.vision.data import ImageDataLoaders
from mylib.vision.augment import aug_transforms
from mylib.data.transforms import Normalize
from mylib.learner import Learner
from mylib.metrics import accuracy
d = Path(sys.argv[1])
torch.manual_seed(0)
path = make_shapes(d/'shapes', n=80, size=32, seed=0)
dls = ImageDataLoaders.from_folder(path/'images', valid_pct=0.25, seed=0, bs=16,
                                   batch_tfms=[*aug_transforms(), Normalize.from_stats([0.5]*3, [0.25]*3)])
model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, dls.c))
learn = Learner(dls, model, metrics=accuracy, path=d)
'''

TRAIN = BUILD + '''
learn.fit(1)
learn.export()
learn.save('ckpt')
files = sorted((path/'images').rglob('*.jpg'))[:6]
res = [learn.predict(f) for f in files]
preds,targs = learn.get_preds()
torch.save({'files': [str(f) for f in files], 'labels': [str(r[0]) for r in res], 'idxs': torch.stack([r[1] for r in res]),
            'probs': torch.stack([r[2] for r in res]), 'valid': preds}, d/'expected.pt')
'''

RELOAD = BUILD + '''
learn.load('ckpt')
exp = torch.load(d/'expected.pt')
assert torch.equal(learn.get_preds()[0], exp['valid'])
'''

PREDICT = '''
import sys, torch
from pathlib import Path
from mylib.learner import load_learner
d = Path(sys.argv[1])
exp = torch.load(d/'expected.pt')
learn = load_learner(d/'export.safetensors')
res = [learn.predict(f) for f in exp['files']]
assert [str(r[0]) for r in res] == exp['labels'], ([r[0] for r in res], exp['labels'])
assert torch.equal(torch.stack([r[1] for r in res]), exp['idxs'])
assert torch.equal(torch.stack([r[2] for r in res]), exp['probs'])
print('ok', res[0][0])
'''

def _run(code, d):
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code), str(d)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout

def test_save_load_and_export_round_trip_in_fresh_processes(tmp_path):
    _run(TRAIN, tmp_path)
    _run(RELOAD, tmp_path) # same code, new process: `load` restores the exact weights
    assert _run(PREDICT, tmp_path).startswith('ok') # no training code at all: the export alone predicts identically
