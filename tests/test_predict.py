"Batch inference: `predict_files` over learners (vision, tabular) and exported models, tables written atomically, and the `mylib-predict` command in a subprocess."
import json, signal, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch

def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, '-m', 'mylib.predict', *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)

@pytest.fixture(scope='module')
def vision(tmp_path_factory):
    "A small trained image classifier, its export, its ONNX and TorchScript artifacts, its images and a truncated JPEG"
    from mylib.vision.all import set_seed, make_shapes, ImageDataLoaders, Resize, vision_learner, small_cnn, get_image_files
    import mylib.deploy # noqa: F401 (`to_onnx`, `to_torchscript`)
    d = tmp_path_factory.mktemp('vision')
    set_seed(0)
    path = make_shapes(d/'shapes', n=40, size=32)
    dls = ImageDataLoaders.from_folder(path/'images', valid_pct=0.25, seed=0, bs=16, device='cpu', item_tfms=Resize(24))
    learn = vision_learner(dls, small_cnn, pretrained=False, lin_ftrs=[], ps=0., path=d)
    learn.logger = lambda *a: None
    learn.fit(1)
    files = sorted(get_image_files(path/'images'))
    broken = d/'broken.jpg'
    broken.write_bytes(files[0].read_bytes()[:150])
    return dict(d=d, learn=learn, images=path/'images', files=files, broken=broken, export=learn.export(),
                onnx=learn.to_onnx('m.onnx'), ts=learn.to_torchscript('m.pt'))

def _expected(learn, files):
    "learn.predict, one file at a time"
    return [learn.predict(f) for f in files]

def test_learner_matches_predict_with_workers(vision):
    import mylib.predict # noqa: F401 (adds `Learner.predict_files`)
    learn, files = vision['learn'], vision['files']
    want = _expected(learn, files)
    for nw in (0, 2):
        got = learn.predict_files(vision['images'], bs=7, num_workers=nw, window=16)
        assert [Path(r.item) for r in got] == files
        assert [r.pred for r in got] == [w[0] for w in want]
        assert [int(r.idx) for r in got] == [int(w[1]) for w in want]
        torch.testing.assert_close(torch.stack([r.probs for r in got]), torch.stack([w[2] for w in want]), atol=1e-5, rtol=0)

def test_inference_model_matches_learner(vision):
    from mylib.predict import predict_files
    from mylib.deploy_runtime import InferenceModel
    want = _expected(vision['learn'], vision['files'])
    for art in ('onnx', 'ts'):
        got = predict_files(InferenceModel.load(vision[art]), [*vision['files'], vision['broken']], bs=8, num_workers=2)
        assert [r.pred for r in got[:-1]] == [w[0] for w in want]
        np.testing.assert_allclose(np.stack([r.probs for r in got[:-1]]), torch.stack([w[2] for w in want]).numpy(), atol=1e-5)
        assert got[-1].item == vision['broken'] and got[-1].pred is None and 'cannot' in got[-1].error

def test_generator_items_and_quiet_progress(vision, capsys):
    "A generator of items is read lazily, a window at a time; no output where stdout is not a terminal"
    from mylib.predict import iter_predictions
    seen = []
    def gen():
        for f in vision['files'][:10]: seen.append(f); yield f
    it = iter_predictions(vision['learn'], gen(), bs=4, window=4)
    first = next(it)
    assert len(first) == 4 and len(seen) == 4 # only the first window was read
    rest = [r for rows in it for r in rows]
    assert len(rest) == 6 and capsys.readouterr().out == ''

def test_errors_raise_keeps_done_rows(vision, tmp_path):
    from mylib.predict import PredictError
    learn = vision['learn']
    items = [*vision['files'][:12], vision['broken'], *vision['files'][12:20]]
    with pytest.raises(PredictError, match='broken.jpg') as e:
        learn.predict_files(items, bs=4, window=6, out=tmp_path/'p.csv', errors='raise')
    assert not (tmp_path/'p.csv').exists()
    assert len(pd.read_csv(tmp_path/'p.csv.part')) == 12 # the two windows before the bad one
    assert any('p.csv.part' in n for n in e.value.__notes__)

