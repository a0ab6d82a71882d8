"The README's main job, run as a user would: `python -m mylib.vision.train`, and its `predict` command."
import subprocess, sys, re, os
from pathlib import Path
import pytest

TRAIN = [sys.executable, '-m', 'mylib.vision.train']

def run(args, **kwargs): return subprocess.run(args, capture_output=True, text=True, **kwargs)

def test_quick_start_trains_evaluates_and_exports(tmp_path):
    r = run(TRAIN + ['--out', str(tmp_path)])
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    acc = float(re.search(r'final validation accuracy: ([\d.]+)', out).group(1))
    assert acc >= 0.95, out
    assert re.search(r'actual \\ predicted\s+circle\s+cross\s+square\s+star', out), out # the confusion matrix
    assert (tmp_path/'export.safetensors').exists()
    assert re.search(r'a fresh process loaded it and predicts \S+\.jpg: (circle|cross|square|star)\n', out), out

def test_quick_start_exports_under_the_current_folder_then_predicts(tmp_path):
    r = run(TRAIN + ['--n', '100', '--epochs', '1', '--seed', '1'], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    export = tmp_path/'mylib-train'/'export.safetensors'
    assert export.exists() and f'exported to {export}' in r.stdout, r.stdout
    stars = tmp_path/'mylib-train'/'shapes'/'images'/'star'
    r = run(TRAIN + ['predict', str(stars)], cwd=tmp_path) # the export in ./mylib-train by default
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert len(lines) == len(list(stars.glob('*.jpg'))), r.stdout
    for line in lines:
        f, label, prob = line.split('\t')
        assert Path(f).parent == stars and label in ('circle', 'cross', 'square', 'star') and 0 < float(prob) <= 1, line

def test_quick_start_uses_a_train_valid_split(tmp_path):
    from PIL import Image
    for split, n in (('train', 6), ('valid', 2)):
        for c, colour in (('red', (255, 0, 0)), ('blue', (0, 0, 255))):
            (tmp_path/split/c).mkdir(parents=True)
            for i in range(n): Image.new('RGB', (16, 16), colour).save(tmp_path/split/c/f'{i}.png')
    r = run(TRAIN + [str(tmp_path), '--epochs', '1', '--size', '16', '--bs', '4', '--arch', 'xresnet18', '--out', str(tmp_path/'out')])
    assert r.returncode == 0, r.stderr[-3000:]
    assert '(4 images held out: its train/valid folders)' in r.stdout, r.stdout

def test_quick_start_says_what_is_wrong_with_a_bad_folder(tmp_path):
    r = run(TRAIN + [str(tmp_path/'nope')])
    assert r.returncode != 0 and 'no folder' in r.stderr and 'nope' in r.stderr
    (tmp_path/'empty'/'cat').mkdir(parents=True)
    r = run(TRAIN + [str(tmp_path/'empty')])
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1, r.stderr # one line, no traceback
    assert re.match(rf"python -m mylib.vision.train: .*no files in '{re.escape(str(tmp_path/'empty'))}'.*\.jpg", r.stderr), r.stderr

def test_help_names_the_program_as_typed():
    r = run(TRAIN + ['--help'])
    assert r.returncode == 0 and r.stdout.startswith('usage: python -m mylib.vision.train'), r.stdout
    assert '--arch' in r.stdout and '--valid_pct' in r.stdout and '--aug' in r.stdout and '--workers' in r.stdout
    r = run(TRAIN + ['predict', '--help'])
    assert r.stdout.startswith('usage: python -m mylib.vision.train predict'), r.stdout
    script = Path(sys.executable).parent/'mylib-train' # the console script, where the package is installed
    if not script.exists(): pytest.skip('mylib-train is not installed in this environment')
    r = run([str(script), '--help'], env={**os.environ, 'PYTHONPATH': str(Path(__file__).parents[1])})
    assert r.stdout.startswith('usage: mylib-train'), r.stdout + r.stderr
