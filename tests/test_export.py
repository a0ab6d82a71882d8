"Saved and exported learners, loaded back in processes that never ran the training code."
import subprocess, sys, textwrap
import pytest

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


# What a language model learner gives, for the artifacts to match: the next token's probabilities (its model on a prompt's
# ids after `reset()`) decoded to the likeliest token, and its greedy continuation (`LMLearner.predict(greedy=True)`).
LM_EXPECT = '''
from mylib.deploy_runtime import InferenceModel
def lm_predict(learn, prompt):
    pipe = learn.dls.train.dataset.tls[0].tfms
    learn.model.eval(); learn.model.reset()
    with torch.no_grad(): p = learn.model(pipe(prompt).as_subclass(torch.Tensor)[None])[0, -1].softmax(-1)
    return learn.vocab[int(p.argmax())], p.argmax(), p
def lm_expected(learn, name, prompts, n=8):
    "Greedy texts of the learner, and drawn texts (a seed) of the torch.export artifact, for every format to repeat"
    m = InferenceModel.load(d/f'{name}.pt2')
    return {'greedy': [[p, n, str(learn.predict(p, n, greedy=True))] for p in prompts], 'drawn': [[p, n, 3, m.generate(p, n, seed=3)] for p in prompts]}
'''

# Inference artifacts (`mylib.deploy`) of every application but vision (whose notebook runs it): a table's classifier and
# multi-label model, a collaborative filter and text classifiers (word and SentencePiece tokens) are exported to ONNX, TorchScript and torch.export; a fresh
# process where neither mylib nor torch can be imported loads the ONNX files with the runtime file alone (by path, as a copied
# file) and must predict on raw items what `learn.predict` did; another, without mylib, does the same with the torch formats.
# Language models (word and SentencePiece tokens) too: the next token's probabilities, greedy texts equal to the learner's
# own greedy loop, and texts drawn with a seed equal in every format and process.
DEPLOY = '''
import sys, json, math, torch, numpy as np, pandas as pd
from pathlib import Path
from mylib.tabular.all import TabularDataLoaders, tabular_learner, synth_adult
from mylib.tabular.core import Categorify, FillMissing, Normalize
from mylib.data.block import MultiCategoryBlock
from mylib.collab import CollabDataLoaders, collab_learner, synth_ratings
from mylib.text.all import TextDataLoaders, text_classifier_learner, language_model_learner, LMLearner, AWD_LSTM, Tokenizer, SentencePieceTokenizer
import mylib.deploy
d = Path(sys.argv[1])
''' + LM_EXPECT + '''
torch.manual_seed(0)
df = synth_adult(200, seed=1)
df['rich'], df['old'] = df['income'] == '>50K', df['age'] > 45
cats, conts = ['workclass', 'education', 'sex'], ['age', 'capital-gain']
def tab(y, **kw):
    dls = TabularDataLoaders.from_df(df, procs=[Categorify, FillMissing, Normalize], cat_names=cats, cont_names=conts, y_names=y, seed=0, bs=32, device='cpu', **kw)
    return tabular_learner(dls, layers=[8], path=d)
rows = [df.iloc[i].to_dict() for i in range(3)] + [{'workclass': 'Pilot', 'education': None, 'sex': 'Male', 'age': None, 'capital-gain': '12'}]
rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, 'item') else v) for k,v in r.items()} for r in rows] # JSON
ratings = synth_ratings(20, 10, seed=0)
pairs = [{'user': int(u), 'item': i} for u,i in ratings[['user', 'item']].values[:3]]
rng = np.random.default_rng(0)
acts = {'cat': ['purrs', 'sleeps on the mat'], 'dog': ['barks at the door', 'runs']}
texts = [' '.join(f"The {a} {rng.choice(acts[a])}." for _ in range(rng.integers(1, 5))) for a in rng.choice(list(acts), 40)]
tdf = pd.DataFrame({'text': texts, 'label': [t.split()[1] for t in texts]})
docs = ['The dog runs.', 'A CAT!!!! purrs &amp; sleeps. ' * 6, '']
learners = {'income': (tab('income'), rows), 'flags': (tab(['rich', 'old'], y_block=MultiCategoryBlock), rows),
            'ratings': (collab_learner(CollabDataLoaders.from_df(ratings, seed=0, bs=16, device='cpu'), n_factors=3, y_range=(0, 5.5), path=d), pairs),
            'texts': (text_classifier_learner(TextDataLoaders.from_df(tdf, text_col='text', label_col='label', seed=0, bs=8, device='cpu'), AWD_LSTM,
                                              config=dict(emb_sz=8, n_hid=16, n_layers=2), seq_len=5, max_len=8, path=d), docs),
            'pieces': (text_classifier_learner(TextDataLoaders.from_df(tdf, text_col='text', label_col='label', seed=0, bs=8, device='cpu',
                                                                       tok_tfm=Tokenizer(SentencePieceTokenizer(vocab_sz=60), text_cols='text')), AWD_LSTM,
                                               config=dict(emb_sz=8, n_hid=16, n_layers=1), seq_len=5, max_len=8, path=d), docs)}
def lm(**kw): return language_model_learner(TextDataLoaders.from_df(tdf[['text']], text_col='text', is_lm=True, seed=0, bs=8, seq_len=8, device='cpu', **kw),
                                            AWD_LSTM, config=dict(emb_sz=8, n_hid=16, n_layers=2), path=d)
prompts = ['The dog', 'A CAT!!!! purrs &amp; sleeps. ' * 3, 'xxpad the cat']
learners.update(lm=(lm(), prompts), lm_pieces=(lm(tok_tfm=Tokenizer(SentencePieceTokenizer(vocab_sz=60), text_cols='text')), prompts))
plain = lambda o: o.tolist() if hasattr(o, 'tolist') else [plain(v) for v in o] if isinstance(o, list) else o
expected = {}
for name,(learn,items) in learners.items():
    learn.logger = lambda *a: None
    learn.fit(1)
    for f in (learn.to_onnx, learn.to_torchscript, learn.to_exported): f(name + {'to_onnx': '.onnx', 'to_torchscript': '.pt', 'to_exported': '.pt2'}[f.__name__])
    lm_ = isinstance(learn, LMLearner)
    preds = [lm_predict(learn, o) if lm_ else learn.predict(o) for o in items]
    expected[name] = {'items': items, 'decoded': [plain(p[0]) for p in preds], 'probs': [p[2].tolist() for p in preds], **(lm_expected(learn, name, items) if lm_ else {})}
json.dump(expected, open(d/'deploy.json', 'w'))
'''

