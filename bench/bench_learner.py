"""Training-loop overhead: a tiny MLP on in-memory rows, our Learner against a raw PyTorch loop, fastai's Learner and Lightning's Trainer."""
import logging, os, warnings
import torch
from torch import nn
from torch.utils.data import TensorDataset
from torch.utils.data import DataLoader as TorchDataLoader
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore")
logging.getLogger("lightning").setLevel(logging.ERROR)
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
fastai = try_import("fastai.learner")
fastai_data = try_import("fastai.data.core")
fastai_load = try_import("fastai.data.load")
fastai_opt = try_import("fastai.optimizer")
fastai_progress = try_import("fastai.callback.progress")  # adds `Learner.no_bar` and the progress callback
L_ = try_import("lightning")
mylib_learner = try_import("mylib.learner")
mylib_load = try_import("mylib.data.load")
mylib_core = try_import("mylib.data.core")
mylib_progress = try_import("mylib.callback.progress")  # adds `Learner.no_bar`

N, D, BS, EPOCHS, LR = 20_000, 32, 64, 2, 1e-3  # rows, features, batch size, epochs, learning rate

def mlp(): return nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, 1))

def raw_loop(x, y):
    "The floor: a plain PyTorch loop over a torch DataLoader, with Adam and MSE"
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    dl = TorchDataLoader(TensorDataset(x, y), batch_size=BS, shuffle=True)
    for _ in range(EPOCHS):
        model.train()
        for xb, yb in dl:
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward(); opt.step(); opt.zero_grad()

def ours(x, y):
    "Our Learner with its default callbacks, bar off and nothing logged"
    n_train = N  # train on every row; a one-row validation set keeps the comparison about the training loop
    dls = mylib_core.DataLoaders(mylib_load.DataLoader((x, y), bs=BS, shuffle=True), mylib_load.DataLoader((x[:1], y[:1]), bs=BS))
    learn = mylib_learner.Learner(dls, mlp(), loss_func=nn.MSELoss(), lr=LR)
    learn.logger = lambda *a: None
    with learn.no_bar(): learn.fit(EPOCHS)

def fastai_learner(x, y):
    "fastai's Learner, progress bar off"
    dls = fastai_data.DataLoaders(fastai_load.DataLoader(TensorDataset(x, y), bs=BS, shuffle=True), fastai_load.DataLoader(TensorDataset(x[:1], y[:1]), bs=BS))
    learn = fastai.Learner(dls, mlp(), loss_func=nn.MSELoss(), lr=LR, opt_func=fastai_opt.Adam)
    with learn.no_bar(), learn.no_logging(): learn.fit(EPOCHS)

class LitMLP(L_.LightningModule if L_ else object):
    def __init__(self): super().__init__(); self.model = mlp()
    def training_step(self, b, i): return nn.functional.mse_loss(self.model(b[0]), b[1])
    def configure_optimizers(self): return torch.optim.Adam(self.parameters(), lr=LR)

def lightning_trainer(x, y):
    "Lightning's Trainer on CPU, progress bar, logger and checkpointing off"
    t = L_.Trainer(max_epochs=EPOCHS, accelerator="cpu", devices=1, enable_progress_bar=False, logger=False,
                   enable_checkpointing=False, enable_model_summary=False)
    t.fit(LitMLP(), TorchDataLoader(TensorDataset(x, y), batch_size=BS, shuffle=True))

if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.randn(N, D), torch.randn(N, 1)
    fns = {"raw torch": lambda: raw_loop(x, y)}
    if mylib_learner: fns["mylib"] = lambda: ours(x, y)
    if fastai: fns["fastai"] = lambda: fastai_learner(x, y)
    if L_: fns["lightning"] = lambda: lightning_trainer(x, y)
    times = timeit_many(fns, warmup=1, repeats=3, number=1)
    case = f"MLP {D}-64-1, {N} rows, bs {BS}, {EPOCHS} epochs"
    rows = [(case, k, times[k] / EPOCHS, "epoch", "goal: mylib within 1.10x" if k == "raw torch" else "") for k in fns]
    report("Learner: training-loop overhead", rows, ours="mylib")
