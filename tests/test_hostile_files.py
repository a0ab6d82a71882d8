"""Hostile exports: files made by editing a genuine export, as an attacker would, that `load_learner` must refuse with a
`LoadError` without running anything, writing anything or allocating past its budget; and a fuzzer that mutates the
genuine export at random. Every load runs in a child process under an address-space cap (`RLIMIT_AS`), with canaries:
files a payload would create, processes it would start."""
import copy, json, os, random, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

GENUINE = '''
import sys, torch
from pathlib import Path
from mylib.vision.all import *
d = Path(sys.argv[1])
path = make_shapes(d/'shapes', n=40, size=32, seed=0)
dls = ImageDataLoaders.from_folder(path/'images', valid_pct=0.25, seed=0, bs=8, item_tfms=Resize(32),
                                   batch_tfms=[*aug_transforms(), Normalize.from_stats([0.5]*3, [0.25]*3)])
learn = vision_learner(dls, small_cnn, pretrained=False, metrics=[accuracy, F1Score(average='macro')], path=d)
learn.export()
'''

# Loads each file given in a process whose address space is capped at 1 GiB above what the imports take, each load
# bounded by an alarm, and reports what happened to each; a learner that loads is also asked to predict and to save
# (a mutated pipeline may fail there: allowed, but not running out of memory or time).
HARNESS = '''
import json, os, resource, signal, sys, traceback
from pathlib import Path
import torch, mylib.vision.all, mylib.vision.gan, mylib.vision.models.unet
from mylib.learner import load_learner
from mylib.serialize import LoadError
vm = int(next(l for l in open('/proc/self/status') if l.startswith('VmSize')).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))
def alarm(*_): raise TimeoutError('the load took more than 30 s')
signal.signal(signal.SIGALRM, alarm)
image = sys.argv[1]
out = {}
for fn in sys.argv[2:]:
    signal.alarm(30)
    try:
        learn = load_learner(fn, max_bytes=1 << 28)
        out[fn] = ['ok', str(learn.path/learn.model_dir)]
        try: learn.predict(image); learn.save('probe', with_opt=False)
        except (MemoryError, TimeoutError): raise
        except Exception as e: out[fn][1] = f'loaded, then {type(e).__name__} in use' # a mutated pipeline may not work: that is no load failure
    except LoadError as e: out[fn] = ['LoadError', str(e)]
    except BaseException as e: out[fn] = [type(e).__name__, str(e)[:300] + ' | ' + traceback.format_exc()[-700:]] # MemoryError, TimeoutError...
    finally: signal.alarm(0)
print(json.dumps(out))
'''

