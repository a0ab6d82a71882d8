"""Text loaders: batches/s of a language model's `LMDataLoader` and an epoch of a classifier's `SortedDL`, ours against fastai's, over the same numericalized texts."""
import tempfile, warnings
import numpy as np
import torch
from _util import report, timeit_many, try_import

warnings.filterwarnings("ignore", category=FutureWarning)  # fastai's imports warn about torch.jit
fastai_data = try_import("fastai.text.data")  # slow import: once, up front
from mylib.data.external import load_news, load_clothing_reviews
from mylib.text.core import tokenize_texts, Numericalize
from mylib.text.data import LMDataLoader, SortedDL, TokenIds

BS, SEQ_LEN = 64, 72

def numericalized(texts, cache_dir):
    "Token ids of `texts` (our tokenizer and vocab, untimed): one int64 tensor per text, and the same as `TokenIds`"
    corpus = tokenize_texts(texts, n_workers=2, cache_dir=cache_dir)
    ids,offsets = Numericalize.from_corpus(corpus).encode_corpus(corpus, dtype=np.int64)
    return [torch.from_numpy(ids[a:b]) for a,b in zip(offsets[:-1], offsets[1:])],TokenIds(ids, offsets)

def epoch(dl):
    "Run through one epoch of `dl`; the number of batches"
    n = 0
    for _ in dl: n += 1
    return n

def lm_loaders(docs, shuffle):
    "Implementation name -> a language-model loader over `docs` (a list of id tensors)"
    return {"mylib": LMDataLoader(docs, bs=BS, seq_len=SEQ_LEN, shuffle=shuffle, device='cpu'),
            "fastai": fastai_data.LMDataLoader(docs, bs=BS, seq_len=SEQ_LEN, shuffle=shuffle) if fastai_data else None}

def sorted_loaders(samples, shuffle):
    "Implementation name -> a classifier loader over `samples` ((ids, label) tuples), padded at the start with `xxpad` (1)"
    from functools import partial
    return {"mylib": SortedDL(samples, bs=BS, shuffle=shuffle, device='cpu'),
            "fastai": fastai_data.SortedDL(samples, bs=BS, shuffle=shuffle, before_batch=partial(fastai_data.pad_input, pad_first=True)) if fastai_data else None}

def time_epochs(loaders, case, unit, rows, repeats=5):
    "Median seconds per batch (`unit='batch'`) or per epoch of each loader, interleaved; appended to `rows`"
    live = {k: dl for k,dl in loaders.items() if dl is not None}
    n = {k: epoch(dl) for k,dl in live.items()} # warm up, and count the batches
    secs = timeit_many({k: (lambda dl=dl: epoch(dl)) for k,dl in live.items()}, warmup=0, repeats=repeats, number=1)
    for k in loaders:
        if k not in live: rows.append((case, k, None, unit)); continue
        t = secs[k] / (n[k] if unit == 'batch' else 1)
        rows.append((case, k, t, unit, f"{n[k]} batches, {n[k]/secs[k]:,.0f} batches/s"))

if __name__ == "__main__":
    torch.manual_seed(0); np.random.seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        news = load_news('news')['text'].dropna().tolist()
        docs,_ = numericalized(news, d)
        n_tok = sum(map(len, docs))
        for shuffle in (True, False):
            time_epochs(lm_loaders(docs, shuffle), f"LMDataLoader, news ({n_tok/1e6:.1f}M tokens), bs {BS}, seq_len {SEQ_LEN}, {'shuffled' if shuffle else 'in order'}", 'batch', rows)
        df = load_clothing_reviews()
        df = df[df['Review Text'].notna()].reset_index(drop=True)
        docs,_ = numericalized(df['Review Text'].tolist(), d)
        samples = list(zip(docs, df['Rating'].astype(int).tolist()))
        for shuffle in (True, False):
            time_epochs(sorted_loaders(samples, shuffle), f"SortedDL, {len(samples):,} clothing reviews, bs {BS}, {'training (shuffled)' if shuffle else 'validation (sorted)'}", 'epoch', rows)
    report(f"Text loaders: time per batch (LMDataLoader) and per epoch (SortedDL), goal: >= 3x fastai", rows, ours="mylib")
