"""Run the benchmarks: `python bench/run.py [--threads N] [names...]`, each script in its own subprocess."""
import argparse, os, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).parent

def find(names):
    "Paths of `bench/bench_*.py`, or of the named ones (`types`, `bench_types` or `bench_types.py`)"
    if not names: return sorted(HERE.glob("bench_*.py"))
    stems = [n.removesuffix(".py") for n in names]
    paths = [HERE/f"{s if s.startswith('bench_') else 'bench_'+s}.py" for s in stems]
    missing = [p.name for p in paths if not p.exists()]
    if missing: sys.exit(f"No such benchmark: {', '.join(missing)}; found: {', '.join(p.stem for p in find([]))}")
    return paths

def run(path, threads):
    "Run one script in a fresh interpreter (so imports don't interfere); its tables go to our stdout"
    print(f"\n# {path.stem}", flush=True)
    t0 = time.perf_counter()
    env = {**os.environ, "MYLIB_BENCH_THREADS": str(threads)}
    rc = subprocess.run([sys.executable, str(path)], env=env, cwd=HERE.parent).returncode
    print(f"\n({path.name}: {'ok' if rc==0 else f'FAILED, exit code {rc}'}, {time.perf_counter()-t0:.1f} s)", flush=True)
    return rc

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("names", nargs="*", help="benchmarks to run (default: every bench/bench_*.py)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("MYLIB_BENCH_THREADS", 2)), help="torch.set_num_threads in each script")
    args = p.parse_args()
    failed = [path.name for path in find(args.names) if run(path, args.threads)]
    if failed: sys.exit(f"\nFailed: {', '.join(failed)}")
