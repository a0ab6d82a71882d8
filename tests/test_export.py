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


# Every kind of learner the library builds, trained for a moment and exported; a process that never ran the training code
# loads each export and must give bitwise the same predictions: `get_preds` on new items (through `test_dl`), and `predict`.
ALL = '''
import sys, torch, pandas as pd
from functools import partial
from pathlib import Path
from mylib.vision.all import *
from mylib.vision.models.unet import unet_learner
from mylib.vision.gan import GANLearner, basic_generator, basic_critic, gan_dls, wgan_gen_loss, wgan_crit_loss
d = Path(sys.argv[1])
torch.manual_seed(0)
path = make_shapes(d/'shapes', n=48, size=32, seed=0, n_objects=(1, 2))
df = pd.read_csv(path/'labels.csv')
def first_box(row): return row['bboxes'].split()[:4] # a label function of the training script: the loader must trust it
def block(*blocks, get_y, **kw):
    return DataBlock(blocks=(ImageBlock, *blocks), get_x=ColReader('fname', pref=path), get_y=get_y, splitter=ColSplitter('is_valid'), **kw)
codes = ['background', 'circle', 'cross', 'square', 'star']
learners = {
    'classifier': vision_learner(ImageDataLoaders.from_folder(path/'images', valid_pct=0.25, seed=0, bs=8,
                                 batch_tfms=[*aug_transforms(), Normalize.from_stats([0.5]*3, [0.25]*3)]), small_cnn, pretrained=False, metrics=accuracy),
    'multilabel': vision_learner(block(MultiCategoryBlock, get_y=ColReader('bbox_labels', label_delim=' '), batch_tfms=aug_transforms()).dataloaders(df, bs=8),
                                 small_cnn, pretrained=False, metrics=accuracy_multi),
    'segmentation': unet_learner(block(MaskBlock(codes), get_y=ColReader('mask', pref=path)).dataloaders(df, bs=8),
                                 partial(xresnet18, widths=(8, 8, 16, 16)), pretrained=False, metrics=DiceMulti()),
    'points': vision_learner(block(PointBlock, get_y=ColReader('points'), batch_tfms=aug_transforms()).dataloaders(df, bs=8),
                             small_cnn, pretrained=False, n_out=2, y_range=(-1.1, 1.1)),
    'boxes': vision_learner(block(BBoxBlock, get_y=first_box).dataloaders(df, bs=8), small_cnn, pretrained=False, n_out=4,
                            loss_func=BoxLoss(), metrics=mean_box_iou),
    'gan': GANLearner(gan_dls(TensorImage(torch.rand(32, 3, 16, 16) * 2 - 1), noise_size=8, bs=8, seed=0),
                      basic_generator(16, 3, in_sz=8, n_features=8), basic_critic(16, 3, n_features=8), wgan_gen_loss, wgan_crit_loss, show_img=False),
}
noise = torch.randn(4, 8)
expected = {}
for name,learn in learners.items():
    learn.path = d/name
    learn.fit(1, 1e-3)
    learn.export()
    if name == 'gan': expected[name] = {'generated': learn.model.generator.eval()(noise).detach(), 'noise': noise}; continue
    items = sorted((path/'images').rglob('*.jpg'))[:4] if name == 'classifier' else [df.iloc[i] for i in range(4)]
    expected[name] = {'items': items, 'preds': learn.get_preds(dl=learn.dls.test_dl(items))[0], 'predict': [learn.predict(i)[2] for i in items]}
torch.save(expected, d/'expected.pt', pickle_protocol=4)
'''

LOAD_ALL = '''
import sys, torch
from pathlib import Path
from mylib.learner import load_learner
d = Path(sys.argv[1])
def first_box(row): return row['bboxes'].split()[:4] # the same function, trusted by this loader
expected = torch.load(d/'expected.pt', weights_only=False)
for name,exp in expected.items():
    learn = load_learner(d/name/'export.safetensors', trust=[first_box] if name == 'boxes' else [])
    if name == 'gan':
        assert torch.equal(learn.model.generator.eval()(exp['noise']).detach(), exp['generated']), name
        continue
    assert torch.equal(learn.get_preds(dl=learn.dls.test_dl(exp['items']))[0], exp['preds']), name
    for item,p in zip(exp['items'], exp['predict']): assert torch.equal(learn.predict(item)[2], p), name
    print('ok', name)
'''

def test_every_learner_exports_and_predicts_identically_in_a_fresh_process(tmp_path):
    _run(ALL, tmp_path)
    assert _run(LOAD_ALL, tmp_path).count('ok') == 5


# Text: a language model and a classifier, trained for a moment and exported; a fresh process loads each export, with no
# training code, and predicts on raw strings: the classifier's label and probabilities bitwise as before, the language
# model's generated text the same under the same seed.
TEXT = '''
import sys, json, torch, numpy as np, pandas as pd
from pathlib import Path
from mylib.text.all import *
d = Path(sys.argv[1])
torch.manual_seed(0)
acts = {'cat': ['purrs', 'sleeps on the mat'], 'dog': ['barks at the door', 'runs']}
rng = np.random.default_rng(0)
texts = [' '.join(f"The {a} {rng.choice(acts[a])}." for _ in range(3)) for a in rng.choice(list(acts), 80)]
df = pd.DataFrame({'text': texts, 'label': [t.split()[1] for t in texts]})
small = dict(emb_sz=16, n_hid=32, n_layers=2)
lm = language_model_learner(TextDataLoaders.from_df(df, text_col='text', is_lm=True, seed=0, bs=8, seq_len=8, device='cpu'), AWD_LSTM, config=small, path=d)
lm.fit(1)
lm.export('lm.safetensors')
clas = text_classifier_learner(TextDataLoaders.from_df(df, text_col='text', label_col='label', seed=0, bs=8, device='cpu', text_vocab=lm.vocab),
                               AWD_LSTM, config=small, path=d)
clas.fit(1)
clas.export('clas.safetensors')
prompts = ['The dog runs.', 'The cat purrs. The cat', 'A parrot that never appeared!']
res = [clas.predict(p) for p in prompts]
torch.manual_seed(1)
gen = lm.predict('The cat', n_words=6)
json.dump({'prompts': prompts, 'labels': [r[0] for r in res], 'probs': [r[2].tolist() for r in res], 'gen': gen}, open(d/'text.json', 'w'))
'''

TEXT_PREDICT = '''
import sys, json, torch
from pathlib import Path
from mylib.learner import load_learner
d = Path(sys.argv[1])
exp = json.load(open(d/'text.json'))
clas = load_learner(d/'clas.safetensors')
res = [clas.predict(p) for p in exp['prompts']]
assert [r[0] for r in res] == exp['labels'], ([r[0] for r in res], exp['labels'])
assert [r[2].tolist() for r in res] == exp['probs']
lm = load_learner(d/'lm.safetensors')
torch.manual_seed(1)
assert lm.predict('The cat', n_words=6) == exp['gen']
print('ok', type(clas).__name__, type(lm).__name__)
'''

def test_text_learners_export_and_predict_raw_strings_in_a_fresh_process(tmp_path):
    _run(TEXT, tmp_path)
    assert _run(TEXT_PREDICT, tmp_path).startswith('ok TextLearner LMLearner')
