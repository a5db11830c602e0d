"""Bad input gets a clear error: the right exception type, and a message naming the problem
(the shapes, the key, the value), raised before any arithmetic can give a silently wrong result.
"""

import os
import tempfile
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import checks, edges, laws, target
from properties.registry import op_named

# The bundled package's own error wording (a target is judged on behaviour, not words).
pytestmark = [pytest.mark.bundled_only, pytest.mark.plan(
    *(f"{m:02d}:edge_cases" for m in range(1, 14)))]
plan = pytest.mark.plan


def ones(tt, shape, requires_grad=False):
    return tt.tensor(np.ones(shape), requires_grad)


def with_grad(tt, shape, grad=None):
    p = ones(tt, shape, True)
    tt.set_grad(p, np.ones(shape) if grad is None else grad)
    return p


def stepped(optimizer):
    optimizer.step()
    return optimizer


def custom_backward(tt, returns):
    """backward() through a two-input custom Function whose backward returns ``returns(g)``."""
    f = tt.custom_function(lambda a, b: a * 2 + b, returns)
    a, b = ones(tt, (2,), True), ones(tt, (2,), True)
    tt.backward(f(a, b), np.ones(2))


def model(tt):
    return tt.Sequential(tt.Linear(2, 3), tt.Linear(3, 1))


def load_without(tt, key):
    m = model(tt)
    state = m.state_dict()
    del state[key]
    m.load_state_dict(state)


def load_with(tt, key, value):
    m = model(tt)
    m.load_state_dict({**m.state_dict(), key: value})


def full_cache(tt):
    cache = tt.make("KVCache", 1, 1, 1, 1, 2)
    cache.update(0, np.ones((1, 1, 1, 2)), np.ones((1, 1, 1, 2)))
    cache.advance()
    cache.update(0, np.ones((1, 1, 1, 2)), np.ones((1, 1, 1, 2)))


def cached_generate_too_long(tt):
    gpt = tt.make("GPT", 5, 4, 1, 2, max_seq_len=3)
    tt.need("enable_kv_cache")(gpt)
    gpt.generate(tt.tensor(np.array([[1.0, 2.0]])), max_new_tokens=3, temperature=0.0)


def save_nan_submission(tt, tmp="submission-nan.json"):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, tmp)
        tt.need("save_submission")({"accuracy": 1.0}, path)
        try:
            tt.need("save_submission")({"accuracy": float("nan")}, path)
        finally:
            with open(path) as f:  # the earlier submission is intact (atomic write)
                assert '"accuracy": 1.0' in f.read()
            assert os.listdir(d) == [tmp], f"temporary files left: {os.listdir(d)}"


def cross_entropy(tt, logits_shape, targets):
    return tt.CrossEntropyLoss()(ones(tt, logits_shape), np.asarray(targets))


def loader(tt, n=3, **kwargs):
    x = tt.tensor(np.ones((n, 2)))
    return tt.DataLoader(tt.TensorDataset(x, tt.tensor(np.ones((n, 1)))), 2, **kwargs)


class Ragged:
    """A dataset whose samples differ in shape: (1,), then (2,); ``bare`` samples are the
    tensor itself, not a one-field tuple."""

    def __init__(self, tt, bare=False):
        self.tt, self.bare = tt, bare

    def __len__(self):
        return 2

    def __getitem__(self, i):
        sample = self.tt.tensor(np.ones(i + 1))
        return sample if self.bare else (sample,)


def trainer(tt, **options):
    m = tt.Linear(2, 1)
    return tt.Trainer(m, tt.SGD(m.parameters(), lr=0.1), tt.MSELoss(), **options)


def adam_state(tt, edit):
    """Load an Adam state dict (after one step) edited by ``edit`` into the same Adam."""
    p = with_grad(tt, (2,))
    opt = tt.Adam([p])
    opt.step()
    state = opt.state_dict()
    edit(state)
    opt.load_state_dict(state)


