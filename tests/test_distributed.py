"Distributed data parallel for real: two processes started by torchrun, on CPUs with the gloo backend."
import json, os, signal, socket, subprocess, sys, textwrap
import pytest
import torch

WORKER = textwrap.dedent('''
    import json, sys, torch
    from pathlib import Path
    from mylib.learner import Learner
    from mylib.test_utils import synth_dls, RegModel
    from mylib.optimizer import SGD
    from mylib.metrics import rmse, R2Score, AccumMetric
    from mylib.distributed import gather_objects, rank0_first
    import mylib.callback.schedule

    out = Path(sys.argv[1])

    def median_ae(pred, targ): return (pred - targ).abs().median()

    def learner(bs, **kwargs):
        "The regression with plain SGD; `bs` per process; 33 validation items, so the shares differ by one"
        return Learner(synth_dls(bs=bs, n_valid=33, **kwargs), RegModel(), lr=0.1, opt_func=SGD, path=out,
                       metrics=[rmse, R2Score(), AccumMetric(median_ae)])

    def weights(learn): return [learn.model.a.item(), learn.model.b.item()]

    def make_once(f, rank):
        "Write `rank` to `f` unless it exists (as a download would be cached); whether it existed"
        if f.exists(): return True
        f.write_text(str(rank))
        return False

    res = {}
    learn = learner(16)
    logs = []
    learn.logger = logs.append
    with learn.distrib_ctx():
        rank = learn.rank
        res['ranks'] = gather_objects(rank)
        res['found'] = rank0_first(make_once, out/'first', rank)
        learn.fit(3)
        res['train_weights'] = weights(learn)
        res['validate'] = learn.validate()
        res['saved'] = str(learn.save('reg'))
        res['exported'] = str(learn.export())
        learn.load('reg')
    res['values'] = learn.recorder.values
    res['weights'] = weights(learn)
    res['logs'] = logs

    # padded training shares (170 items), lr_find, then fine_tune of two parameter groups
    ft = learner(16, n_train=170)
    ft.splitter = lambda m: [[m.a], [m.b]]
    with ft.distrib_ctx():
        res['sugg'] = list(ft.lr_find(show_plot=False, num_it=20))
        ft.fine_tune(2, base_lr=0.1)
    res['ft_values'] = ft.recorder.values
    res['ft_weights'] = weights(ft)
    (out/f'rank{rank}.json').write_text(json.dumps(res))
''')

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    "What each of two processes, launched by torchrun, reports"
    d = tmp_path_factory.mktemp('ddp')
    (d/'worker.py').write_text(WORKER)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(free_port()), str(d/'worker.py'), str(d)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})
    try: out,_ = p.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL) # torchrun and the workers it started: a hang must not outlive the test
        out,_ = p.communicate()
        pytest.fail(f"the two processes hung:\n{out[-3000:]}")
    assert p.returncode == 0, out[-6000:]
    return [json.loads((d/f'rank{r}.json').read_text()) for r in range(2)], d

@pytest.fixture(scope='module')
def single():
    "The same training in one process, with the global batch size of the two (32)"
    from mylib.learner import Learner
    from mylib.test_utils import synth_dls, RegModel
    from mylib.optimizer import SGD
    from mylib.metrics import rmse, R2Score, AccumMetric
    def median_ae(pred, targ): return (pred - targ).abs().median()
    learn = Learner(synth_dls(bs=32, n_valid=33), RegModel(), lr=0.1, opt_func=SGD, metrics=[rmse, R2Score(), AccumMetric(median_ae)])
    learn.logger = lambda *a: None
    learn.fit(3)
    return learn

def test_processes_and_rank0_first(ranks):
    (r0, r1),d = ranks
    assert r0['ranks'] == r1['ranks'] == [0, 1]
    assert (d/'first').read_text() == '0' and (r0['found'], r1['found']) == (False, True) # rank 0 first; rank 1 found its file

def test_ranks_report_the_same(ranks):
    (r0, r1),_ = ranks
    for k in ('values', 'validate', 'weights', 'train_weights', 'sugg', 'ft_values', 'ft_weights'): assert r0[k] == r1[k], k

