"""Fine-tuning a text classifier on the CPU: time of one epoch of `text_classifier_learner` (AWD-LSTM, the same config) on the same clothing reviews, ours against fastai's."""
import statistics, time, warnings
import torch
from _util import report, try_import

warnings.filterwarnings("ignore")  # fastai's imports warn about torch.jit
fastai_text = try_import("fastai.text.all")  # slow import: once, up front
from mylib.data.external import load_clothing_reviews
import mylib.text.all as ours

N, BS, SEQ_LEN, LR = 2000, 32, 72, 1e-3

def reviews():
    "The first `N` clothing reviews with a text, as `text`, `label` (the rating 1-5)"
    df = load_clothing_reviews()
    df = df[df['Review Text'].notna()].head(N).reset_index(drop=True)
    return df.assign(text=df['Review Text'], label=df['Rating'].astype(str))[['text', 'label']]

def mylib_learner(df):
    dls = ours.TextDataLoaders.from_df(df, text_col='text', label_col='label', valid_pct=0.2, seed=0, bs=BS, seq_len=SEQ_LEN, device='cpu')
    learn = ours.text_classifier_learner(dls, ours.AWD_LSTM, seq_len=SEQ_LEN, drop_mult=0.5)
    learn.unfreeze()
    return learn

def fastai_learner(df):
    dls = fastai_text.TextDataLoaders.from_df(df, text_col='text', label_col='label', valid_pct=0.2, seed=0, bs=BS, seq_len=SEQ_LEN, device='cpu')
    learn = fastai_text.text_classifier_learner(dls, fastai_text.AWD_LSTM, seq_len=SEQ_LEN, drop_mult=0.5, pretrained=False)
    learn.unfreeze()
    return learn

def fit_secs(learn, quiet):
    "Seconds of `learn.fit(1)`, bar (and fastai's logging) off"
    t0 = time.perf_counter()
    with quiet(learn): learn.fit(1, LR)
    return time.perf_counter() - t0

class _Quiet:
    def __init__(self, learn, logging): self.cms = [learn.no_bar()] + ([learn.no_logging()] if logging else [])
    def __enter__(self): [c.__enter__() for c in self.cms]
    def __exit__(self, *a): [c.__exit__(*a) for c in reversed(self.cms)]

def vocab_size(learn): return next(m for m in learn.model.modules() if isinstance(m, torch.nn.Embedding)).num_embeddings

def precision_case(df, bf16, repeats):
    "Rows of one case: both learners in float32, or both after `to_bf16()` (fastai's autocast is CUDA's only: on a CPU it trains in float32)"
    learners = {'mylib': mylib_learner(df), 'fastai': fastai_learner(df) if fastai_text else None}
    if bf16: learners = {k: l if l is None else l.to_bf16() for k,l in learners.items()}
    quiet = {'mylib': lambda l: _Quiet(l, False), 'fastai': lambda l: _Quiet(l, True)}
    times = {k: [] for k in learners}
    for _ in range(repeats): # interleaved: load changes hit both alike
        for k,l in learners.items():
            if l is not None: times[k].append(fit_secs(l, quiet[k]))
    case = f"{N:,} clothing reviews (80% trained), AWD-LSTM, bs {BS}, seq_len {SEQ_LEN}, fit 1 epoch, CPU" + (", both learners `.to_bf16()`" if bf16 else "")
    return [(case, k, statistics.median(ts) if ts else None, 'epoch',
             f"{sum(p.numel() for p in learners[k].model.parameters())/1e6:.1f}M parameters, vocab {vocab_size(learners[k]):,}; "
             f"epochs: {', '.join(f'{t:.1f}' for t in ts)} s" if ts else '') for k,ts in times.items()]

if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--repeats', type=int, default=3, help='interleaved timed epochs of each (median)')
    ap.add_argument('--precision', default='fp32,bf16', help="the cases: 'fp32' (default training), 'bf16' (both learners `to_bf16()`), or both")
    a = ap.parse_args()
    torch.manual_seed(0)
    df = reviews()
    rows = [r for p in a.precision.split(',') for r in precision_case(df, p == 'bf16', a.repeats)]
    report("Fine-tuning a text classifier: time per epoch, goal: >= 1.3x fastai", rows, ours="mylib")