CASES = [
    # ------------------------------------------------------------------ autograd
    pytest.param(lambda tt: (ones(tt, (2, 3), True) * 2).backward(),
                 RuntimeError, r"non-scalar.*\(2, 3\)", id="backward-non-scalar-no-gradient"),
    pytest.param(lambda tt: (ones(tt, (2, 3), True) * 2).backward(np.ones((3, 2))),
                 ValueError, r"\(3, 2\).*\(2, 3\)", id="backward-gradient-wrong-shape"),
    pytest.param(lambda tt: ones(tt, (2,)).sum().backward(),
                 RuntimeError, r"does not require grad", id="backward-without-requires-grad"),
    # ------------------------------------------------------------------ tensor construction
    pytest.param(lambda tt: tt.Tensor(np.array(["a", "b"])),
                 TypeError, r"dtype <U1", id="tensor-from-strings"),
    pytest.param(lambda tt: tt.Tensor(np.array([1, None], dtype=object)),
                 TypeError, r"dtype object", id="tensor-from-objects"),
    pytest.param(lambda tt: tt.Tensor(np.array([1 + 2j])),
                 TypeError, r"dtype complex128", id="tensor-from-complex"),
    pytest.param(lambda tt: tt.Tensor([1, 2], dtype=int),
                 TypeError, r"float16, float32 or float64, not int", id="tensor-int-dtype"),
    pytest.param(lambda tt: len(ones(tt, ())), TypeError, r"0-d", id="len-of-0d"),
    pytest.param(lambda tt: ones(tt, (2, 2)).item(),
                 ValueError, r"one element.*\(2, 2\)", id="item-of-several-elements"),
    # ------------------------------------------------------------------ shapes
    pytest.param(lambda tt: ones(tt, (2, 3)) @ ones(tt, (4, 5)),
                 ValueError, r"\(2, 3\).*\(4, 5\)", id="matmul-inner-mismatch"),
    pytest.param(lambda tt: ones(tt, (2, 2, 3)) @ ones(tt, (3, 3, 4)),
                 ValueError, r"batch.*\(2, 2, 3\).*\(3, 3, 4\)", id="matmul-batch-mismatch"),
    pytest.param(lambda tt: ones(tt, ()) @ ones(tt, (3,)),
                 ValueError, r"at least 1 dim", id="matmul-0d-operand"),
    pytest.param(lambda tt: ones(tt, (2, 3)).reshape(4, 2),
                 ValueError, r"\(2, 3\).*\(4, 2\)", id="reshape-incompatible"),
    pytest.param(lambda tt: ones(tt, (2, 3)).reshape(3),
                 ValueError, r"\(2, 3\).*\(3,\)", id="reshape-fewer-elements"),
    pytest.param(lambda tt: ones(tt, (2, 3)).reshape(-1, 4),
                 ValueError, r"\(2, 3\).*\(-1, 4\)", id="reshape-unknown-does-not-divide"),
    pytest.param(lambda tt: ones(tt, (2, 3)).reshape(-1, 3, -1),
                 ValueError, r"\(2, 3\).*\(-1, 3, -1\)", id="reshape-two-unknowns"),
    pytest.param(lambda tt: ones(tt, (0, 3)).reshape(0, -1),
                 ValueError, r"\(0, 3\).*\(0, -1\)", id="reshape-unknown-beside-zero"),
    pytest.param(lambda tt: ones(tt, (2, 3, 4)).permute(0, 0, 1),
                 ValueError, r"not a permutation", id="permute-repeated-axis"),
    pytest.param(lambda tt: ones(tt, (2, 3)).permute(1,),
                 ValueError, r"not a permutation", id="permute-too-few-axes"),
    pytest.param(lambda tt: tt.stack([ones(tt, (2,)), ones(tt, (3,))]),
                 ValueError, r"one shape.*\(2,\).*\(3,\)", id="stack-different-shapes"),
    pytest.param(lambda tt: tt.stack([]),
                 ValueError, r"at least one tensor", id="stack-empty-list"),
    pytest.param(lambda tt: tt.concatenate([]),
                 ValueError, r"at least one tensor", id="concatenate-empty-list"),
    # ------------------------------------------------------------------ other tensor ops
    pytest.param(lambda tt: ones(tt, (2,)).clip(),
                 ValueError, r"at least one of min and max", id="clip-without-bounds"),
    pytest.param(lambda tt: ones(tt, (0,)).max(),
                 ValueError, r"empty", id="max-of-empty"),
    pytest.param(lambda tt: ones(tt, (2, 3)).sum(axis=5),
                 IndexError, r"axis 5.*out of bounds", id="sum-axis-out-of-range"),
    pytest.param(lambda tt: ones(tt, (2, 3)).sum(axis=(1, -1)),  # torch: RuntimeError
                 ValueError, r"repeated axis", id="sum-repeated-axis"),
    pytest.param(lambda tt: tt.concatenate([ones(tt, (2,)), np.ones(2)]),  # torch: TypeError
                 TypeError, r"ndarray", id="concatenate-not-a-tensor"),
    pytest.param(lambda tt: tt.maximum(1.0, 2.0), TypeError, r"Tensor operand",
                 id="maximum-of-two-numbers"),  # torch.maximum: TypeError too
    pytest.param(lambda tt: tt.stack([ones(tt, (2,)), [1.0, 2.0]]),
                 TypeError, r"list", id="stack-not-a-tensor"),
    pytest.param(lambda tt: ones(tt, (2, 3))[tt.tensor(np.array([0.5]))],
                 IndexError, r"non-integer", id="index-with-fractional-tensor"),
    # ------------------------------------------------------------------ activations
    pytest.param(lambda tt: tt.softmax(ones(tt, (2, 3)), dim=2),
                 ValueError, r"dim 2 .*\(2, 3\)", id="softmax-dim-out-of-range"),
    pytest.param(lambda tt: tt.gelu(ones(tt, (2,)), approximate="bad"),
                 ValueError, r"'bad'", id="gelu-unknown-approximation"),
    # ------------------------------------------------------------------ spatial, text stack
    pytest.param(lambda tt: tt.Conv2d(1, 1, 3)(ones(tt, (1, 1, 2, 2))),  # torch: RuntimeError
                 ValueError, r"larger than the padded input 2x2", id="conv2d-kernel-too-large"),
    pytest.param(lambda tt: tt.Conv2d(2, 1, 1)(ones(tt, (1, 3, 2, 2))),  # torch: RuntimeError
                 ValueError, r"\(batch, 2, height, width\).*\(1, 3, 2, 2\)",
                 id="conv2d-channel-mismatch"),
    pytest.param(lambda tt: tt.MaxPool2d(2, padding=2),  # torch: RuntimeError at the call
                 ValueError, r"at most half the kernel", id="max-pool-padding-too-large"),
    pytest.param(lambda tt: tt.Embedding(5, 3)(tt.tensor(np.array([1.0, 5.0]))),
                 IndexError, r"token id 5 is out of range", id="embedding-id-out-of-range"),
    pytest.param(lambda tt: tt.LayerNorm(4)(ones(tt, (2, 3))),
                 ValueError, r"last dims are \(4,\).*\(2, 3\)", id="layer-norm-wrong-width"),
    pytest.param(lambda tt: tt.BatchNorm2d(2)(ones(tt, (1, 3, 2, 2))),  # torch: RuntimeError
                 ValueError, r"\(batch, 2, height, width\).*\(1, 3, 2, 2\)",
                 id="batch-norm-channel-mismatch"),
    pytest.param(lambda tt: tt.BatchNorm2d(1)(ones(tt, (1, 1, 1, 1))),  # torch: ValueError
                 ValueError, r"more than one value per channel", id="batch-norm-one-value"),
    pytest.param(lambda tt: tt.MultiHeadAttention(6, 4),  # torch: AssertionError
                 ValueError, r"embed_dim 6 is not divisible by num_heads 4",
                 id="attention-heads-do-not-divide"),
    pytest.param(lambda tt: tt.scaled_dot_product_attention(
                     ones(tt, (2, 3)), ones(tt, (2, 3)), ones(tt, (2, 3)),
                     tt.tensor(np.array([[1.0, 0.0], [0.0, 0.0]]))),
                 ValueError, r"blocks every key", id="attention-row-fully-blocked"),
    pytest.param(lambda tt: tt.scaled_dot_product_attention(
                     ones(tt, (2, 3)), ones(tt, (4, 2)), ones(tt, (4, 2))),
                 ValueError, r"share the last dim", id="attention-depths-differ"),
    pytest.param(lambda tt: tt.PositionalEncoding(3, 2)(ones(tt, (1, 4, 2))),
                 ValueError, r"sequence length 4 exceeds max_seq_len 3",
                 id="positions-sequence-too-long"),
    pytest.param(lambda tt: tt.GPT(5, 4, 1, 2, max_seq_len=3)(ones(tt, (1, 4))),
                 ValueError, r"sequence length 4 exceeds max_seq_len 3",
                 id="gpt-sequence-too-long"),
    pytest.param(lambda tt: tt.GPT(5, 4, 1, 2)(tt.tensor(np.array([[1.0, 7.0]]))),
                 IndexError, r"token id 7 is out of range", id="gpt-token-out-of-vocabulary"),
    pytest.param(lambda tt: tt.CharTokenizer(["a", "b"]).decode([3]),
                 IndexError, r"token id 3 is out of range", id="char-decode-unknown-id"),
    # ------------------------------------------------------------------ layers
    pytest.param(lambda tt: tt.Linear(3, 4)(ones(tt, (2, 5))),
                 ValueError, r"\b3\b.*\(2, 5\)", id="linear-wrong-input-width"),
    pytest.param(lambda tt: tt.Linear(0, 4),
                 ValueError, r"Linear\(0, 4\).*positive", id="linear-zero-inputs"),
    pytest.param(lambda tt: tt.Linear(3, 0),
                 ValueError, r"Linear\(3, 0\).*positive", id="linear-zero-outputs"),
    pytest.param(lambda tt: tt.Linear("3", 4),
                 TypeError, r"Linear\('3', 4\).*integers", id="linear-string-size"),
    pytest.param(lambda tt: tt.BinaryCrossEntropyLoss()(
                     tt.tensor(np.array([0.5, 0.5])), np.array([0.0, 2.0])),
                 ValueError, r"^BinaryCrossEntropyLoss: targets must be in \[0, 1\]$",
                 id="bce-target-above-one"),
    pytest.param(lambda tt: tt.concatenate([ones(tt, (2, 3)), ones(tt, (2, 4))], axis=0),
                 ValueError, r"^concatenate: shapes .*\(2, 3\).*\(2, 4\).* differ off axis 0$",
                 id="concatenate-shapes-differ"),
    pytest.param(lambda tt: tt.concatenate([ones(tt, (2,)), ones(tt, (2, 1))]),
                 ValueError, r"^concatenate: shapes", id="concatenate-ranks-differ"),
    pytest.param(lambda tt: tt.concatenate([ones(tt, (2,))], axis=1),
                 ValueError, r"^concatenate: axis 1 is out of range for tensors of shape \(2,\)$",
                 id="concatenate-axis-out-of-range"),
    pytest.param(lambda tt: tt.concatenate([ones(tt, ())]),
                 ValueError, r"^concatenate: axis 0 is out of range", id="concatenate-0d"),
    pytest.param(lambda tt: ones(tt, (2, 3)).transpose(0, 2),
                 IndexError, r"^transpose: dim 2 is out of range for a tensor of shape \(2, 3\)$",
                 id="transpose-dim-out-of-range"),
    pytest.param(lambda tt: ones(tt, (2, 3)).permute(0, 2),
                 IndexError, r"^permute\(0, 2\): axis out of range for shape \(2, 3\)$",
                 id="permute-axis-out-of-range"),
    pytest.param(lambda tt: tt.stack([ones(tt, (2,))], axis=2),
                 ValueError, r"^stack: axis 2 is out of range for the 2-d result$",
                 id="stack-axis-out-of-range"),
    pytest.param(lambda tt: tt.Dropout(p=1.5),
                 ValueError, r"\[0, 1\].*1\.5", id="dropout-p-above-one"),
    pytest.param(lambda tt: load_without(tt, "layers.0.bias"),
                 KeyError, r"missing keys \['layers\.0\.bias'\]", id="load-state-missing-key"),
    pytest.param(lambda tt: load_with(tt, "extra", np.zeros(1)),
                 KeyError, r"unexpected keys \['extra'\]", id="load-state-unexpected-key"),
    pytest.param(lambda tt: load_with(tt, "layers.0.weight", np.zeros((3, 2))),
                 ValueError, r"layers\.0\.weight.*\(3, 2\).*\(2, 3\)",
                 id="load-state-wrong-shape"),
    # ------------------------------------------------------------------ losses
    pytest.param(lambda tt: tt.MSELoss()(ones(tt, (2, 3)), np.ones((3, 2))),
                 ValueError, r"\(2, 3\).*\(3, 2\)", id="mse-shape-mismatch"),
    pytest.param(lambda tt: tt.MSELoss()(tt.tensor(np.array([1.0, np.nan])), np.ones(2)),
                 ValueError, r"NaN", id="mse-nan-prediction"),
    pytest.param(lambda tt: tt.MSELoss(reduction="avg"),
                 ValueError, r"'avg'", id="loss-unknown-reduction"),
    pytest.param(lambda tt: cross_entropy(tt, (2, 3), [0, 3]),
                 IndexError, r"target 3 .*3 classes", id="cross-entropy-target-too-large"),
    pytest.param(lambda tt: cross_entropy(tt, (2, 3), [-1, 0]),
                 IndexError, r"target -1 .*3 classes", id="cross-entropy-negative-target"),
    pytest.param(lambda tt: cross_entropy(tt, (2, 3), [0.5, 1.0]),
                 ValueError, r"integer class indices", id="cross-entropy-fractional-targets"),
    pytest.param(lambda tt: cross_entropy(tt, (2, 3), [True, False]),
                 TypeError, r"integers, got dtype bool", id="cross-entropy-bool-targets"),
    pytest.param(lambda tt: cross_entropy(tt, (2, 3), [[0], [1]]),
                 ValueError, r"\(2, 1\).*\(2,\)", id="cross-entropy-targets-wrong-shape"),
    pytest.param(lambda tt: cross_entropy(tt, (3,), [0]),
                 ValueError, r"\(batch, classes\).*\(3,\)", id="cross-entropy-1d-logits"),
    pytest.param(lambda tt: cross_entropy(tt, (0, 3), np.zeros(0, dtype=np.int64)),
                 ValueError, r"empty batch", id="cross-entropy-empty-batch"),
    pytest.param(lambda tt: tt.BinaryCrossEntropyLoss()(
                     tt.tensor(np.array([0.5, 1.5])), np.ones(2)),
                 ValueError, r"\[0, 1\]", id="bce-prediction-above-one"),
    pytest.param(lambda tt: tt.log_softmax(ones(tt, (2, 3)), dim=5), IndexError,
                 r"log_softmax.*5", id="log-softmax-function-dim-out-of-range"),
    pytest.param(lambda tt: load_with(tt, "layers.0.bias", np.array(["a", "b", "c"])),
                 TypeError, r"layers\.0\.bias.*<U1", id="load-state-dict-strings"),
    pytest.param(lambda tt: tt.BCEWithLogitsLoss()(ones(tt, (2,)), np.ones(3)),
                 ValueError, r"\(2,\).*\(3,\)", id="bce-with-logits-shape-mismatch"),
    pytest.param(lambda tt: tt.BinaryCrossEntropyLoss()(tt.tensor(np.full(2, 0.5)), np.ones(3)),
                 ValueError, r"\(2,\).*\(3,\)", id="bce-shape-mismatch"),
    pytest.param(lambda tt: tt.GELU(approximate="x"),
                 ValueError, r"'none' or 'tanh'.*'x'", id="gelu-unknown-approximate"),
    # ------------------------------------------------------------------ clipping
    pytest.param(lambda tt: tt.clip_grad_value([ones(tt, (2,), True)], "a"),
                 TypeError, r"clip_value.*str", id="clip-value-not-a-number"),
    # ------------------------------------------------------------------ data
    pytest.param(lambda tt: loader(tt, seed=1.5), TypeError, r"seed.*1\.5",
                 id="loader-seed-not-an-int"),
    pytest.param(lambda tt: loader(tt, n=0), ValueError, r"empty", id="loader-empty-dataset"),
    pytest.param(lambda tt: loader(tt).set_epoch(1.5), TypeError, r"epoch.*1\.5",
                 id="loader-epoch-not-an-int"),
    pytest.param(lambda tt: list(tt.DataLoader(Ragged(tt), 2)), ValueError,
                 r"\(1,\), \(2,\)", id="loader-samples-of-different-shapes"),
    pytest.param(lambda tt: list(tt.DataLoader(Ragged(tt, bare=True), 2)), ValueError,
                 r"\(1,\), \(2,\)", id="loader-bare-samples-of-different-shapes"),
    pytest.param(lambda tt: tt.TensorDataset(ones(tt, (3,)))[1.5], TypeError, r"float",
                 id="dataset-index-not-an-int"),
    pytest.param(lambda tt: tt.TensorDataset(ones(tt, ())), ValueError, r"\[\(\)\]",
                 id="dataset-0d-tensor"),
    pytest.param(lambda tt: tt.TensorDataset(), ValueError, r"at least one",
                 id="dataset-no-tensors"),
    # ------------------------------------------------------------------ training
    pytest.param(lambda tt: trainer(tt).train_epoch(loader(tt), accumulation_steps=0),
                 ValueError, r"accumulation_steps.*0", id="trainer-zero-accumulation-steps"),
    pytest.param(lambda tt: trainer(tt).train_epoch([]), ValueError, r"no batches",
                 id="trainer-no-batches"),
    pytest.param(lambda tt: trainer(tt).evaluate([]), ValueError, r"no batches",
                 id="evaluate-no-batches"),
    pytest.param(lambda tt: tt.SGD([ones(tt, (2,), True)], lr=-1.0), ValueError, r"lr.*-1",
                 id="sgd-negative-lr"),
    pytest.param(lambda tt: tt.CrossEntropyLoss()(tt.tensor(np.array([[np.nan, 1.0]])),
                                                   np.array([0])),
                 ValueError, r"NaN", id="cross-entropy-nan-logits"),
    pytest.param(lambda tt: tt.clip_grad_norm([with_grad(tt, (2,))], 1.0, norm_type="a"),
                 TypeError, r"norm_type.*str", id="clip-norm-type-not-a-number"),
    pytest.param(lambda tt: tt.clip_grad_norm(5, 1.0), TypeError, r"iterable.*int",
                 id="clip-parameters-not-tensors"),
    pytest.param(lambda tt: tt.clip_grad_norm([with_grad(tt, (2,))], "a"),
                 TypeError, r"max_norm.*str", id="clip-max-norm-not-a-number"),
    pytest.param(lambda tt: tt.clip_grad_norm([with_grad(tt, (0,))], 1.0, norm_type=np.inf),
                 ValueError, r"inf-norm.*\(0,\)", id="clip-inf-norm-of-empty"),
    pytest.param(lambda tt: tt.SGD([ones(tt, (2,), True)], lr=0.1).load_state_dict([1]),
                 TypeError, r"SGD.*dict.*list", id="optimizer-state-not-a-dict"),
    pytest.param(lambda tt: tt.Adam([ones(tt, (2,), True)], betas=0.9),
                 TypeError, r"betas.*0\.9", id="adam-betas-not-a-pair"),
    pytest.param(lambda tt: tt.Adam([ones(tt, (2,), True)], betas=(0.9, "a")),
                 TypeError, r"betas\[1\].*str", id="adam-beta-not-a-number"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s.pop("state")),
                 KeyError, r"missing.*state", id="optimizer-state-missing-key"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s.update(state=[1])),
                 TypeError, r"state\['state'\]", id="optimizer-state-state-not-a-dict"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s["state"][0].update(step=0)),
                 ValueError, r"step.*0", id="optimizer-state-step-zero"),
    pytest.param(lambda tt: stepped(tt.SGD([with_grad(tt, (3,), np.zeros(2))], lr=0.1)),
                 ValueError, r"parameter 0 has shape", id="optimizer-gradient-wrong-shape"),
    pytest.param(lambda tt: custom_backward(tt, lambda g: g), RuntimeError, r"tuple",
                 id="custom-backward-not-a-tuple"),
    pytest.param(lambda tt: custom_backward(tt, lambda g: (g,)), RuntimeError, r"1 gradient",
                 id="custom-backward-too-few"),
    pytest.param(lambda tt: custom_backward(tt, lambda g: (g, None)), RuntimeError, r"None",
                 id="custom-backward-none-for-a-required-input"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s.update(hyper=["lr"])),
                 KeyError, r"hyper has missing keys", id="optimizer-state-hyper-not-a-dict"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s.update(state={"0": {}})),
                 KeyError, r"state key '0'", id="optimizer-state-key-a-string"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s["state"].update({0: ["step"]})),
                 KeyError, r"missing buffers", id="optimizer-state-entry-not-a-dict"),
    pytest.param(lambda tt: adam_state(tt, lambda s: s["state"][0].update(step="3")),
                 ValueError, r"step.*'3'", id="optimizer-state-step-a-string"),
    pytest.param(lambda tt: adam_state(
                     tt, lambda s: s["state"][0].update(exp_avg=np.array(["a", "b"]))),
                 TypeError, r"exp_avg.*<U1", id="optimizer-state-buffer-of-strings"),
    pytest.param(lambda tt: trainer(tt, grad_clip_norm=0), ValueError, r"grad_clip_norm.*0",
                 id="trainer-grad-clip-norm-zero"),
    pytest.param(lambda tt: tt.SGD([ones(tt, (2,), True), 3], lr=0.1), TypeError,
                 r"parameter 1 is a int", id="optimizer-parameter-not-a-tensor"),
    pytest.param(lambda tt: tt.Adam([ones(tt, (2,), True)], lr=-1.0), ValueError,
                 r"Adam.*lr.*-1", id="adam-negative-lr"),
    pytest.param(lambda tt: tt.MSELoss()(ones(tt, (2,)), np.array([1.0, np.nan])),
                 ValueError, r"targets.*NaN", id="mse-nan-target"),
    pytest.param(lambda tt: ones(tt, (2, 3)) @ ones(tt, (4,)), ValueError,
                 r"\(2, 3\) @ \(4,\)", id="matmul-vector-mismatch"),
    # ------------------------------------------------------------------ schedules
    pytest.param(lambda tt: tt.CosineSchedule("a", 0.0, 10),
                 TypeError, r"max_lr.*str", id="schedule-max-lr-not-a-number"),
    pytest.param(lambda tt: tt.CosineSchedule(0.1, "b", 10),
                 TypeError, r"min_lr.*str", id="schedule-min-lr-not-a-number"),
    pytest.param(lambda tt: tt.CosineSchedule(0.1, 0.0, 10).apply(SimpleNamespace(), 1),
                 AttributeError, r"SimpleNamespace.*'lr'", id="schedule-apply-without-lr"),
    pytest.param(lambda tt: tt.CosineSchedule(0.1, 0.0, 10).load_state_dict([1]),
                 TypeError, r"dict.*list", id="schedule-state-not-a-dict"),
    pytest.param(lambda tt: tt.CosineSchedule(0.1, 0.0, 10).load_state_dict(
                     {"max_lr": 0.1, "total_epochs": 10, "last_epoch": -1}),
                 KeyError, r"min_lr", id="schedule-state-missing-key"),
    pytest.param(lambda tt: tt.CosineSchedule(0.1, 0.0, 0),
                 ValueError, r"total_epochs.*0", id="cosine-schedule-no-epochs"),
    pytest.param(lambda tt: tt.WarmupCosineSchedule(0.1, 0.0, 0, 0),
                 ValueError, r"total_epochs.*0", id="warmup-schedule-no-epochs"),
    pytest.param(lambda tt: tt.WarmupCosineSchedule(0.1, 0.0, -1, 10),
                 ValueError, r"warmup_epochs.*-1", id="warmup-schedule-negative-warmup"),
    pytest.param(lambda tt: tt.WarmupCosineSchedule(0.1, 0.0, 2, 10, start_factor="x"),
                 TypeError, r"start_factor.*str", id="warmup-schedule-factor-not-a-number"),
    # ------------------------------------------------------------------ systems (14-20)
    pytest.param(lambda tt: tt.need("quantize_int8")(tt.tensor(np.zeros((0,)))),
                 ValueError, r"empty", id="quantize-empty", marks=plan("15:edge_cases")),
    pytest.param(lambda tt: tt.need("quantize_int8")(tt.tensor(np.array([1.0, np.nan]))),
                 ValueError, r"NaN", id="quantize-nan", marks=plan("15:edge_cases")),
    pytest.param(lambda tt: tt.need("quantize_model")(tt.Sequential(tt.ReLU())),
                 ValueError, r"no Linear", id="quantize-model-without-linear",
                 marks=plan("15:edge_cases")),
    pytest.param(lambda tt: tt.need("magnitude_prune")(model(tt), 1.5),
                 ValueError, r"sparsity.*1\.5", id="prune-sparsity-above-one",
                 marks=plan("16:edge_cases")),
    pytest.param(lambda tt: tt.need("low_rank_approximate")(np.ones(3)),
                 ValueError, r"matrix.*\(3,\)", id="low-rank-of-a-vector",
                 marks=plan("16:edge_cases")),
    pytest.param(lambda tt: full_cache(tt), ValueError, r"full", id="kv-cache-full",
                 marks=plan("17:edge_cases")),
    pytest.param(lambda tt: tt.make("KVCache", 1, 2, 1, 1, 2).update(0, np.ones((1, 1, 2, 2)),
                                                                  np.ones((1, 1, 2, 2))),
                 ValueError, r"\(1, 1, 1, 2\)", id="kv-cache-update-wrong-shape",
                 marks=plan("17:edge_cases")),
    pytest.param(lambda tt: cached_generate_too_long(tt), ValueError, r"max_seq_len 3",
                 id="kv-cache-generation-too-long", marks=plan("17:edge_cases")),
    pytest.param(lambda tt: tt.need("tiled_matmul")(ones(tt, (2, 3)), ones(tt, (4, 5))),
                 ValueError, r"shape mismatch", id="tiled-matmul-mismatch",
                 marks=plan("18:edge_cases")),
    pytest.param(lambda tt: tt.need("tiled_matmul")(ones(tt, (2, 3)), ones(tt, (3, 2)), 0),
                 ValueError, r"tile_size.*0", id="tiled-matmul-tile-zero",
                 marks=plan("18:edge_cases")),
    pytest.param(lambda tt: tt.need("vectorized_matmul")(ones(tt, (3,)), ones(tt, (3, 2))),
                 ValueError, r"2D\+", id="vectorized-matmul-vector", marks=plan("18:edge_cases")),
    pytest.param(lambda tt: tt.make("BenchmarkResult", "x", []), ValueError, r"no values",
                 id="benchmark-result-empty", marks=plan("19:edge_cases")),
    pytest.param(lambda tt: tt.need("measure")(lambda: None, repeats=0), ValueError,
                 r"repeats.*0", id="benchmark-no-repeats", marks=plan("19:edge_cases")),
    pytest.param(lambda tt: tt.make("Profiler").measure_latency(model(tt), ones(tt, (1, 2)),
                                                               iterations=0),
                 ValueError, r"iterations.*0", id="profiler-no-iterations",
                 marks=plan("14:edge_cases")),
    pytest.param(lambda tt: save_nan_submission(tt), ValueError, r"NaN",
                 id="submission-with-nan", marks=plan("20:edge_cases")),

]