def test_matches_one_process_with_the_global_batch(ranks, single):
    (r0, _),_ = ranks
    assert r0['train_weights'] == pytest.approx([single.model.a.item(), single.model.b.item()], rel=1e-5, abs=1e-6)
    for got,exp in zip(r0['values'], single.recorder.values): assert got == pytest.approx(exp, rel=1e-5, abs=1e-6)
    assert r0['validate'] == pytest.approx(single.validate(), rel=1e-5, abs=1e-6)
    assert abs(r0['train_weights'][0] - 2) < 0.1 and abs(r0['train_weights'][1] - 3) < 0.1 # it learned

def test_rank0_writes_and_logs(ranks):
    (r0, r1),d = ranks
    assert r0['saved'] == r1['saved'] and r0['exported'] == r1['exported']
    assert sorted(p.name for p in d.iterdir() if p.suffix in ('.pth', '.safetensors')) == ['export.safetensors']
    assert [p.name for p in (d/'models').iterdir()] == ['reg.pth']
    assert r0['weights'] == r0['train_weights'] # loaded back what was saved
    assert len(r0['logs']) == 4 and r1['logs'] == [] # a header and 3 epochs, from rank 0 only

def test_lr_find_and_fine_tune(ranks):
    (r0, _),_ = ranks
    assert len(r0['sugg']) == 4 and all(s > 0 for s in r0['sugg'])
    assert len(r0['ft_values']) == 2
    assert r0['ft_values'][-1][1] < r0['ft_values'][0][1] # validation loss fell

# Exact resume across two ranks: each rank draws its own dropout masks (its own generator states); a fit interrupted
# mid-epoch and resumed by new processes must end with the weights of the fit that never stopped, on every rank.
RESUME = textwrap.dedent('''
    import json, sys, torch
    from pathlib import Path
    from torch import nn
    from mylib.torch_core import set_seed
    from mylib.learner import Learner
    from mylib.data.load import DataLoader
    from mylib.data.core import DataLoaders
    from mylib.callback.core import Callback
    from mylib.callback.checkpoint import Checkpoint
    import mylib.callback.schedule, mylib.distributed

    mode,out = sys.argv[1],Path(sys.argv[2])

    class Interrupt(Callback):
        order = 100
        def after_batch(self):
            if self.training and self.train_iter == 9: raise KeyboardInterrupt()

    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 4, generator=g)
    y = x @ torch.tensor([[1.], [-2.], [3.], [.5]])
    dls = DataLoaders(DataLoader((x[:96], y[:96]), bs=8, shuffle=True, seed=0), DataLoader((x[96:], y[96:]), bs=16))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 1))
    learn = Learner(dls, model, path=out/mode if mode == 'ref' else out/'run')
    learn.logger = lambda *a: None
    with learn.distrib_ctx():
        set_seed(100 + learn.rank) # different after the model is made: each rank its own dropout
        ck = dict(every=4, at_epoch_end=False) # 6 batches an epoch on each rank: the checkpoint of step 8 is inside epoch 1
        cbs = {'ref': [], 'stop': [Checkpoint(**ck), Interrupt()], 'resume': [Checkpoint(**ck, resume_from=True)]}[mode]
        try: learn.fit_one_cycle(2, 1e-2, cbs=cbs)
        except KeyboardInterrupt: pass
        if mode != 'stop': (out/f'{mode}{learn.rank}.json').write_text(json.dumps([p.tolist() for p in learn.model.parameters()]))
''')

def _torchrun(d, *args):
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
           '--master_port', str(free_port()), str(d/'resume.py'), *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    try: out,_ = p.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        pytest.fail(f"the two processes hung:\n{p.communicate()[0][-3000:]}")
    assert p.returncode == 0, out[-6000:]

def test_resume_is_exact_on_every_rank(tmp_path):
    from mylib.callback.checkpoint import load_checkpoint
    (tmp_path/'resume.py').write_text(RESUME)
    for mode in ('ref', 'stop'): _torchrun(tmp_path, mode, str(tmp_path))
    ck = load_checkpoint(tmp_path/'run'/'models'/'checkpoint.pth')
    assert ck['where']['batch'] == 2, ck['where'] # inside an epoch
    assert len(ck['ranks']) == 2 and not torch.equal(ck['ranks'][0]['rng']['torch'], ck['ranks'][1]['rng']['torch']) # each rank's own
    _torchrun(tmp_path, 'resume', str(tmp_path))
    for r in range(2): assert json.loads((tmp_path/f'resume{r}.json').read_text()) == json.loads((tmp_path/f'ref{r}.json').read_text()), r
