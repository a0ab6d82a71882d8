"The README's main job, run as a user would."
import subprocess, sys, re

def test_train_foundation_example_learns(root):
    out = subprocess.run([sys.executable, str(root/'examples'/'train_foundation.py'), '--epochs', '3', '--n', '600'],
                         capture_output=True, text=True, check=True, cwd=root).stdout
    acc = float(re.search(r'final validation accuracy: ([\d.]+)', out).group(1))
    assert acc >= 0.9, out
    assert 'predictions:' in out