# The bundled package's messages word for word: each names what was wrong, with the
# shapes or values involved (read them: they are what a user sees).
WORDING = {
    'backward-non-scalar-no-gradient':
        ('backward() on a non-scalar tensor of shape (2, 3) needs a gradient argument: '
         'grad can be implicitly created only for scalar outputs'),
    'backward-gradient-wrong-shape':
        'backward(gradient): gradient shape (3, 2) does not match tensor shape (2, 3)',
    'backward-without-requires-grad':
        ('backward() on a tensor that does not require grad: no input of the computation '
         'had requires_grad=True (or it ran under no_grad())'),
    'tensor-from-strings':
        'cannot build a Tensor from data of dtype <U1 (expected numbers: bool, int or float)',
    'tensor-from-objects':
        'cannot build a Tensor from data of dtype object (expected numbers: bool, int or float)',
    'tensor-from-complex':
        ('cannot build a Tensor from data of dtype complex128 (expected numbers: bool, '
         'int or float)'),
    'tensor-int-dtype':
        'Tensor dtype must be float16, float32 or float64, not int64',
    'len-of-0d': 'len() of a 0-d tensor',
    'item-of-several-elements':
        'item() needs a tensor with one element, got shape (2, 2)',
    'matmul-inner-mismatch':
        ('matmul shape mismatch: (2, 3) @ (4, 5): inner dimensions 3 (last of the left) '
         'and 4 (second-to-last of the right) differ'),
    'matmul-batch-mismatch':
        'matmul shape mismatch: batch dimensions of (2, 2, 3) and (3, 3, 4) do not broadcast',
    'matmul-0d-operand':
        'matmul needs operands of at least 1 dim, got shapes () and (3,)',
    'reshape-incompatible':
        'cannot reshape tensor of shape (2, 3) (6 elements) into shape (4, 2)',
    'reshape-fewer-elements':  # 3 divides 6: the size must be equal, not a multiple
        'cannot reshape tensor of shape (2, 3) (6 elements) into shape (3,)',
    'reshape-unknown-does-not-divide':
        'cannot reshape tensor of shape (2, 3) (6 elements) into shape (-1, 4)',
    'reshape-two-unknowns':
        'cannot reshape tensor of shape (2, 3) (6 elements) into shape (-1, 3, -1)',
    'reshape-unknown-beside-zero':  # torch: the unknown "can be any value"
        'cannot reshape tensor of shape (0, 3) (0 elements) into shape (0, -1)',
    'permute-repeated-axis':
        'permute(0, 0, 1) is not a permutation of 3 axes',
    'permute-too-few-axes':
        'permute(1,) is not a permutation of 2 axes',
    'stack-different-shapes':
        'stack() needs tensors of one shape, got [(2,), (3,)]',
    'stack-empty-list':
        'stack() needs at least one tensor',
    'concatenate-empty-list':
        'concatenate() needs at least one tensor',
    'clip-without-bounds':
        'clip() needs at least one of min and max',
    'max-of-empty':
        'max() over an empty axis of a tensor of shape (0,)',
    'sum-axis-out-of-range':
        'axis 5 is out of bounds for a tensor of 2 dims',
    'sum-repeated-axis':
        'repeated axis in (1, -1)',
    'concatenate-not-a-tensor':
        'concatenate() takes Tensors, got ndarray at position 1',
    'maximum-of-two-numbers': 'maximum() needs a Tensor operand, got float and float',
    'stack-not-a-tensor':
        'stack() takes Tensors, got list at position 1',
    'index-with-fractional-tensor':
        'tensor index has non-integer values',
    'softmax-dim-out-of-range':
        'softmax: dim 2 is out of range for a tensor of shape (2, 3)',
    'gelu-unknown-approximation':
        "gelu: approximate must be 'none' or 'tanh', not 'bad'",
    'linear-wrong-input-width':
        'Linear(3, 4) expects input whose last dimension is 3, got shape (2, 5)',
    'linear-zero-inputs':
        'Linear(0, 4): sizes must be positive',
    'linear-zero-outputs':
        'Linear(3, 0): sizes must be positive',
    'linear-string-size':
        "Linear('3', 4): sizes must be integers",
    'bce-target-above-one':
        'BinaryCrossEntropyLoss: targets must be in [0, 1]',
    'concatenate-shapes-differ':
        'concatenate: shapes [(2, 3), (2, 4)] differ off axis 0',
    'concatenate-ranks-differ':
        'concatenate: shapes [(2,), (2, 1)] differ off axis 0',
    'concatenate-axis-out-of-range':
        'concatenate: axis 1 is out of range for tensors of shape (2,)',
    'concatenate-0d':
        'concatenate: axis 0 is out of range for tensors of shape ()',
    'transpose-dim-out-of-range':
        'transpose: dim 2 is out of range for a tensor of shape (2, 3)',
    'permute-axis-out-of-range':
        'permute(0, 2): axis out of range for shape (2, 3)',
    'stack-axis-out-of-range':
        'stack: axis 2 is out of range for the 2-d result',
    'dropout-p-above-one':
        'Dropout probability must be in [0, 1], got 1.5',
    'load-state-missing-key':
        '"load_state_dict: missing keys [\'layers.0.bias\'], unexpected keys []"',
    'load-state-unexpected-key':
        '"load_state_dict: missing keys [], unexpected keys [\'extra\']"',
    'load-state-wrong-shape':
        'load_state_dict: layers.0.weight has shape (3, 2), the model expects (2, 3)',
    'mse-shape-mismatch':
        'MSELoss: predictions (2, 3) and targets (3, 2) must have the same shape',
    'mse-nan-prediction':
        'MSELoss: predictions contains NaN or infinite values',
    'loss-unknown-reduction':
        "reduction must be one of ('mean', 'sum', 'none'), not 'avg'",
    'cross-entropy-target-too-large':
        'CrossEntropyLoss: target 3 is out of range for 3 classes',
    'cross-entropy-negative-target':
        'CrossEntropyLoss: target -1 is out of range for 3 classes',
    'cross-entropy-fractional-targets':
        'CrossEntropyLoss: targets must be integer class indices',
    'cross-entropy-bool-targets':
        'CrossEntropyLoss: targets must be integers, got dtype bool',
    'cross-entropy-targets-wrong-shape':
        'CrossEntropyLoss: targets have shape (2, 1), expected (2,)',
    'cross-entropy-1d-logits':
        'CrossEntropyLoss: logits must be (batch, classes), got (3,)',
    'cross-entropy-empty-batch':
        'CrossEntropyLoss: empty batch',
    'bce-prediction-above-one':
        'BinaryCrossEntropyLoss: predictions must be probabilities in [0, 1]',
    'bce-with-logits-shape-mismatch':
        'BCEWithLogitsLoss: logits (2,) and targets (3,) must have the same shape',
    'log-softmax-function-dim-out-of-range':
        'log_softmax: dim 5 is out of range for a tensor of shape (2, 3)',
    'load-state-dict-strings': 'load_state_dict: layers.0.bias holds dtype <U1, not numbers',
    'bce-shape-mismatch':
        'BinaryCrossEntropyLoss: predictions (2,) and targets (3,) must have the same shape',
    'gelu-unknown-approximate': "GELU: approximate must be 'none' or 'tanh', not 'x'",
    'clip-value-not-a-number':
        'clip_value must be a real number, not str',
    'loader-seed-not-an-int': 'DataLoader: seed must be an integer or None, got 1.5',
    'loader-empty-dataset': 'DataLoader: the dataset is empty (0 samples): nothing to batch',
    'loader-epoch-not-an-int': 'DataLoader.set_epoch: epoch must be an integer, got 1.5',
    'loader-samples-of-different-shapes':
        ('DataLoader: field 0 of the samples has different shapes [(1,), (2,)]; samples in '
         'one batch must have one shape'),
    'loader-bare-samples-of-different-shapes':
        ('DataLoader: field 0 of the samples has different shapes [(1,), (2,)]; samples in '
         'one batch must have one shape'),
    'dataset-index-not-an-int': 'TensorDataset indices must be integers, not float',
    'dataset-0d-tensor': 'TensorDataset: tensors need a first (sample) dimension, got shapes [()]',
    'dataset-no-tensors': 'TensorDataset needs at least one tensor',
    'trainer-zero-accumulation-steps': 'accumulation_steps must be a positive int, got 0',
    'trainer-no-batches': 'train_epoch: the dataloader yielded no batches',
    'evaluate-no-batches': 'evaluate: the dataloader yielded no batches',
    'sgd-negative-lr': 'SGD: lr must be >= 0, got -1.0',
    'cross-entropy-nan-logits': 'CrossEntropyLoss: logits contains NaN or infinite values',
    'schedule-state-not-a-dict': 'state must be a dict, not list',
    'schedule-state-missing-key':
        '"CosineSchedule.load_state_dict: missing keys [\'min_lr\'], unexpected keys []"',
    'clip-norm-type-not-a-number': 'norm_type must be a real number, not str',
    'clip-parameters-not-tensors':
        'parameters must be a Tensor or an iterable of Tensors, not int',
    'clip-max-norm-not-a-number': 'max_norm must be a real number, not str',
    'clip-inf-norm-of-empty':
        ('the inf-norm of an empty gradient (shapes [(0,)]) is undefined: a max over nothing '
         'has no value (torch raises too)'),
    'optimizer-state-not-a-dict': 'SGD.load_state_dict: expected a dict, got list',
    'schedule-max-lr-not-a-number': 'max_lr must be a real number, not str',
    'schedule-min-lr-not-a-number': 'min_lr must be a real number, not str',
    'schedule-apply-without-lr': "SimpleNamespace has no 'lr' attribute to set",
    'adam-betas-not-a-pair': 'Adam: betas must be a pair of floats, got 0.9',
    'adam-beta-not-a-number': 'Adam: betas[1] must be a real number, not str',
    'optimizer-state-missing-key': '"Adam.load_state_dict: missing keys [\'state\']"',
    'optimizer-state-state-not-a-dict': "Adam.load_state_dict: state['state'] must be a dict",
    'optimizer-state-step-zero':
        'Adam.load_state_dict: step of parameter 0 must be a positive int, got 0',
    'custom-backward-not-a-tuple':
        ('Custom.backward must return a tuple of gradients, one per input; it returned a '
         'ndarray'),
    'custom-backward-too-few':
        ('Custom.backward returned 1 gradient(s) for 2 inputs: return one per input (None '
         'for an input that takes no gradient)'),
    'custom-backward-none-for-a-required-input':
        ('Custom.backward returned None for input 1, which requires grad: return its gradient '
         '(zeros if it has no influence)'),
    'optimizer-gradient-wrong-shape':
        'SGD.step(): parameter 0 has shape (3,) but its gradient has shape (2,)',
    'optimizer-state-hyper-not-a-dict':
        ('"Adam.load_state_dict: hyper has missing keys [\'amsgrad\', \'betas\', \'eps\', '
         '\'lr\', \'weight_decay\'], unexpected keys []"'),
    'optimizer-state-key-a-string':
        '"Adam.load_state_dict: state key \'0\' is not a parameter index (0..0)"',
    'optimizer-state-entry-not-a-dict':
        ('"Adam.load_state_dict: state of parameter 0 has missing buffers [\'exp_avg\', '
         '\'exp_avg_sq\', \'step\'], unexpected buffers []"'),
    'optimizer-state-step-a-string':
        "Adam.load_state_dict: step of parameter 0 must be a positive int, got '3'",
    'optimizer-state-buffer-of-strings':
        'Adam.load_state_dict: exp_avg of parameter 0 holds dtype <U1, not numbers',
    'trainer-grad-clip-norm-zero': 'grad_clip_norm must be positive, got 0',
    'optimizer-parameter-not-a-tensor':
        'SGD: parameter 1 is a int, not a Tensor (pass model.parameters())',
    'adam-negative-lr': 'Adam: lr must be >= 0, got -1.0',
    'mse-nan-target': 'MSELoss: targets contains NaN or infinite values',
    'matmul-vector-mismatch':
        ('matmul shape mismatch: (2, 3) @ (4,): inner dimensions 3 (last of the left) and 4 '
         '(only of the right) differ'),
    'conv2d-kernel-too-large':
        'Conv2d: kernel (3, 3) (dilation (1, 1)) is larger than the padded input 2x2',
    'conv2d-channel-mismatch':
        'Conv2d(2, 1) expects input of shape (batch, 2, height, width), got (1, 3, 2, 2)',
    'max-pool-padding-too-large':
        "MaxPool2d: padding (2, 2) must be at most half the kernel (2, 2) (torch's rule)",
    'embedding-id-out-of-range': 'Embedding: token id 5 is out of range for a vocabulary of 5',
    'layer-norm-wrong-width':
        'LayerNorm((4,)) expects input whose last dims are (4,), got shape (2, 3)',
    'batch-norm-channel-mismatch':
        'BatchNorm2d(2) expects input of shape (batch, 2, height, width), got (1, 3, 2, 2)',
    'batch-norm-one-value':
        'BatchNorm2d: training needs more than one value per channel, got input of shape '
        '(1, 1, 1, 1)',
    'attention-heads-do-not-divide':
        'MultiHeadAttention: embed_dim 6 is not divisible by num_heads 4',
    'attention-row-fully-blocked': 'attention mask blocks every key for some query',
    'attention-depths-differ':
        'attention: Q (2, 3) and K (4, 2) must share the last dim, K and V (4, 2) the number '
        'of keys',
    'positions-sequence-too-long':
        'PositionalEncoding: sequence length 4 exceeds max_seq_len 3',
    'gpt-sequence-too-long': 'GPT: sequence length 4 exceeds max_seq_len 3',
    'gpt-token-out-of-vocabulary': 'Embedding: token id 7 is out of range for a vocabulary of 5',
    'char-decode-unknown-id': 'token id 3 is out of range for a vocabulary of 3',
    'cosine-schedule-no-epochs': 'total_epochs must be >= 1, got 0',
    'warmup-schedule-no-epochs': 'total_epochs must be >= 1, got 0',
    'warmup-schedule-negative-warmup': 'warmup_epochs must be >= 0, got -1',
    'warmup-schedule-factor-not-a-number': 'start_factor must be a real number, not str',
    'quantize-empty': 'quantize_int8: cannot quantize an empty tensor',
    'quantize-nan': 'quantize_int8: the tensor holds NaN or inf, which has no int8 value',
    'quantize-model-without-linear': 'quantize_model: the model has no Linear layer to quantize',
    'prune-sparsity-above-one': 'magnitude_prune: sparsity must be in [0, 1], got 1.5',
    'low-rank-of-a-vector': 'low_rank_approximate: expects a matrix, got shape (3,)',
    'kv-cache-full': 'KVCache: full (1 positions)',
    'kv-cache-update-wrong-shape': 'KVCache.update: key must have shape (1, 1, 1, 2), got '
                                   '(1, 1, 2, 2)',
    'kv-cache-generation-too-long':
        'generate with a KV cache: prompt (2) + new tokens (3) exceed max_seq_len 3; the cache '
        'holds positions, it cannot slide the window',
    'tiled-matmul-mismatch': 'tiled_matmul: shape mismatch, (2, 3) @ (4, 5) (inner dimensions '
                             '3 and 4)',
    'tiled-matmul-tile-zero': 'tiled_matmul: tile_size must be a positive int, got 0',
    'vectorized-matmul-vector': 'vectorized_matmul: operands must be 2D+ arrays, got shapes '
                                '(3,) and (3, 2)',
    'benchmark-result-empty': "BenchmarkResult 'x': no values",
    'benchmark-no-repeats': 'measure: repeats must be an int >= 1, got 0',
    'profiler-no-iterations': 'Profiler: iterations must be >= 1, got 0',
    'submission-with-nan': 'save_submission: the submission holds NaN or infinity, which JSON '
                           'cannot store',
}


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_a_clear_error(call, error, message, request):
    with pytest.raises(error, match=message) as raised:
        call(target.get())
    assert str(raised.value) == WORDING[request.node.callspec.id]


# Calls torch rejects, over the registry entries that take an axis: the same kind of error.
AXIS_OPS = [("sum", "axis"), ("mean", "axis"), ("max", "axis"), ("min", "axis"),
            ("softmax", "dim"), ("log_softmax", "dim")]


@pytest.mark.parametrize(("name", "argument"), AXIS_OPS, ids=[n for n, _ in AXIS_OPS])
@given(data=st.data())
def test_an_axis_out_of_range_raises_as_in_torch(name, argument, data):
    op = op_named(name)
    sample = data.draw(edges.axis_out_of_range(argument, keepdims=argument == "axis")(
        checks.compute_dtype()), label="sample")
    laws.check_bad_call_raises_as_torch(op, sample)
