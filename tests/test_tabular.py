"Tabular learners exported and loaded in a fresh process; a tampered export refused with a clear error."
import copy, json, re, subprocess, sys, textwrap
import pytest

TRAIN = '''
import sys, torch, pandas as pd
from pathlib import Path
from mylib.tabular.core import synth_adult, TabularDataLoaders, Categorify, FillMissing, Normalize
from mylib.tabular.learner import tabular_learner
from mylib.metrics import accuracy
d = Path(sys.argv[1])
torch.manual_seed(0)
df = synth_adult(1000, seed=0)
dls = TabularDataLoaders.from_df(df, [Categorify, FillMissing, Normalize], ['workclass', 'education', 'sex'],
                                 ['age', 'hours-per-week', 'capital-gain'], 'income', seed=0, bs=64, device='cpu')
learn = tabular_learner(dls, layers=[32, 16], metrics=accuracy, path=d)
learn.fit(1, 1e-2)
learn.export()
new = pd.DataFrame({'workclass': ['Martian', None, 'Private'], 'education': ['Doctorate', 'HS-grad', None], 'sex': ['Male', 'Female', 'Male'],
                    'age': [None, 30., 45.], 'hours-per-week': [40, 50, 60], 'capital-gain': [0., 1e4, 0.]})
new.to_csv(d/'new.csv', index=False)
res = [learn.predict(new.iloc[i]) for i in range(3)]
preds,_,dec = learn.get_preds(dl=dls.test_dl(new), with_decoded=True)
torch.save({'labels': [r[0] for r in res], 'probs': torch.stack([r[2] for r in res]), 'preds': preds,
            'decoded': dls.train_ds.decode_ys(dec).income.tolist()}, d/'expected.pt')
'''

PREDICT = '''
import sys, torch, pandas as pd
from pathlib import Path
from mylib.learner import load_learner
d = Path(sys.argv[1])
exp = torch.load(d/'expected.pt')
learn = load_learner(d/'export.safetensors')
assert 'mylib.tabular.core' in sys.modules and type(learn).__name__ == 'TabularLearner'
new = pd.read_csv(d/'new.csv')
res = [learn.predict(new.iloc[i].to_dict()) for i in range(3)]
assert [r[0] for r in res] == exp['labels'], ([r[0] for r in res], exp['labels'])
assert torch.equal(torch.stack([r[2] for r in res]), exp['probs'])
preds,_,dec = learn.get_preds(dl=learn.dls.test_dl(new), with_decoded=True)
assert torch.equal(preds, exp['preds'])
assert learn.dls.train_ds.decode_ys(dec).income.tolist() == exp['decoded']
print('ok', res[0][0])
'''

def _run(code, d):
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code), str(d)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout

def test_tabular_export_predicts_in_a_fresh_process(tmp_path):
    _run(TRAIN, tmp_path)
    assert _run(PREDICT, tmp_path).startswith('ok') # no training code: the export alone predicts identically, unseen categories included

@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    "A genuine tabular export: its config (JSON) and its tensors"
    from safetensors import safe_open
    d = tmp_path_factory.mktemp('tab')
    _run(TRAIN, d)
    with safe_open(d/'export.safetensors', 'pt') as f: return json.loads(f.metadata()['mylib']),{k: f.get_tensor(k) for k in f.keys()}

def _find(o, key):
    "The dicts of the JSON tree `o` that hold `key`"
    if isinstance(o, dict):
        if key in o: yield o
        for v in o.values(): yield from _find(v, key)
    elif isinstance(o, list):
        for v in o: yield from _find(v, key)

@pytest.mark.parametrize('key,bad,msg', [('classes', {'workclass': ['a', 'a']}, 'must be a list of distinct'),
                                         ('means', {'age': 'x'}, 'must be a finite number'),
                                         ('stds', {'age': -1.}, 'must be a finite positive number'),
                                         ('cat_names', 'workclass', "adds ['age_na'], which are not in cat_names"),
                                         ('vocab', ['x', 'x'], '`vocab` must be a list of distinct')])
def test_tampered_tabular_state_is_refused(exported, tmp_path, key, bad, msg):
    from safetensors.torch import save_file
    from mylib.learner import load_learner
    head,tensors = copy.deepcopy(exported[0]),exported[1]
    found = list(_find(head['config'], key))
    assert found, key
    for o in found: o[key] = bad
    save_file(tensors, tmp_path/'bad.safetensors', metadata={'mylib': json.dumps(head)})
    with pytest.raises(Exception, match=re.escape(msg)): load_learner(tmp_path/'bad.safetensors')
