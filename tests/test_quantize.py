"Quantized learners: dynamic and static int8, the saved state and its checks against hostile files"
import json, warnings
import pytest
import torch
from torch import nn
from safetensors.torch import save_file, load_file
from mylib.data.load import DataLoader
from mylib.data.core import DataLoaders
from mylib.learner import Learner
from mylib.serialize import LoadError
from mylib.metrics import accuracy
from mylib.vision.train import small_cnn
from mylib.text.models.core import get_text_classifier
from mylib.text.models.awdlstm import AWD_LSTM, WeightDropout
from mylib.quantize import (Int8Embedding, quantize_model, quantize_dynamic, quantize_static, save_quantized,
                            load_quantized, quantized_state, check_recipe, QuantizationAwareTraining, is_qat, QUANT_FORMAT, QuantizeError)

warnings.filterwarnings('ignore')

def image_learner(n=96, c=3, size=16, n_out=3):
    "A learner of a tiny CNN over random images (in memory), untrained: enough to quantize and compare"
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, c, size, size, generator=g), torch.randint(0, n_out, (n,), generator=g)
    dls = DataLoaders(DataLoader((x[:64], y[:64]), bs=16, shuffle=True, seed=0), DataLoader((x[64:], y[64:]), bs=16))
    torch.manual_seed(0)
    return Learner(dls, small_cnn(n_out=n_out, widths=(8, 16)), loss_func=nn.CrossEntropyLoss(), metrics=accuracy)

def text_learner(vocab=50, n=64, sl=12):
    "A learner of a tiny AWD-LSTM classifier over random token ids, untrained"
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(2, vocab, (n, sl), generator=g), torch.randint(0, 2, (n,), generator=g)
    dls = DataLoaders(DataLoader((x[:48], y[:48]), bs=16, shuffle=True, seed=0), DataLoader((x[48:], y[48:]), bs=16))
    torch.manual_seed(0)
    model = get_text_classifier(AWD_LSTM, vocab, 2, config=dict(emb_sz=16, n_hid=24, n_layers=2))
    return Learner(dls, model, loss_func=nn.CrossEntropyLoss(), metrics=accuracy)

@pytest.fixture(scope='module')
def img(): return image_learner()

@pytest.fixture(scope='module')
def qimg(img): return quantize_static(img, n_batches=2)

@pytest.fixture(scope='module')
def txt(): return text_learner()

@pytest.fixture(scope='module')
def qtxt(txt): return quantize_dynamic(txt)

def test_int8_embedding_close_to_float():
    emb = nn.Embedding(30, 8, padding_idx=0)
    q = Int8Embedding.from_float(emb)
    ids = torch.arange(30).reshape(5, 6)
    assert (q(ids) - emb(ids)).abs().max() <= q.scale.max() / 2 + 1e-7
    assert torch.equal(q(torch.tensor([0])), torch.zeros(1, 8))
    assert q.qweight.dtype == torch.int8 and q.weight.shape == (30, 8)

def test_dynamic_text_model_computes_the_same(txt, qtxt):
    "WeightDropout is unwrapped (eval: the LSTM itself), embeddings shared by the encoder and its dropout stay one module"
    enc = qtxt.model[0].module
    assert not any(isinstance(m, WeightDropout) for m in qtxt.model.modules())
    assert enc.encoder is enc.encoder_dp and isinstance(enc.encoder, Int8Embedding)
    p, _ = txt.get_preds()
    qp, _ = qtxt.get_preds()
    assert (qp - p).abs().max() < 0.05
    assert isinstance(txt.model[0].module.rnns[0], WeightDropout) # the float learner is untouched
    assert qtxt.opt is None and qtxt.dls is txt.dls and all(cb.learn is qtxt for cb in qtxt.cbs)

def test_dynamic_smaller(txt, qtxt):
    sizes = [sum(t.numel() * t.element_size() for t in quantized_state(l.model).values()) for l in (txt, qtxt)]
    assert sizes[0] / sizes[1] > 2.5

def test_static_agrees(img, qimg):
    p, _ = img.get_preds()
    qp, _ = qimg.get_preds()
    assert (qp - p).abs().max() < 0.1
    assert qimg.model.quantization == {'kind': 'static', 'backend': torch.backends.quantized.engine, 'input_shape': [1, 3, 16, 16]}
    assert len(qimg.validate()) == 2

@pytest.mark.parametrize('which', ['img', 'txt'])
def test_save_load_round_trip(which, img, qimg, txt, qtxt, tmp_path):
    learn, q = (img, qimg) if which == 'img' else (txt, qtxt)
    fname = save_quantized(q, tmp_path/'q.safetensors')
    back = load_quantized(learn, fname)
    assert torch.equal(back.get_preds()[0], q.get_preds()[0])
    assert back.model.quantization == q.model.quantization

def test_bad_arguments(img):
    with pytest.raises(ValueError, match='layers must be among'): quantize_dynamic(img, layers=['Conv2d'])
    with pytest.raises(ValueError, match='dtype among'): quantize_dynamic(img, dtype='int4')
    class Branchy(nn.Module):
        def __init__(self): super().__init__(); self.lin = nn.Linear(4, 2)
        def forward(self, x): return self.lin(x) if x.sum() > 0 else -self.lin(x)
    recipe = {'kind': 'static', 'backend': torch.backends.quantized.engine, 'input_shape': [1, 4]}
    with pytest.raises(QuantizeError, match='quantize_dynamic'): quantize_model(Branchy(), recipe)

