"Exact resume across real process deaths: a training process killed with SIGKILL (mid-epoch, and in the middle of a checkpoint write) and resumed in a new process ends with the weights of a run never interrupted, bit for bit."
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch

JOB = r'''
"A training job: `ref` trains 3 epochs; `kill` checkpoints every 5 steps (slowly, then stalls) to be killed; `killwrite` stalls half-way through its second checkpoint write; `resume` continues from the latest checkpoint"
import io, os, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from torch import nn
from mylib.torch_core import set_seed
from mylib.learner import Learner
from mylib.data.load import DataLoader
from mylib.data.core import DataLoaders
from mylib.callback.core import Callback
import mylib.callback.schedule # `fit_one_cycle`
import mylib.callback.checkpoint as ck

mode,folder = sys.argv[1],Path(sys.argv[2])

def learner():
    "A small CNN with batch norm and dropout on random 8 px images; the training loader has no seed: its order comes from torch's generator"
    g = torch.Generator().manual_seed(0)
    x,y = torch.randn(256, 3, 8, 8, generator=g),torch.randint(0, 4, (256,), generator=g)
    dls = DataLoaders(DataLoader((x[:192], y[:192]), bs=16, shuffle=True), DataLoader((x[192:], y[192:]), bs=32))
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.1), nn.Flatten(), nn.Linear(8 * 64, 4))
    learn = Learner(dls, model, path=folder)
    learn.logger = lambda *a: None
    return learn

class Slow(Callback):
    "Give the parent time to kill this process between checkpoints; stall for good after step `stall`"
    order = 100
    def __init__(self, stall): self.stall = stall
    def after_batch(self):
        if not self.training: return
        time.sleep(0.05)
        if self.train_iter >= self.stall:
            (folder/'stalled').touch()
            time.sleep(600)

def stalls_mid_write(obj, f, sync=True):
    "Write the first half of the checkpoint, then stall: the parent kills this process in the middle of the write"
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    f.write(data[:len(data) // 2]); f.flush(); os.fsync(f.fileno())
    (folder/'stalled').touch()
    time.sleep(600)

class StallOnWrite(Callback):
    "From training step `step` on, checkpoints are written by `stalls_mid_write`"
    order = 90
    def __init__(self, step): self.step = step
    def after_batch(self):
        if self.training and self.train_iter == self.step: ck._write = stalls_mid_write

cbs = {'ref': [], 'kill': [ck.Checkpoint(every=5, at_epoch_end=False), Slow(20)],
       'killwrite': [ck.Checkpoint(every=5), StallOnWrite(10)],
       'resume': [ck.Checkpoint(every=5, at_epoch_end=False, resume_from=True)]}[mode]
set_seed(1 if mode == 'resume' else 0) # a resumed process starts elsewhere: the checkpoint puts every generator back
learn = learner()
learn.fit_one_cycle(3, 1e-2, cbs=cbs)
torch.save(learn.model.state_dict(), folder/'final.pt')
'''

def start(job, mode, folder): return subprocess.Popen([sys.executable, str(job), mode, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

def run(job, mode, folder):
    "Run the job to its end, failing with its output if it fails"
    p = subprocess.run([sys.executable, str(job), mode, str(folder)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"job {mode} failed:\n{p.stdout}\n{p.stderr}"
    return torch.load(folder/'final.pt', weights_only=True)

def wait_for(cond, proc, what, timeout=300):
    "Poll `cond()` until it holds; fail with the process's output if it ends first or time runs out"
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            out,err = proc.communicate()
            pytest.fail(f"the job ended before {what}:\n{out.decode()}\n{err.decode()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)

def kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close(); proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

def step_of(fname):
    "The training step of checkpoint `fname`, or None while there is none (it is replaced atomically, so it is always whole)"
    if not fname.exists(): return None
    return torch.load(fname, weights_only=True, map_location='cpu')['where']['step']

def assert_same(a, b):
    assert list(a) == list(b)
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f"weights differ from the uninterrupted run's: {diff}"

@pytest.fixture(scope='module')
def job(tmp_path_factory):
    d = tmp_path_factory.mktemp('job')
    f = d/'job.py'
    f.write_text(JOB)
    return f

@pytest.fixture(scope='module')
def reference(job, tmp_path_factory):
    "The final weights of the run never interrupted"
    return run(job, 'ref', tmp_path_factory.mktemp('ref'))

def test_killed_mid_epoch_then_resumed_is_exact(job, reference, tmp_path):
    proc = start(job, 'kill', tmp_path)
    latest = tmp_path/'models/checkpoint.pth'
    wait_for(lambda: (step_of(latest) or 0) >= 10, proc, 'the checkpoint of step 10')
    kill(proc) # somewhere after step 10: before, during or after the checkpoint of step 15 or 20
    where = torch.load(latest, weights_only=True)['where']
    assert where['step'] in (10, 15, 20) and where['batch'] != 0 # inside an epoch (12 batches each)
    assert not (tmp_path/'final.pt').exists()
    assert_same(run(job, 'resume', tmp_path), reference)

def test_killed_during_a_checkpoint_write_leaves_a_loadable_one(job, reference, tmp_path):
    proc = start(job, 'killwrite', tmp_path)
    wait_for(lambda: (tmp_path/'stalled').exists(), proc, 'the write of the second checkpoint')
    kill(proc)
    folder = tmp_path/'models'
    leftovers = list(folder.glob('.checkpoint.pth.*.tmp'))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0 # the half-written file
    assert step_of(folder/'checkpoint.pth') == 5 # the previous checkpoint, whole
    (tmp_path/'stalled').unlink()
    assert_same(run(job, 'resume', tmp_path), reference)
    assert not list(folder.glob('.checkpoint.pth.*.tmp')) # removed by the resumed fit