RUN_ARTIFACTS = '''
import sys, json, importlib.util
import numpy as np
sys.modules['mylib'] = None # mylib cannot be imported
if sys.argv[3] == 'onnx': sys.modules['torch'] = None # nor torch, for ONNX
spec = importlib.util.spec_from_file_location('deploy_runtime', sys.argv[2])
rt = importlib.util.module_from_spec(spec); spec.loader.exec_module(rt)
d = sys.argv[1]
exp = json.load(open(d + '/deploy.json'))
for name,e in exp.items():
    for sfx in sys.argv[3].split(','):
        m = rt.InferenceModel.load(f'{d}/{name}.{sfx}')
        res = m.predict_batch(e['items'])
        for (dec,_,p),want,wp in zip(res, e['decoded'], e['probs']):
            assert np.allclose(p, wp, atol=1e-5, rtol=0), (name, sfx, p, wp)
            if isinstance(want, float) or (isinstance(want, list) and want and np.asarray(want).dtype.kind in 'fiu'): # numbers: values, points, boxes, a mask
                assert np.allclose(np.asarray(dec, dtype=float), np.asarray(want, dtype=float), atol=1e-3), (name, sfx, dec, want)
            else: assert dec == want, (name, sfx, dec, want)
        for prompt,n,want in e.get('greedy', []): assert m.generate(prompt, n, greedy=True) == want, (name, sfx, prompt, want) # a language model
        for prompt,n,seed,want in e.get('drawn', []): assert m.generate(prompt, n, seed=seed) == want, (name, sfx, prompt, want)
        print('ok', name, sfx)
'''

