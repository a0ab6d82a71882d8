"""Build the documentation site from the notebooks: `python docs/build.py [--out DIR] [--only NB ...]`.

Exports the package and README, executes and processes every notebook (in parallel), renders the site
with Sphinx + myst-nb, and checks its links. Open `<out>/index.html` in a browser, or serve it:
`python -m http.server -d docs/_build/html`.

Every tool runs on the interpreter running this script (in this process, in its workers, or as
`sys.executable <script installed beside it>`), never on whatever PATH finds: `.venv/bin/python docs/build.py`
needs no activated environment.
"""
from __future__ import annotations
import argparse, os, shutil, subprocess, sys, sysconfig, time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))
import nbdocs

def console_script(name:str) -> list[str]:
    "The command that runs the console script `name` (`nbdev-export`) installed for this interpreter, whatever PATH holds"
    dirs = list(dict.fromkeys([Path(sysconfig.get_path('scripts')), Path(sys.executable).parent]))
    for d in dirs:
        if (d/name).is_file(): return [sys.executable, str(d/name)]  # run as a script: its shebang and PATH play no part
    raise FileNotFoundError(f'{name} is not installed for {sys.executable} (not in {", ".join(map(str, dirs))}): pip install -e ".[dev]"')

def sphinx(src:Path, out:Path, jobs:int=2, quiet:bool=True) -> list[str]:
    "Render the page notebooks in `src` into `out` with Sphinx; the warnings it printed"
    from sphinx.cmd.build import build_main
    warn = src.parent/'warnings.txt'
    args = ['-b', 'html', '-c', str(DOCS), '-j', str(jobs), '-E', '-w', str(warn), '-d', str(src.parent/'doctrees')]
    if quiet: args.append('-q')
    rc = build_main(args + [str(src), str(out)])
    warnings = [l for l in warn.read_text().splitlines() if 'WARNING' in l or 'ERROR' in l] if warn.exists() else []
    if rc: raise RuntimeError(f'sphinx-build failed (exit {rc}):\n' + '\n'.join(warnings))
    return warnings

def build(out:str|Path|None=None, only=None, exec_mode:str='all', jobs:int|None=None, export:bool=True,
          check:bool=True, keep_going:bool=False, log=print) -> dict:
    "Build the site into `out` (default `docs/_build/html`): a dict of what was built, how long it took, what failed and what is broken"
    cwd = os.getcwd()
    os.chdir(DOCS.parent)  # nbdev finds its config from the working directory, in the workers too
    try: return _build(out, only, exec_mode, jobs, export, check, keep_going, log)
    finally: os.chdir(cwd)

def _build(out, only, exec_mode, jobs, export, check, keep_going, log):
    cfg = nbdocs.get_config()
    out = Path(out or cfg.doc_path/'html').resolve()
    jobs = jobs or min(os.cpu_count() or 1, 4)
    t0 = time.time()
    if export:
        subprocess.run(console_script('nbdev-export'), cwd=cfg.config_path, check=True)  # not PATH's: no virtualenv need be active
        if nbdocs.write_readme(): log('README.md regenerated from nbs/index.ipynb')
    rels = nbdocs.find_notebooks(cfg.nbs_path, only)
    for w in nbdocs.layer_table_problems(nbdocs.find_notebooks(cfg.nbs_path)):
        log(f"WARNING: {w} (the sidebar's groups are the rows of the README's layer table)")
    src = out.parent/f'.{out.name}-work'/'src'  # the processed notebooks, kept for a look
    shutil.rmtree(src, ignore_errors=True); src.mkdir(parents=True)
    log(f'processing {len(rels)} notebooks ({exec_mode} cells executed, {jobs} workers)')
    times,failed = nbdocs.process_all(rels, src, exec_mode=exec_mode, jobs=jobs, timeout=cfg.get('cell_timeout'),
                                      keep_going=keep_going, log=log)
    if failed and not keep_going:
        raise RuntimeError('\n\n'.join(f'FAILED {rel}:\n{err}' for rel,err in failed.items()) +
                           f'\n\n{len(failed)} notebook(s) failed ({", ".join(failed)}); --keep-going renders them without outputs')
    for rel,err in failed.items(): log(f'\nFAILED {rel} (rendered without its outputs):\n{err}')
    t1 = time.time()
    nbdocs.add_toctree(src/'index.ipynb', nbdocs.site_toc(rels))
    if out.exists():
        if any(out.iterdir()) and not (out/'.buildinfo').exists():
            raise RuntimeError(f'--out {out}: not empty and not a previous build (no .buildinfo): choose an empty or new folder')
        shutil.rmtree(out)
    warnings = sphinx(src, out, jobs=jobs)
    for w in warnings: log(w)
    t2 = time.time()
    broken = nbdocs.check_links(out, partial=bool(only)) if check else []
    for page,url,why in broken: log(f'BROKEN LINK in {page}: {url} ({why})')
    res = dict(out=out, pages=[nbdocs.nb_key(r) for r in rels], times=times, failed=failed, warnings=warnings, broken=broken,
               process_s=t1-t0, render_s=t2-t1, total_s=time.time()-t0)
    log(f'built {len(rels)} pages into {out} in {res["total_s"]:.0f}s (notebooks {res["process_s"]:.0f}s, '
        f'sphinx {res["render_s"]:.0f}s); {len(warnings)} warnings, {len(broken)} broken links')
    return res

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', help='output folder (default docs/_build/html)')
    p.add_argument('--only', nargs='+', help='build only these notebooks (stems or page names) and the home page')
    p.add_argument('--exec', dest='exec_mode', choices=['all', 'docs'], default='all',
                   help='all: run every cell for its outputs (default); docs: only what show_doc needs (fast, no outputs)')
    p.add_argument('--jobs', type=int, help='worker processes (default: the number of CPUs, at most 4)')
    p.add_argument('--no-export', dest='export', action='store_false', help='skip nbdev-export and the README')
    p.add_argument('--no-check', dest='check', action='store_false', help='skip the link check')
    p.add_argument('--strict', action='store_true', help='fail on Sphinx warnings too')
    p.add_argument('--keep-going', action='store_true', help='render a notebook that fails without its outputs (and exit 1 at the end)')
    a = p.parse_args(argv)
    try: res = build(a.out, a.only, a.exec_mode, a.jobs, a.export, a.check, a.keep_going)
    except RuntimeError as e: sys.exit(f'{e}\ndocs build failed')
    if res['broken'] or res['failed'] or (a.strict and res['warnings']): sys.exit(1)

if __name__ == '__main__': main()