@pytest.fixture(scope='module')
def genuine(tmp_path_factory):
    "A genuine export: its folder, its config (JSON) and its tensors"
    d = tmp_path_factory.mktemp('genuine')
    r = subprocess.run([sys.executable, '-c', GENUINE, str(d)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    with safe_open(d/'export.safetensors', 'pt') as f:
        head = json.loads(f.metadata()['mylib'])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    image = str(sorted((d/'shapes'/'images').rglob('*.jpg'))[0])
    return d, head, tensors, image

DEEP = 'nested 100,000 deep' # written as that many brackets: deeper than any JSON library can build in memory

def write(folder, name, config, tensors, version=2):
    "A crafted export holding `config` and `tensors`"
    fn = folder/f'{name}.safetensors'
    text = json.dumps({'version': version, 'config': config}).replace(json.dumps(DEEP), '[' * 100_000 + ']' * 100_000)
    save_file(tensors, fn, metadata={'mylib': text})
    return fn

def load_all(files, image, cwd):
    "What happened to each file, loaded in a capped child process run in `cwd`"
    r = subprocess.run([sys.executable, '-c', HARNESS, image, *map(str, files)], capture_output=True, text=True, cwd=cwd, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    return {Path(k).stem: v for k,v in json.loads(r.stdout.strip().splitlines()[-1]).items()}

def nodes(c, path=()):
    "Every (path, dict node) of a config tree"
    if isinstance(c, dict):
        yield path, c
        for k,v in c.items(): yield from nodes(v, path + (k,))
    elif isinstance(c, list):
        for i,v in enumerate(c): yield from nodes(v, path + (i,))

def find(config, type_suffix):
    "The first object node whose maker's name ends with `type_suffix`"
    return next(n for _,n in nodes(config) if n.get('@') == 'obj' and n['type'].endswith(type_suffix))

def fn(name): return {'@': 'fn', 'name': name}
def obj(name, config, **kw): return {'@': 'obj', 'type': name, 'id': 10**6, 'config': config, **kw}

def attacks(canary):
    "name -> edit of a genuine config; `canary` is a folder the payloads aim at"
    touch = ['touch', str(canary/'process')]
    def set_in(suffix, key, value):
        def edit(c): find(c, suffix)['config'][key] = value
        return edit
    def replace(suffix, new):
        def edit(c):
            n = find(c, suffix)
            n.clear(); n.update(new)
        return edit
    def at(path, value):
        def edit(c):
            o = c
            for k in path[:-1]: o = o[k]
            o[path[-1]] = value
        return edit
    tt = lambda c: c['target_types']['items'][0]
    return {
        # state that overrides behaviour: entries named like methods, in configs and in tensor metadata
        'state_method_in_config': set_in('Categorize', 'decodes', fn('builtins.exec')),
        'state_cpu_on_model': set_in('container.Sequential', 'cpu', fn('os.system')),
        'state_dunder_class': set_in('Normalize', '__class__', fn('subprocess.Popen')),
        'state_dict_entry': set_in('ToTensor', '__dict__', {'encodes': fn('builtins.eval')}),
        'state_kwargs_method': set_in('TfmdDL', 'kwargs', {'one_batch': fn('builtins.exec')}),
        'state_tensor_meta_method': lambda c: tt(c)['meta'].update(cpu=fn('mylib.optimizer.Adam')),
        'state_tensor_meta_private': lambda c: tt(c)['meta'].update(_made_by=[1, 2]),
        # names resolved through attributes, or naming what is not registered
        'name_exec_call': replace('Categorize', obj('builtins.exec.__call__', {'args': ['open("x", "w")']})),
        'name_builtins_dict': set_in('Normalize', 'mean', fn('builtins.__dict__')),
        'name_subclasses': set_in('Normalize', 'std', fn('builtins.object.__subclasses__')),
        'name_private_helper': set_in('Normalize', 'mean', fn('mylib.serialize._record_new')),
        'name_our_writer': replace('ToTensor', obj('mylib.serialize.atomic_save', {'obj': 1, 'fname': str(canary/'written')})),
        'name_popen': replace('Categorize', obj('subprocess.Popen', {'args': touch})),
        'name_os_system': replace('IntToFloatTensor', obj('os.system', {'command': f'touch {canary}/system'})),
        'name_torch_load': set_in('Transform', 'enc', fn('torch.load')),
        'name_main': replace('Normalize', obj('__main__.Payload', {})),
        'name_registered_function_as_maker': replace('Normalize', obj('mylib.metrics.accuracy', {'inp': 1, 'targ': 2})),
        'name_torchvision_builder_as_maker': replace('Normalize', obj('torchvision.models.resnet.resnet18', {'weights': 'IMAGENET1K_V1'})),
        # classes of trusted-looking module trees that do harm in their constructors
        'tree_file_handler': replace('Normalize', obj('logging.FileHandler', {'filename': str(canary/'log')})),
        'tree_memmap': replace('Normalize', obj('numpy.memmap', {'filename': str(canary/'mm'), 'mode': 'w+', 'shape': [10]})),
        'tree_thread': replace('Normalize', obj('threading.Thread', {'target': fn('os.system'), 'args': [f'touch {canary}/thread']})),
        'tree_pil_image': replace('Normalize', obj('PIL.Image.new', {'mode': 'RGB', 'size': [10**5, 10**5]})),
        'tree_dataframe': replace('Normalize', obj('pandas.DataFrame', {'data': [[1]]})),
        'tree_storage': replace('Normalize', obj('torch.UntypedStorage', {'args': [10**10]})),
        # registered makers asked for unbounded memory: refused by the dry run on the meta device
        'memory_huge_linear': replace('container.Sequential', obj('torch.nn.modules.linear.Linear', {'in_features': 10**6, 'out_features': 10**5}, weights='w0')),
        'memory_huge_embedding': replace('container.Sequential', obj('torch.nn.modules.sparse.Embedding', {'num_embeddings': 10**9, 'embedding_dim': 64}, weights='w0')),
        'memory_loss_builds_huge_layer': at(('loss_func',), obj('mylib.losses.BaseLoss', {'loss_cls': fn('torch.nn.modules.linear.Linear'), 'args': [10**6, 10**5]})),
        'memory_unet_huge_image': replace('container.Sequential', obj('mylib.vision.models.unet.DynamicUnet', {
            'encoder': obj('mylib.vision.learner.arch_body', {'arch': fn('mylib.vision.train.small_cnn')}), 'n_out': 2, 'img_size': [10**5, 10**5]}, weights='w0')),
        'memory_model_weights_bigger': lambda c: find(c, 'container.Sequential')['config']['args'].append(obj('torch.nn.modules.linear.Linear', {'in_features': 10**4, 'out_features': 10**4})),
        # tags that used to call without checks
        'tag_dict_with_class': set_in('Normalize', 'mean', {'@': 'dict', 'ordered': False, 'cls': 'subprocess.Popen', 'items': [[touch[0], touch[1]]]}),
        'tag_dtype_by_attribute': set_in('IntToFloatTensor', 'div', {'@': 'dtype', 'name': 'load'}),
        'tag_device': set_in('Normalize', 'mean', {'@': 'device', 'name': 'cuda:0; rm -rf /'}),
        'tag_partial_of_system': set_in('Transform', 'enc', {'@': 'partial', 'fn': fn('os.system'), 'args': [f'touch {canary}/partial'], 'kwargs': {}}),
        'tag_enum_not_enum': set_in('Normalize', 'mean', {'@': 'enum', 'type': 'mylib.data.transforms.Categorize', 'name': '__init__'}),
        'tag_ref_forward': set_in('Normalize', 'mean', {'@': 'ref', 'id': 10**9}),
        'tag_missing_tensor': set_in('Normalize', 'mean', {'@': 'tensor', 'key': 'nope', 'id': 10**7}),
        'tag_tensor_not_a_tensor_type': lambda c: tt(c).update(type='mylib.data.transforms.Categorize'),
        'tag_unknown': set_in('Normalize', 'mean', {'@': 'pickle', 'data': 'gASVAAAA'}),
        'tag_method_of_object': set_in('Transform', 'enc', {'@': 'method', 'self': fn('os.system'), 'name': '__call__'}),
        # paths from the file
        'path_model_dir_absolute': lambda c: c['settings'].update(model_dir=str(canary)),
        'path_model_dir_up': lambda c: c['settings'].update(model_dir='../../' + canary.name),
        'path_model_dir_tag': lambda c: c['settings'].update(model_dir={'@': 'path', 'name': str(canary)}),
        'path_setting': lambda c: c['settings'].update(path={'@': 'path', 'name': str(canary)}),
        # the shape of the file
        'shape_deep_nesting': set_in('Normalize', 'mean', DEEP),
        'shape_nesting_past_the_limit': set_in('Normalize', 'mean', json.loads('[' * 500 + ']' * 500)),
        'shape_extra_part': lambda c: c.update(cbs=[obj('mylib.callback.tracker.SaveModelCallback', {'fname': str(canary/'cb')})]),
        'shape_model_not_module': at(('model',), obj('mylib.data.transforms.Normalize', {})),
    }

def test_hostile_exports_are_refused(genuine, tmp_path):
    d,head,tensors,image = genuine
    canary = tmp_path/'canary'
    canary.mkdir()
    files = []
    for name,edit in attacks(canary).items():
        config = copy.deepcopy(head['config'])
        edit(config)
        files.append(write(tmp_path, name, config, tensors))
    files.append(write(tmp_path, 'version_1', {'@': 'object', 'cls': 'subprocess:Popen', 'id': 0, 'state': {}}, tensors, version=1))
    work = tmp_path/'work'
    work.mkdir()
    res = load_all(files, image, work)
    assert len(res) == len(files)
    wrong = {k: v for k,v in res.items() if v[0] != 'LoadError'}
    assert not wrong, wrong
    assert list(canary.iterdir()) == [] and list(work.iterdir()) == [], 'a payload ran'
    assert 'Export it again' in res['version_1'][1]
    assert 'not registered' in res['name_popen'][1] and 'max_bytes' in res['memory_huge_linear'][1]
    assert "leaves the learner's folder" in res['path_model_dir_up'][1]

def test_genuine_export_loads_and_saves_in_its_folder(genuine, tmp_path):
    d,head,tensors,image = genuine
    fn = write(tmp_path, 'genuine', head['config'], tensors)
    res = load_all([fn], image, tmp_path)
    assert res['genuine'] == ['ok', str(tmp_path/'models')]
    assert (tmp_path/'models'/'probe.pth').exists()

# Names a mutation may write: every public name of builtins, os, torch and mylib, and every registered maker
NAMES = '''
import builtins, json, os, torch, importlib, pkgutil, mylib
from mylib.serialize import _registry
import mylib.vision.all, mylib.vision.gan, mylib.vision.models.unet
names = [f'builtins.{n}' for n in dir(builtins) if not n.startswith('_')] + [f'os.{n}' for n in dir(os) if not n.startswith('_')]
names += [f'torch.{n}' for n in dir(torch) if not n.startswith('_')]
for m in pkgutil.walk_packages(mylib.__path__, 'mylib.'):
    names += [f'{m.name}.{n}' for n in getattr(importlib.import_module(m.name), '__all__', [])]
print(json.dumps(sorted(set(names + list(_registry)))))
'''

# Every name of that list, as a value and as a maker called with no arguments (an outermost module with no weights), in a
# capped process run in an empty folder: refused unless registered, and what is registered builds or refuses, writing nothing.
SWEEP = NAMES.replace('print(json.dumps(sorted(set(names + list(_registry)))))', '''
import resource, collections
from mylib.serialize import from_config, LoadError
names = sorted(set(names + list(_registry)))
vm = int(next(l for l in open('/proc/self/status') if l.startswith('VmSize')).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))
out, bad = collections.Counter(), {}
for n in names:
    for c in ({'@': 'fn', 'name': n}, {'@': 'obj', 'type': n, 'id': 0, 'config': {}}, {'@': 'obj', 'type': n, 'id': 0, 'config': {}, 'weights': 'w0'}):
        try:
            from_config(c, {}, max_bytes=1 << 28)
            out['ok' if c['@'] == 'fn' else 'built'] += 1
            if n not in _registry and not n.startswith('torchvision.models.'): bad[f"{c['@']} {n}"] = 'accepted, but not registered'
        except LoadError: out['refused'] += 1
        except BaseException as e: bad[f"{c['@']} {n}"] = f"{type(e).__name__}: {e}"[:200]
print(json.dumps({'counts': out, 'bad': bad, 'n': len(names)}))
''')

def test_every_public_name_is_refused_unless_registered(tmp_path):
    r = subprocess.run([sys.executable, '-c', SWEEP], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['bad'] == {}, res['bad']
    assert list(tmp_path.iterdir()) == []
    assert res['n'] > 2000 and res['counts']['refused'] > 2 * res['n'] # most names are neither values nor makers
    print(res['counts'])

def mutate(config, rng, names):
    "`config` changed in 1 to 3 random places: a name replaced, a type swapped, a size blown up, nesting added, an entry dropped or added"
    c = copy.deepcopy(config)
    for _ in range(rng.randint(1, 3)):
        path,node = rng.choice(list(nodes(c)))
        keys = list(node) if isinstance(node, dict) else []
        if not keys: continue
        k = rng.choice(keys)
        op = rng.randrange(7)
        if op == 0: node[k] = rng.choice(names) # any string, a name especially
        elif op == 1 and node.get('@') in ('obj', 'fn'): node['type' if 'type' in node else 'name'] = rng.choice(names)
        elif op == 2: node[k] = rng.choice([None, True, -1, 0, 10**12, 2**63, -2**63, 1e308, float('nan'), '', 'x' * 1000, [], {}, [[[]]], {'@': 'ref', 'id': 0}])
        elif op == 3 and isinstance(node[k], int) and not isinstance(node[k], bool): node[k] = rng.choice([10**6, 10**9, -10**9, 2**31])
        elif op == 4:
            for _ in range(rng.randint(1, 600)): node[k] = [node[k]] # (deeper than json.dumps can write: the DEEP file above)
        elif op == 5: del node[k]
        else: node[rng.choice(names).rsplit('.', 1)[-1]] = {'@': 'fn', 'name': rng.choice(names)}
    return c

def fuzz(genuine, tmp_path, n, seed):
    d,head,tensors,image = genuine
    names = json.loads(subprocess.run([sys.executable, '-c', NAMES], capture_output=True, text=True, check=True).stdout)
    rng = random.Random(seed)
    files = [write(tmp_path, f'fuzz{i}', mutate(head['config'], rng, names), tensors) for i in range(n)]
    work = tmp_path/'work'
    work.mkdir()
    res = {}
    for i in range(0, n, 200): res.update(load_all(files[i:i+200], image, work))
    assert len(res) == n
    bad = {k: v for k,v in res.items() if v[0] not in ('ok', 'LoadError')}
    assert not bad, bad
    assert list(work.glob('*')) == [] or {p.name for p in work.iterdir()} == {'models'}, list(work.iterdir())
    return res

def test_fuzzed_exports_never_run_code(genuine, tmp_path):
    res = fuzz(genuine, tmp_path, n=300, seed=0)
    print({o: sum(v[0] == o for v in res.values()) for o in ('ok', 'LoadError')})

@pytest.mark.slow
def test_fuzzed_exports_never_run_code_long(genuine, tmp_path):
    res = fuzz(genuine, tmp_path, n=3000, seed=1)
    print({o: sum(v[0] == o for v in res.values()) for o in ('ok', 'LoadError')})