def test_tables_all_probs(vision, tmp_path):
    learn, files = vision['learn'], vision['files']
    items = [*files[:5], vision['broken']]
    want = _expected(learn, files[:5])
    for suffix in ('.csv', '.parquet', '.json'):
        fname = learn.predict_files(items, bs=4, out=tmp_path/f'p{suffix}', probs='all')
        t = pd.read_json(fname) if suffix == '.json' else pd.read_parquet(fname) if suffix == '.parquet' else pd.read_csv(fname)
        assert list(t.columns) == ['item', 'prediction', 'probability', 'error'] + [f'prob_{c}' for c in learn.dls.vocab]
        assert t.prediction[:5].tolist() == [w[0] for w in want]
        np.testing.assert_allclose(t[[f'prob_{c}' for c in learn.dls.vocab]].values[:5], torch.stack([w[2] for w in want]).numpy(), atol=1e-6)
        np.testing.assert_allclose(t.probability[:5], [float(w[2].max()) for w in want], atol=1e-6)
        assert t.item.tolist()[-1] == str(vision['broken']) and 'cannot' in t.error.tolist()[-1]

KILLED = '''
import sys, time
from pathlib import Path
from mylib.learner import load_learner
from mylib.predict import predict_files
learn = load_learner(sys.argv[1])
files = sorted(Path(sys.argv[2]).rglob('*.jpg'))
def slow():
    for i, f in enumerate(files * 1000):
        if i >= 16: time.sleep(0.05)
        yield f
predict_files(learn, slow(), bs=8, window=8, out=sys.argv[3])
'''

def test_killed_run_leaves_no_table(vision, tmp_path):
    out = tmp_path/'preds.csv'
    p = subprocess.Popen([sys.executable, '-c', textwrap.dedent(KILLED), str(vision['export']), str(vision['images']), str(out)])
    try:
        part = tmp_path/'preds.csv.part'
        deadline = time.time() + 120
        while time.time() < deadline and not (part.exists() and part.stat().st_size > 0): time.sleep(0.1)
        time.sleep(0.5)
        assert p.poll() is None, 'the run ended before it could be killed'
    finally: p.send_signal(signal.SIGKILL); p.wait()
    assert part.exists() and not out.exists()

def test_cli_learner_csv(vision, tmp_path):
    r = _cli(vision['export'], vision['images'], vision['broken'], '--bs', 8, '--workers', 1, '--out', tmp_path/'p.csv')
    assert r.returncode == 0, r.stderr
    assert '1 of 41 items skipped' in r.stderr
    t = pd.read_csv(tmp_path/'p.csv')
    want = _expected(vision['learn'], vision['files'])
    assert t.prediction[:40].tolist() == [w[0] for w in want] and t.error.notna().tolist() == [False] * 40 + [True]

def test_cli_artifacts_stdout_and_parquet(vision, tmp_path):
    want = [w[0] for w in _expected(vision['learn'], vision['files'])]
    r = _cli(vision['onnx'], vision['images'], '--format', 'json', '--workers', 2)
    assert r.returncode == 0, r.stderr
    assert [o['prediction'] for o in json.loads(r.stdout)] == want
    r = _cli(vision['ts'], vision['images'], '--out', tmp_path/'p.parquet', '--probs', 'all')
    assert r.returncode == 0, r.stderr
    t = pd.read_parquet(tmp_path/'p.parquet')
    assert t.prediction.tolist() == want and t.shape[1] == 4 + len(vision['learn'].dls.vocab)
    r = _cli(vision['onnx'], vision['images'], vision['broken'], '--errors', 'raise', '--out', tmp_path/'stop.csv')
    assert r.returncode == 1 and 'broken.jpg' in r.stderr and not (tmp_path/'stop.csv').exists()

def test_cli_help_and_bad_arguments(vision, tmp_path):
    r = _cli('--help')
    assert r.returncode == 0 and 'MODEL' in r.stdout and '--format' in r.stdout
    cases = [((tmp_path/'none.safetensors', vision['images']), 'MODEL: no file or folder'),
             ((vision['export'], tmp_path/'nothing.jpg'), 'INPUTS: no file or folder'),
             ((vision['export'], vision['images'], '--out', tmp_path/'p.txt'), '--out: cannot tell the table format'),
             ((vision['export'], vision['images'], '--bs', 0), '--bs: expected a positive number'),
             ((vision['export'], vision['images'], '--format', 'parquet'), 'needs --out'),
             ((vision['d']/'m.onnx.json', vision['images']), 'MODEL: '),
             ((vision['d']/'m.pt2', vision['images']), 'MODEL: ')]
    csv = tmp_path/'rows.csv'
    pd.DataFrame({'a': [1]}).to_csv(csv, index=False)
    cases.append(((vision['export'], vision['images'], csv), 'not both'))
    for args, msg in cases:
        r = _cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
        assert 'Traceback' not in r.stderr

