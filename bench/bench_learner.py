"""Training-loop overhead: a tiny MLP on in-memory rows and a small CNN on 32 px images, our Learner against a raw PyTorch loop, fastai's Learner and Lightning's Trainer."""
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

N, D, LR = 20_000, 32, 1e-3  # MLP rows and features; learning rate

def mlp(): return nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, 1))
def conv(ni, nf): return [nn.Conv2d(ni, nf, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(nf), nn.ReLU()]
def cnn(): return nn.Sequential(*conv(3, 16), *conv(16, 32), *conv(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def raw_loop(x, y, model, loss_func, bs, epochs):
    "The floor: a plain PyTorch loop over a torch DataLoader, with Adam"
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    dl = TorchDataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)
    for _ in range(epochs):
        model.train()
        for xb, yb in dl:
            loss = loss_func(model(xb), yb)
            loss.backward(); opt.step(); opt.zero_grad()

def ours(x, y, model, loss_func, bs, epochs, bar=False):
    "Our Learner with its default callbacks, nothing logged; the bar off unless `bar`"
    # train on every row; a one-row validation set keeps the comparison about the training loop
    dls = mylib_core.DataLoaders(mylib_load.DataLoader((x, y), bs=bs, shuffle=True), mylib_load.DataLoader((x[:1], y[:1]), bs=bs))
    learn = mylib_learner.Learner(dls, model, loss_func=loss_func, lr=LR)
    learn.logger = lambda *a: None
    if bar: learn.fit(epochs)
    else:
        with learn.no_bar(): learn.fit(epochs)

def fastai_learner(x, y, model, loss_func, bs, epochs):
    "fastai's Learner, progress bar off"
    dls = fastai_data.DataLoaders(fastai_load.DataLoader(TensorDataset(x, y), bs=bs, shuffle=True), fastai_load.DataLoader(TensorDataset(x[:1], y[:1]), bs=bs))
    learn = fastai.Learner(dls, model, loss_func=loss_func, lr=LR, opt_func=fastai_opt.Adam)
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs)

class LitModel(L_.LightningModule if L_ else object):
    def __init__(self, model, loss_func): super().__init__(); self.model,self.loss_func = model,loss_func
    def training_step(self, b, i): return self.loss_func(self.model(b[0]), b[1])
    def configure_optimizers(self): return torch.optim.Adam(self.parameters(), lr=LR)

def lightning_trainer(x, y, model, loss_func, bs, epochs):
    "Lightning's Trainer on CPU, progress bar, logger and checkpointing off"
    t = L_.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, enable_progress_bar=False, logger=False,
                   enable_checkpointing=False, enable_model_summary=False)
    t.fit(LitModel(model, loss_func), TorchDataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True))

def compare(case, x, y, make_model, loss_func, bs, epochs, goal, repeats=3):
    "Rows of the report for one case: every implementation trains a fresh model on the same data"
    impls = {"raw torch": raw_loop}
    if mylib_learner: impls.update({"mylib": ours, "mylib, bar on": lambda *a: ours(*a, bar=True)})
    if fastai: impls["fastai"] = fastai_learner
    if L_: impls["lightning"] = lightning_trainer
    fns = {k: (lambda f=f: f(x, y, make_model(), loss_func, bs, epochs)) for k,f in impls.items()}
    times = timeit_many(fns, warmup=1, repeats=repeats, number=1)
    return [(case, k, times[k] / epochs, "epoch", goal if k == "raw torch" else "") for k in fns]

if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.randn(N, D), torch.randn(N, 1)
    rows = compare(f"MLP {D}-64-1, {N} rows, bs 64, 2 epochs", x, y, mlp, nn.MSELoss(), 64, 2, "goal: mylib within 1.10x")
    xi, yi = torch.randn(2560, 3, 32, 32), torch.randint(0, 10, (2560,))
    rows += compare("CNN 3 conv-BN-ReLU, 2,560 images of 32 px, bs 128, 1 epoch", xi, yi, cnn, nn.CrossEntropyLoss(), 128, 1, "goal: mylib within 1.03x", repeats=5)
    report("Learner: training-loop overhead", rows, ours="mylib")
