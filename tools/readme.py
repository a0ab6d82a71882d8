"""Write README.md from nbs/index.ipynb with the docs' notebook processing (`docs/nbdocs.py`), so the two never disagree.

`python tools/readme.py` rewrites README.md when it differs; `--check` only says whether it would (exit 1 if so). Both say
where the README's layer table (the docs sidebar's groups) and tutorials list disagree with the notebooks (`--check`: exit 1).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'docs'))
import nbdocs

if __name__ == '__main__':
    cfg = nbdocs.get_config()
    dest = cfg.config_path/cfg.get('readme_file', 'README.md')
    problems = nbdocs.layer_table_problems(nbdocs.find_notebooks(cfg.nbs_path))
    for p in problems: print(f'nbs/index.ipynb disagrees with the notebooks: {p}', file=sys.stderr)
    if '--check' in sys.argv[1:]:
        same = dest.exists() and dest.read_text(encoding='utf-8') == nbdocs.readme_md(cfg.get('readme_nb', 'index.ipynb'))
        print(f'{dest.name} is {"in sync with" if same else "out of date with"} nbs/index.ipynb')
        sys.exit(0 if same and not problems else 1)
    if nbdocs.write_readme(dest): print(f'{dest.name} regenerated from nbs/index.ipynb')
