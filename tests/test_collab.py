"A collaborative-filtering learner exported, then loaded and used in processes that never ran the training code; tampered exports refused."
import json, subprocess, sys, textwrap
import pytest

TRAIN = '''
import sys, torch
from pathlib import Path
from mylib.collab import synth_ratings, CollabDataLoaders, collab_learner
import mylib.callback.schedule
d = Path(sys.argv[1])
torch.manual_seed(0)
df = synth_ratings(n_users=60, n_items=30, seed=0)
df['user'] = 'u' + df.user.astype(str) # names of both kinds: strings here, ints for the neural model below
dls = CollabDataLoaders.from_df(df, valid_pct=0.2, seed=0, bs=32, device='cpu')
for name,kw in (('dot', {}), ('nn', {'use_nn': True, 'layers': [16]})):
    learn = collab_learner(dls, n_factors=4, y_range=(0.5, 5.5), path=d, **kw)
    learn.fit_one_cycle(2, 1e-2)
    learn.export(f'{name}.safetensors')
    rows = df.head(20)
    preds,_ = learn.get_preds(dl=dls.test_dl(rows))
    one = learn.predict({'user': 'u3', 'item': 'i7'})
    fb = learn.predict({'user': 'stranger', 'item': 'i7'}, unknown='fallback')
    torch.save({'preds': preds, 'one': one[0], 'fallback': fb[0]}, d/f'{name}.pt')
rows.to_csv(d/'rows.csv', index=False)
'''

PREDICT = '''
import sys, torch, pandas as pd
from pathlib import Path
from mylib.learner import load_learner
d,name = Path(sys.argv[1]),sys.argv[2]
exp = torch.load(d/f'{name}.pt')
learn = load_learner(d/f'{name}.safetensors')
assert type(learn).__name__ == 'CollabLearner', type(learn)
rows = pd.read_csv(d/'rows.csv')
preds,_ = learn.get_preds(dl=learn.dls.test_dl(rows))
assert torch.equal(preds, exp['preds']), (preds[:3], exp['preds'][:3])
assert learn.predict({'user': 'u3', 'item': 'i7'})[0] == exp['one']
assert learn.predict(('stranger', 'i7'), unknown='fallback')[0] == exp['fallback']
try: learn.predict({'user': 'stranger', 'item': 'i7'}); raise AssertionError('an unknown user was accepted')
except KeyError as e: assert "'stranger' (row 0) not seen in training" in str(e), e
print('ok', learn.model.most_similar('i7', 2) if name == 'dot' else '')
'''

def _run(code, *args):
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout

@pytest.fixture(scope='module')
def exports(tmp_path_factory):
    d = tmp_path_factory.mktemp('collab')
    _run(TRAIN, d)
    return d

@pytest.mark.parametrize('name', ['dot', 'nn'])
def test_export_predicts_identically_in_a_fresh_process(exports, name):
    assert _run(PREDICT, exports, name).startswith('ok')


def _tamper(src, dst, change):
    "Copy the export `src` to `dst` with `change(vocabs)` applied to every `classes` dict of its config"
    from safetensors import safe_open
    from safetensors.torch import save_file
    with safe_open(src, 'pt') as f: meta,tensors = f.metadata(),{k: f.get_tensor(k) for k in f.keys()}
    head = json.loads(meta['mylib'])
    found = []
    def walk(c):
        if isinstance(c, list): [walk(v) for v in c]
        elif isinstance(c, dict):
            if isinstance(c.get('classes'), dict): change(c['classes']); found.append(1)
            [walk(v) for v in c.values()]
    walk(head['config'])
    assert len(found) == 3, found # the two loaders' and the model's
    save_file(tensors, dst, metadata={'mylib': json.dumps(head)})
    return dst

def _shorter(cl): cl['item'] = cl['item'][:-1]
def _longer(cl): cl['item'] = cl['item'] + [f'x{i}' for i in range(10**4)]
def _repeated(cl): cl['user'] = cl['user'][:-1] + [cl['user'][1]]
def _not_names(cl): cl['user'] = [cl['user'][0], {'@': 'fn', 'name': 'builtins.print'}] + cl['user'][2:]
def _no_na(cl): cl['user'] = cl['user'][1:] + ['extra']

@pytest.mark.parametrize('change,msg', [(_shorter, 'names for an embedding of'), (_longer, 'names for an embedding of'),
                                        (_repeated, 'must be unique'), (_not_names, 'not registered'), (_no_na, "starting with '#na#'")])
def test_tampered_vocabs_are_refused(exports, tmp_path, change, msg):
    from mylib.learner import load_learner
    from mylib.serialize import LoadError
    fn = _tamper(exports/'dot.safetensors', tmp_path/'bad.safetensors', change)
    with pytest.raises(LoadError) as e: load_learner(fn)
    assert msg in str(e.value), str(e.value)