@pytest.fixture(scope='module')
def tabular(tmp_path_factory):
    from mylib.tabular.core import synth_adult, TabularDataLoaders, Categorify, FillMissing, Normalize
    from mylib.tabular.learner import tabular_learner
    d = tmp_path_factory.mktemp('tab')
    torch.manual_seed(0)
    df = synth_adult(300, seed=0)
    dls = TabularDataLoaders.from_df(df, [Categorify, FillMissing, Normalize], ['workclass', 'education', 'sex'],
                                     ['age', 'hours-per-week', 'capital-gain'], 'income', seed=0, bs=64, device='cpu')
    learn = tabular_learner(dls, layers=[16], path=d)
    learn.logger = lambda *a: None
    learn.fit(1, 1e-2)
    new = df.drop(columns='income').iloc[:23].copy()
    new.loc[new.index[0], 'workclass'] = 'Martian' # an unseen category
    new.to_csv(d/'new.csv', index=False)
    return dict(d=d, learn=learn, new=new, export=learn.export())

def test_tabular_frame(tabular):
    import mylib.predict # noqa: F401
    learn, new = tabular['learn'], tabular['new']
    got = learn.predict_files(new, bs=5, window=10)
    want = [learn.predict(new.iloc[i]) for i in range(len(new))]
    assert [r.item for r in got] == new.index.tolist()
    assert [r.pred for r in got] == [w[0] for w in want]
    torch.testing.assert_close(torch.stack([r.probs for r in got]), torch.stack([w[2] for w in want]), atol=1e-5, rtol=0)

def test_cli_tabular_csv(tabular, tmp_path):
    r = _cli(tabular['export'], tabular['d']/'new.csv', '--out', tmp_path/'p.csv', '--bs', 8)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path/'p.csv')
    learn, new = tabular['learn'], tabular['new']
    assert t.prediction.astype(str).tolist() == [str(learn.predict(new.iloc[i])[0]) for i in range(len(new))]
    assert t.item.tolist() == list(range(len(new)))

def _same_as_predict(learn, items, got):
    "Each `Prediction` equals `learn.predict` on its item"
    for o, r in zip(items, got):
        w = learn.predict(o)
        assert r.error is None, r.error
        assert (r.pred.tolist() if hasattr(r.pred, 'tolist') else r.pred) == (w[0].tolist() if hasattr(w[0], 'tolist') else w[0]), (o, r.pred, w[0])
        torch.testing.assert_close(r.probs, w[2], atol=1e-5, rtol=0)

def test_other_applications(tmp_path):
    "Texts, a multi-label table and ratings: decoded as their `predict` decodes"
    from mylib.tabular.all import TabularDataLoaders, tabular_learner, synth_adult
    from mylib.tabular.core import Categorify, FillMissing, Normalize
    from mylib.data.block import MultiCategoryBlock
    from mylib.collab import CollabDataLoaders, collab_learner, synth_ratings
    from mylib.text.all import TextDataLoaders, text_classifier_learner, AWD_LSTM
    import mylib.predict # noqa: F401
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    acts = {'cat': ['purrs', 'sleeps on the mat'], 'dog': ['barks at the door', 'runs']}
    texts = [' '.join(f"The {a} {rng.choice(acts[a])}." for _ in range(rng.integers(1, 5))) for a in rng.choice(list(acts), 40)]
    tdf = pd.DataFrame({'text': texts, 'label': [t.split()[1] for t in texts]})
    clas = text_classifier_learner(TextDataLoaders.from_df(tdf, text_col='text', label_col='label', seed=0, bs=8, device='cpu'), AWD_LSTM,
                                   config=dict(emb_sz=8, n_hid=16, n_layers=2), seq_len=5, max_len=8, path=tmp_path)
    docs = ['The dog runs.', 'A CAT purrs and sleeps. ' * 6, 'The cat sleeps on the mat.']
    _same_as_predict(clas, docs, clas.predict_files(docs, bs=2))
    df = synth_adult(200, seed=0)
    df['rich'], df['old'] = df.income == '>=50k', df.age > 50
    dls = TabularDataLoaders.from_df(df, [Categorify, FillMissing, Normalize], ['workclass', 'education', 'sex'], ['age', 'capital-gain'],
                                     ['rich', 'old'], y_block=MultiCategoryBlock, seed=0, bs=32, device='cpu')
    flags = tabular_learner(dls, layers=[8], path=tmp_path)
    rows = df.drop(columns=['income', 'rich', 'old']).iloc[:7]
    got = flags.predict_files(rows, bs=3)
    _same_as_predict(flags, [rows.iloc[i] for i in range(len(rows))], got)
    ratings = synth_ratings(20, 10, seed=0)
    collab = collab_learner(CollabDataLoaders.from_df(ratings, seed=0, bs=16, device='cpu'), n_factors=3, y_range=(0, 5.5), path=tmp_path)
    pairs = ratings[['user', 'item']].iloc[:5]
    _same_as_predict(collab, [pairs.iloc[i] for i in range(len(pairs))], collab.predict_files(pairs, bs=2))
