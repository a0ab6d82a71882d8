"""Download throughput from a loopback HTTP server: `download_url` (progress bar, SHA-256, fsync) against a bare `urllib.request` read-and-write loop."""
import argparse, hashlib, io, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
from _util import report, fmt_time
from mylib.data.external import download_url
from mylib.callback.progress import TerminalOutput

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

SERVER = r'''
import http.server, sys, time
folder, port, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
class Handler(http.server.SimpleHTTPRequestHandler):
    "Serves `folder`; with a `rate` (MiB/s), paces the body to it, as a real link would"
    def __init__(self, *a, **k): super().__init__(*a, directory=folder, **k)
    def log_message(self, *a): pass
    def copyfile(self, src, dst):
        if not rate: return super().copyfile(src, dst)
        t0, n = time.perf_counter(), 0
        while b := src.read(1 << 16):
            dst.write(b); n += len(b)
            ahead = n / (rate * 2**20) - (time.perf_counter() - t0)
            if ahead > 0: time.sleep(ahead)
http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
'''

def serve(folder, rate=0):
    "An HTTP server on 127.0.0.1 serving `folder` (at `rate` MiB/s; 0: as fast as it can), in its own process (so it does not share our GIL); its URL"
    port = free_port()
    p = subprocess.Popen([sys.executable, '-c', SERVER, str(folder), str(port), str(rate)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.2): break
        except OSError: time.sleep(0.1)
    return p, f'http://127.0.0.1:{port}'

def bare(url, dest, chunk):
    "What a user writes without a library: urlopen, then read and write `chunk` bytes at a time"
    with urllib.request.urlopen(url, timeout=30) as resp, open(dest, 'wb') as f:
        while b := resp.read(chunk): f.write(b)

def bare_plus(url, dest, chunk, sha=False, fsync=False):
    "The bare loop, also hashing each chunk with SHA-256 and/or fsyncing at the end (what `download_url` does)"
    h = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=30) as resp, open(dest, 'wb') as f:
        while b := resp.read(chunk):
            f.write(b)
            if sha: h.update(b)
        if fsync: f.flush(); os.fsync(f.fileno())
    return h.hexdigest()

def impls(url, sha, size):
    "What is timed, by name: each downloads `url` to the file it is given"
    return {'bare urllib loop, 64 KiB reads': lambda d: bare(url, d, 1 << 16),
            'bare urllib loop, 1 MiB reads': lambda d: bare(url, d, 1 << 20),
            'bare loop + sha256, 64 KiB': lambda d: bare_plus(url, d, 1 << 16, sha=True),
            'bare loop + fsync, 64 KiB': lambda d: bare_plus(url, d, 1 << 16, fsync=True),
            'mylib download_url (bar, sha256)': lambda d: download_url(url, d, sha256=sha, size=size, show_progress=bar()),
            'download_url, no bar': lambda d: download_url(url, d, sha256=sha, size=size, show_progress=False)}

def bar():
    "A terminal bar whose output is dropped: the cost of updating it, not of a terminal drawing it"
    return TerminalOutput(file=io.StringIO(), columns=100)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--mb', type=int, default=200, help="size of the file served, MiB (default 200)")
    ap.add_argument('--repeats', type=int, default=5, help="interleaved runs; medians are reported (default 5)")
    ap.add_argument('--rates', default='0,100', help="server speeds to test, MiB/s, 0 for unlimited loopback (default 0,100: a fast real link)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(dir=os.environ.get('MYLIB_BENCH_TMP')))
    src, out = tmp/'srv', tmp/'out'
    src.mkdir(); out.mkdir()
    data = os.urandom(1 << 20)
    with open(src/'big.bin', 'wb') as f:
        for i in range(a.mb): f.write(data[i:] + data[:i]) # distinct MiBs
    size = a.mb << 20
    sha = hashlib.sha256((src/'big.bin').read_bytes()).hexdigest()
    t0 = time.perf_counter(); hashlib.sha256((src/'big.bin').read_bytes()) ; t_hash = time.perf_counter() - t0
    rows = []
    for rate in [float(r) for r in a.rates.split(',')]:
        srv, base = serve(src, rate)
        url = f'{base}/big.bin'
        fns = impls(url, sha, size)
        times = {k: [] for k in fns}
        try:
            for k, fn in fns.items(): # warm up: the server's page cache, imports
                fn(out/'warm.bin'); (out/'warm.bin').unlink()
            for _ in range(a.repeats):
                for k, fn in fns.items():
                    d = out/'big.bin'
                    t0 = time.perf_counter(); fn(d); times[k].append(time.perf_counter() - t0)
                    assert d.stat().st_size == size, k
                    d.unlink()
        finally: srv.kill(); srv.wait()
        case = f"{a.mb} MiB from 127.0.0.1{f' at {rate:g} MiB/s' if rate else ''}"
        med = {k: statistics.median(v) for k, v in times.items()}
        floor = med['bare urllib loop, 64 KiB reads']
        rows += [(case, k, med[k] / a.mb, 'MiB', f"{a.mb / med[k]:.0f} MiB/s; {med[k] / floor - 1:+.1%} over the bare 64 KiB loop; runs {', '.join(f'{t:.2f}' for t in times[k])} s")
                 for k in fns]
    print(f"\nSHA-256 of the file alone, in memory: {fmt_time(t_hash)} ({a.mb / t_hash:.0f} MiB/s); goal: download_url within 5% of the bare loop")
    report('download throughput: download_url against bare urllib (goal: within 1.05x)', rows, ours='mylib download_url (bar, sha256)')
