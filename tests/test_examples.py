"The README's main job, run as a user would: `python -m mylib.vision.train`."
import subprocess, sys, re

def test_quick_start_trains_evaluates_and_exports(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'mylib.vision.train', '--out', str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    acc = float(re.search(r'final validation accuracy: ([\d.]+)', out).group(1))
    assert acc >= 0.95, out
    assert re.search(r'actual \\ predicted\s+circle\s+cross\s+square\s+star', out), out # the confusion matrix
    assert (tmp_path/'export.safetensors').exists()
    assert re.search(r'a fresh process loaded it and predicts \S+\.jpg: (circle|cross|square|star)\n', out), out

def test_quick_start_says_what_is_wrong_with_a_bad_folder(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'mylib.vision.train', str(tmp_path/'nope')], capture_output=True, text=True)
    assert r.returncode != 0 and 'no folder' in r.stderr and 'nope' in r.stderr