def _check_artifacts(d, n):
    "Run the artifacts written in `d` (`n` models) in processes without mylib: ONNX without torch, then the torch formats"
    import mylib.deploy_runtime as rt
    for fmts in ('onnx', 'pt,pt2'):
        r = subprocess.run([sys.executable, '-c', textwrap.dedent(RUN_ARTIFACTS), str(d), rt.__file__, fmts], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout.count('ok') == n * len(fmts.split(',')), r.stdout

def _tampered(d, name, change):
    "The error of loading artifact `name` of `d` after `change` edits its sidecar (restored afterwards)"
    import json, mylib.deploy_runtime as rt
    f = d/f'{name}.onnx.json'
    good = f.read_text()
    spec = json.loads(good)
    change(spec)
    f.write_text(json.dumps(spec))
    try: rt.InferenceModel.load(d/f'{name}.onnx')
    except rt.SidecarError as e: return str(e)
    finally: f.write_text(good)

def test_every_application_deploys_and_predicts_without_mylib(tmp_path):
    _run(DEPLOY, tmp_path)
    _check_artifacts(tmp_path, 7)
    # the sidecars the export wrote, made hostile: each error names the file and the field
    cases = [('income', lambda s: s['preprocess']['fill'].update(age='0; rm -rf /'), "preprocess.fill['age']"),
             ('income', lambda s: s['preprocess']['classes'].update(sex=[{'__class__': 'os.system'}]), "preprocess.classes['sex'][0]"),
             ('income', lambda s: s['input'][1].update(shape=['batch', 7]), 'input'),
             ('flags', lambda s: s['output'].update(labels='rich'), 'output.labels'),
             ('ratings', lambda s: s['preprocess']['vocabs'].update(user=['#na#'] + [[1]]), "preprocess.vocabs['user'][1]"),
             ('ratings', lambda s: s['preprocess']['vocabs'].update(spy=['#na#']), 'preprocess.vocabs'),
             ('texts', lambda s: s['preprocess'].update(pre_rules=['__import__']), 'preprocess.pre_rules[0]'),
             ('texts', lambda s: s['preprocess'].update(tokenizer='pickle'), 'preprocess.tokenizer'),
             ('texts', lambda s: s['preprocess'].update(vocab=list(range(5))), 'preprocess.vocab[0]'),
             ('texts', lambda s: s['input'][0].update(dtype='object'), 'input[0].dtype'),
             ('lm', lambda s: s['output'].update(eos_idx=2), 'output.eos_idx'),
             ('lm', lambda s: s['output'].update(unk_idx='xxunk'), 'output.unk_idx'),
             ('lm', lambda s: s['preprocess'].update(pad_idx=0), 'preprocess.pad_idx'),
             ('lm_pieces', lambda s: s['output'].update(kind='category', labels=['a']), 'output')]
    for name,change,field in cases:
        msg = _tampered(tmp_path, name, change)
        assert msg is not None and msg.startswith(f'{tmp_path/name}.onnx.json: {field}:'), (name, field, msg)


# The learners of the tutorials (tables: Adult census income; collaborative filtering: MovieLens 100k, dot product and neural;
# texts: the clothing reviews classifier and language model), built as the tutorials build them on the same data, trained for a moment (the
# text classifier not at all: its weights do not change what is checked), exported three ways and run without mylib on raw
# items: rows with missing values and unseen categories, a user and a title, reviews longer than a window and than `max_len`,
# prompts continued greedily (the learner's own loop) and with a seed.
TUTORIALS = '''
import sys, json, math, torch, numpy as np, pandas as pd
from pathlib import Path
from mylib.tabular.all import *
from mylib.collab import CollabDataLoaders, collab_learner
from mylib.text.all import TextDataLoaders, text_classifier_learner, language_model_learner, AWD_LSTM
from mylib.data.external import load_adult, load_movielens100k, load_clothing_reviews
import mylib.deploy
d = Path(sys.argv[1])
''' + LM_EXPECT + '''
torch.manual_seed(0)
adult = load_adult().replace('?', np.nan)
perm = np.random.default_rng(42).permutation(len(adult))
splits = [perm[len(adult) // 5:], perm[:len(adult) // 5]]
adult = adult.assign(**{'log-gain': np.log1p(adult['capital-gain']), 'log-loss': np.log1p(adult['capital-loss']),
                        'gain-cat': adult['capital-gain'].astype(str), 'loss-cat': adult['capital-loss'].astype(str)})
cat_names = ['workclass', 'education', 'marital-status', 'occupation', 'relationship', 'race', 'gender', 'native-country', 'gain-cat', 'loss-cat']
cont_names = ['age', 'fnlwgt', 'educational-num', 'log-gain', 'log-loss', 'hours-per-week']
to = TabularPandas(adult, [Categorify, FillMissing, Normalize], cat_names, cont_names, y_names='income', splits=splits)
tab = tabular_learner(to.dataloaders(bs=1024, seed=0, device='cpu'), layers=[200, 100], config=tabular_config(ps=[0.001, 0.01], embed_p=0.04), wd=0.1, path=d)
row = {'workclass': 'Private', 'education': 'Masters', 'marital-status': 'Married-civ-spouse', 'occupation': None, 'relationship': 'Husband',
       'race': 'White', 'gender': 'Male', 'native-country': 'Atlantis', 'age': None, 'fnlwgt': 180000, 'educational-num': 14, 'log-gain': 0.,
       'log-loss': 0., 'hours-per-week': 50, 'gain-cat': '0', 'loss-cat': '0'}
rows = [row] + [{k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, 'item') else v) for k,v in adult.iloc[i].items()}
                for i in splits[1][:5]]
ratings = load_movielens100k(download=False)
cdls = CollabDataLoaders.from_df(ratings[['user', 'title', 'rating']], valid_pct=0.2, seed=42, bs=1024, device='cpu')
pairs = [{'user': 196, 'title': 'Star Wars (1977)'}, {'user': 1, 'title': 'Toy Story (1995)'}, {'user': 943, 'title': ratings.title.iloc[7]}]
reviews = load_clothing_reviews(download=False).dropna(subset=['Review Text'])
reviews = pd.DataFrame({'text': reviews['Review Text'], 'label': reviews['Recommended IND'].map({0: 'no', 1: 'yes'})}).iloc[:1200]
reviews['is_valid'] = np.arange(len(reviews)) >= 1000
tdls = TextDataLoaders.from_df(reviews, text_col='text', label_col='label', valid_col='is_valid', bs=32, seed=42, device='cpu')
docs = list(reviews.text.iloc[1000:1004]) + [' '.join(reviews.text.iloc[:40])] # the last: longer than `max_len` (1440 tokens)
learners = {'adult': (tab, rows),
            'movielens': (collab_learner(cdls, n_factors=40, y_range=(0, 5.5), wd=0.15, path=d), pairs),
            'movielens_nn': (collab_learner(cdls, use_nn=True, layers=[100, 50], config=dict(ps=[0.2, 0.1]), y_range=(0, 5.5), wd=0.1, path=d), pairs),
            'reviews': (text_classifier_learner(tdls, AWD_LSTM, config=dict(emb_sz=100, n_hid=300, n_layers=2), drop_mult=0.5, path=d), docs)}
rlm_dls = TextDataLoaders.from_df(reviews[['text']].iloc[:400], text_col='text', is_lm=True, valid_pct=0.1, bs=32, seq_len=50, seed=42, device='cpu')
learners['reviews_lm'] = (language_model_learner(rlm_dls, AWD_LSTM, config=dict(emb_sz=100, n_hid=300, n_layers=2), drop_mult=0.3, path=d),
                          ['I love this dress', 'The fabric is', reviews.text.iloc[1000]])
plain = lambda o: o.tolist() if hasattr(o, 'tolist') else [plain(v) for v in o] if isinstance(o, list) else o
expected = {}
for name,(learn,items) in learners.items():
    learn.logger = lambda *a: None
    if name != 'reviews': learn.fit(1, 1e-2)
    for f,sfx in ((learn.to_onnx, '.onnx'), (learn.to_torchscript, '.pt'), (learn.to_exported, '.pt2')): f(name + sfx)
    lm_ = name == 'reviews_lm'
    preds = [lm_predict(learn, o) if lm_ else learn.predict(o) for o in items]
    expected[name] = {'items': items, 'decoded': [plain(p[0]) for p in preds], 'probs': [p[2].tolist() for p in preds], **(lm_expected(learn, name, items) if lm_ else {})}
json.dump(expected, open(d/'deploy.json', 'w'))
'''

def test_tutorial_learners_deploy_and_predict_without_mylib(tmp_path):
    from mylib.data.external import load_adult, load_movielens100k, load_clothing_reviews
    try: load_adult(), load_movielens100k(download=False), load_clothing_reviews(download=False)
    except Exception as e: pytest.skip(f"a tutorial's data set is not installed here: {e}")
    _run(TUTORIALS, tmp_path)
    _check_artifacts(tmp_path, 5)


# The learners of the vision tutorials, as they build them, on generated shapes (smaller and trained for one epoch): a
# classifier, a multi-label classifier, a segmentation U-Net, a key-point and a box regressor; each exported three ways
# and run without mylib on raw image files (decoded labels, label lists, masks, pixels).
VISION = '''
import sys, json, torch, pandas as pd
from functools import partial
from pathlib import Path
from mylib.vision.all import *
d = Path(sys.argv[1])
set_seed(0)
path = make_shapes(d/'shapes', n=48, size=32, ext='png')
df = pd.read_csv(path/'labels.csv')
codes = (path/'codes.txt').read_text().split()
x = dict(get_x=ColReader('fname', pref=path), splitter=ColSplitter())
def shape_names(row): return sorted(set(row['bbox_labels'].split()))
blocks = {'classes': DataBlock(blocks=(ImageBlock, CategoryBlock), get_y=ColReader('label'), item_tfms=Resize(24), **x),
          'multilabel': DataBlock(blocks=(ImageBlock, MultiCategoryBlock), get_y=shape_names, **x),
          'segments': DataBlock(blocks=(ImageBlock, MaskBlock(codes)), get_y=ColReader('mask', pref=path), **x),
          'keypoints': DataBlock(blocks=(ImageBlock, PointBlock), get_y=ColReader('points'), **x),
          'boxes': DataBlock(blocks=(ImageBlock, BBoxBlock), get_y=ColReader('bboxes'), **x)}
arch = partial(small_cnn, widths=(16, 32))
make = {'classes': lambda dls: vision_learner(dls, arch, pretrained=False, lin_ftrs=[], ps=0.),
        'multilabel': lambda dls: vision_learner(dls, arch, pretrained=False, lin_ftrs=[], ps=0.),
        'segments': lambda dls: unet_learner(dls, partial(xresnet18, widths=(8, 8, 16, 16), stem_szs=(8, 8, 8)), pretrained=False, last_cross=False),
        'keypoints': lambda dls: vision_learner(dls, arch, pretrained=False, n_out=2, y_range=(-1.1, 1.1), lin_ftrs=[], ps=0.),
        'boxes': lambda dls: vision_learner(dls, arch, pretrained=False, n_out=4, y_range=(-1.05, 1.05), lin_ftrs=[], ps=0.)}
items = [str(path/f) for f in df[df.is_valid].fname.iloc[:3]]
plain = lambda o: o.tolist() if hasattr(o, 'tolist') else o if o is None or isinstance(o, (str, int, float, bool)) else [plain(v) for v in o] # a label list too
expected = {}
for name,block in blocks.items():
    learn = make[name](block.dataloaders(df, bs=16, seed=0, device='cpu'))
    learn.path, learn.logger = d, (lambda *a: None)
    learn.fit(1, 1e-3)
    for f,sfx in ((learn.to_onnx, '.onnx'), (learn.to_torchscript, '.pt'), (learn.to_exported, '.pt2')): f(name + sfx)
    preds = [learn.predict(o) for o in items]
    expected[name] = {'items': items, 'decoded': [plain(p[0]) for p in preds], 'probs': [p[2].tolist() for p in preds]}
json.dump(expected, open(d/'deploy.json', 'w'))
'''

def test_vision_tutorial_learners_deploy_and_predict_without_mylib(tmp_path):
    _run(VISION, tmp_path)
    _check_artifacts(tmp_path, 5)