def test_save_needs_a_recipe(img, tmp_path):
    with pytest.raises(ValueError, match='no recipe'): save_quantized(img.model, tmp_path/'f.safetensors')

@pytest.fixture(scope='module')
def saved(qimg, tmp_path_factory):
    fname = save_quantized(qimg, tmp_path_factory.mktemp('q')/'q.safetensors')
    return load_file(fname), json.dumps(qimg.model.quantization)

def write(path, tensors, recipe, **meta):
    save_file(tensors, path, metadata={'format': QUANT_FORMAT, 'version': '1', 'recipe': recipe, **meta})
    return path

@pytest.mark.parametrize('change,msg', [
    (lambda sd, r: (sd, r, {'format': 'other'}), 'not a quantized state'),
    (lambda sd, r: (sd, 'not json', {}), 'not JSON'),
    (lambda sd, r: (sd, json.dumps({'kind': 'magic'}), {}), 'kind in'),
    (lambda sd, r: (sd, json.dumps({**json.loads(r), 'extra': 1}), {}), 'has the fields'),
    (lambda sd, r: (sd, json.dumps({**json.loads(r), 'backend': 'os.system'}), {}), 'backend must be'),
    (lambda sd, r: (sd, json.dumps({**json.loads(r), 'input_shape': [1, 3, 2**20, 2**20]}), {}), 'input_shape must be'),
    (lambda sd, r: (sd, json.dumps({**json.loads(r), 'input_shape': [1, 3.5, 16, 16]}), {}), 'input_shape must be'),
    (lambda sd, r: (sd, json.dumps({'kind': 'dynamic', 'layers': 'Linear', 'dtype': 'qint8'}), {}), 'layers must be a list'),
    (lambda sd, r: ({k: v for i, (k, v) in enumerate(sd.items()) if i}, r, {}), 'no tensor'),
    (lambda sd, r: ({**sd, 'evil': torch.zeros(1)}, r, {}), 'unexpected tensors'),
])
def test_hostile_files(img, saved, tmp_path, change, msg):
    sd, r, meta = change(*saved)
    with pytest.raises(LoadError, match=msg): load_quantized(img, write(tmp_path/'bad.safetensors', sd, r, **meta))

@pytest.mark.parametrize('what,value,msg', [
    ('#scale', lambda t: torch.full_like(t, float('nan')), 'finite and positive'),
    ('#scale', lambda t: torch.zeros_like(t), 'finite and positive'),
    ('#zero_point', lambda t: torch.full_like(t, 10**6), "range"),
    ('#int', lambda t: t[:1], 'expected'),
    ('#int', lambda t: t.float(), 'expected'),
])
def test_hostile_quantized_tensors(img, saved, tmp_path, what, value, msg):
    sd, r = saved
    k = next(k for k in sd if k.endswith(what))
    with pytest.raises(LoadError, match=msg): load_quantized(img, write(tmp_path/'bad.safetensors', {**sd, k: value(sd[k])}, r))

def test_pickle_and_size_refused(img, qimg, tmp_path):
    torch.save(qimg.model.state_dict(), tmp_path/'p.safetensors')
    with pytest.raises(LoadError, match='pickle'): load_quantized(img, tmp_path/'p.safetensors')
    fname = save_quantized(qimg, tmp_path/'q.safetensors')
    with pytest.raises(LoadError, match='max_bytes'): load_quantized(img, fname, max_bytes=100)

def test_check_recipe_accepts_what_quantize_writes(qimg, qtxt):
    for q in (qimg, qtxt): assert check_recipe(json.loads(json.dumps(q.model.quantization)), 'f') == q.model.quantization

def test_qat_shares_parameters_and_converts(tmp_path):
    learn = image_learner()
    params = {id(p) for p in learn.model.parameters()}
    with learn.no_logging(): learn.fit(1, 1e-3, cbs=QuantizationAwareTraining())
    assert is_qat(learn.model) and {id(p) for p in learn.model.parameters()} <= params # the optimizer trained the same tensors
    q = quantize_static(learn)
    assert not is_qat(q.model)
    fp, _ = learn.get_preds()
    qp, _ = q.get_preds()
    assert (fp - qp).abs().max() < 0.1
    back = load_quantized(image_learner(), save_quantized(q, tmp_path/'qat.safetensors'))
    assert torch.equal(back.get_preds()[0], qp)

def test_calibration_without_augmentation(tmp_path):
    "The default calibration batches are training images through the validation transforms: the same on every call"
    from mylib.vision.all import ImageDataLoaders, make_shapes, aug_transforms, vision_learner
    from mylib.quantize import calibration_batches
    path = make_shapes(tmp_path/'shapes', n=40, size=32)
    dls = ImageDataLoaders.from_folder(path/'images', valid_pct=0.25, seed=42, bs=8, batch_tfms=aug_transforms(), device='cpu')
    learn = vision_learner(dls, small_cnn, pretrained=False, lin_ftrs=[])
    a, b = calibration_batches(learn, n_batches=2), calibration_batches(learn, n_batches=2)
    assert len(a) == 2 and type(a[0][0]) is torch.Tensor and a[0][0].shape == (8, 3, 32, 32)
    assert all(torch.equal(x[0], y[0]) for x, y in zip(a, b))
    with dls.train.set_split_idx(0): aug = dls.train.new(shuffle=False).one_batch()[0]
    assert not torch.equal(aug.as_subclass(torch.Tensor), a[0][0]) # with its augmentations, the same items differ
