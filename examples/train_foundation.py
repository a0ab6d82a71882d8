"""Train a small CNN on generated images through mylib's foundation layer.

A stand-in main job until the vision layer lands: it generates a three-class image set (a bright
square, a bright cross or a bright ring on a noisy background), encodes it with mylib Transforms
(a label vocabulary and per-channel normalization, both learned from the training split in
`Pipeline.setup`), trains a small CNN with a plain PyTorch loop on plain tensors, prints one line
per epoch and the final validation accuracy, and decodes a few predictions back to label names.

    python examples/train_foundation.py [--epochs 4] [--n 900] [--seed 42]
"""
import argparse, time
import torch, torch.nn as nn, torch.nn.functional as F
from mylib.torch_core import TensorImage, TensorCategory, set_seed, to_plain, default_device
from mylib.transform import Transform, DisplayedTransform, Pipeline

CLASSES = ('square', 'cross', 'ring')

def make_image(label, size=32, g=None):
    "One noisy 3-channel image showing the shape named `label`, at a random position, size and colour."
    img = torch.rand(3, size, size, generator=g) * 0.4
    r = int(torch.randint(5, 9, (1,), generator=g))
    cy, cx = (int(v) for v in torch.randint(r + 1, size - r - 1, (2,), generator=g))
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    dy, dx = (yy - cy).abs(), (xx - cx).abs()
    if label == 'square': mask = (dy <= r) & (dx <= r)
    elif label == 'cross': mask = ((dy <= 1) & (dx <= r)) | ((dx <= 1) & (dy <= r))
    else: mask = ((yy - cy) ** 2 + (xx - cx) ** 2 - r * r).abs() <= 2 * r
    colour = 0.6 + 0.4 * torch.rand(3, 1, generator=g)
    img[:, mask] = colour.expand(3, int(mask.sum()))
    return img

def make_items(n, seed):
    "`n` (image, label name) pairs, classes balanced, deterministic for `seed`."
    g = torch.Generator().manual_seed(seed)
    return [(make_image(CLASSES[i % 3], g=g), CLASSES[i % 3]) for i in range(n)]

class Split:
    "Items split into `train` and `valid` lists (what `Pipeline.setup` learns from is `train`)."
    def __init__(self, items, valid_pct=0.2):
        n_valid = int(len(items) * valid_pct)
        self.train, self.valid = items[n_valid:], items[:n_valid]

class ToImage(Transform):
    "Mark a raw tensor as a `TensorImage`."
    def encodes(self, o: torch.Tensor) -> TensorImage: return o

class LabelEncode(DisplayedTransform):
    "Label names to class indices, vocabulary learned in setup."
    def setups(self, items): self.vocab = sorted({y for _, y in items})
    def encodes(self, o: str): return TensorCategory(self.vocab.index(o))
    def decodes(self, o: TensorCategory): return self.vocab[int(o)]

class Normalize(DisplayedTransform):
    "Per-channel standardization of images, statistics measured on the training items."
    order = 10
    def setups(self, items):
        imgs = torch.stack([x for x, _ in items])  # (n, c, h, w)
        self.mean, self.std = imgs.mean((0, 2, 3), keepdim=True)[0], imgs.std((0, 2, 3), keepdim=True)[0]
    def encodes(self, x: TensorImage): return (x - self.mean) / self.std
    def decodes(self, x: TensorImage): return x * self.std + self.mean

def batches(items, bs, shuffle, g=None):
    "Stack encoded items into `(xb, yb)` batches of plain tensors, as a model wants them."
    idx = torch.randperm(len(items), generator=g) if shuffle else torch.arange(len(items))
    for i in range(0, len(items), bs):
        chunk = [items[j] for j in idx[i:i + bs]]
        yield to_plain((torch.stack([x for x, _ in chunk]), torch.stack([y for _, y in chunk])))

def model(n_out=3):
    "Three conv/BN/ReLU stages, global pooling, linear head."
    def block(ni, nf): return nn.Sequential(nn.Conv2d(ni, nf, 3, stride=2, padding=1), nn.BatchNorm2d(nf), nn.ReLU())
    return nn.Sequential(block(3, 16), block(16, 32), block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, n_out))

def accuracy(net, items, device):
    net.eval()
    with torch.no_grad():
        hits = sum((net(xb.to(device)).argmax(1).cpu() == yb).sum().item() for xb, yb in batches(items, 256, False))
    return hits / len(items)

def main(epochs=4, n=900, seed=42, bs=32, lr=3e-3):
    set_seed(seed)
    device = default_device()
    split = Split([(ToImage()(x), y) for x, y in make_items(n, seed)])
    pipe = Pipeline([LabelEncode(), Normalize()]).setup(split)
    print(pipe)
    train, valid = [pipe(o) for o in split.train], [pipe(o) for o in split.valid]
    net = model(len(pipe.vocab)).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * -(-len(train) // bs))
    g = torch.Generator().manual_seed(seed)
    print(f"{'epoch':>5} {'train_loss':>10} {'valid_acc':>9} {'time':>6}")
    for epoch in range(epochs):
        start, net, losses = time.time(), net.train(), []
        for xb, yb in batches(train, bs, True, g):
            loss = F.cross_entropy(net(xb.to(device)), yb.to(device))
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            losses.append(loss.item())
        print(f"{epoch:>5} {sum(losses) / len(losses):>10.4f} {accuracy(net, valid, device):>9.3f} {time.time() - start:>5.1f}s")
    acc = accuracy(net, valid, device)
    print(f"final validation accuracy: {acc:.3f}")
    xb, _ = next(batches(valid, 4, False))
    preds = net.eval()(xb.to(device)).argmax(1).cpu()
    decoded = [pipe.decode((x, TensorCategory(p)))[1] for x, p in zip(xb, preds)]
    print("predictions:", decoded, "truth:", [y for _, y in split.valid[:4]])
    return acc

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--epochs', type=int, default=4)
    p.add_argument('--n', type=int, default=900, help='number of generated images')
    p.add_argument('--seed', type=int, default=42)
    main(**vars(p.parse_args()))
