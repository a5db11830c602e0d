"""TinyTorch-shaped fake targets, built in a temporary directory for the contract tests.

Each fake is a directory holding a package named ``tinytorch``, as a student's checkout does.
It starts as a copy of the bundled package, reshaped the way upstream TinyTorch is shaped
(``upstream``): float32-only ``Tensor(data, requires_grad=False)`` without ``dtype=``, ``.grad``
an ndarray, ``enable_autograd()`` to call before ``backward`` exists, ``clip_grad_norm`` and
``CosineSchedule`` in ``core.training``, the DataLoader in ``data.loader``, ``Dropout.forward(x,
training=True)``, no ``Sequential``, no ``no_grad``, and constructors without PyTorch's optional
arguments, norms whose parameters are ``gamma`` and ``beta``, attention without a ``causal``
flag. Then, for the other fakes, named defects are planted (``BUGS``): behavioural bugs the
suite must find, and a hang, an exception and a NaN that must end the run in bounded time.
Fixtures only: nothing here ships.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent.parent / "tinytorch"

# Applied inside the fake package, after everything is imported: the upstream shape.
UPSTREAM_SHAPE = '''
import inspect

import numpy as np

from tinytorch.core import activations, autograd, layers, losses, optimizers, tensor, training
from tinytorch.data import loader

Tensor = tensor.Tensor

# float32 only; no dtype= in the signature (internal calls may still pass one: ignored)
_init = Tensor.__init__


def _float32_init(self, data, requires_grad=False, **_internal):
    _init(self, data, requires_grad=requires_grad, dtype=np.float32)


_P = inspect.Parameter
_float32_init.__signature__ = inspect.Signature([
    _P("self", _P.POSITIONAL_OR_KEYWORD), _P("data", _P.POSITIONAL_OR_KEYWORD),
    _P("requires_grad", _P.POSITIONAL_OR_KEYWORD, default=False)])
Tensor.__init__ = _float32_init


# .grad is an ndarray (with a .data that is itself, for the package's own readers)
class _GradArray(np.ndarray):
    @property
    def data(self):
        return self.view(np.ndarray)

    @data.setter
    def data(self, value):  # rebinding p.grad.data rebinds p.grad, as for an ndarray grad
        self._owner.grad = value


def _get_grad(self):
    return self.__dict__.get("_grad_array")


def _set_grad(self, value):
    if value is not None:
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        value = np.array(value).view(_GradArray)
        value._owner = self
    self.__dict__["_grad_array"] = value


Tensor.grad = property(_get_grad, _set_grad)

# backward exists only after enable_autograd(), as upstream's patching works
_backward = Tensor.backward
del Tensor.backward


def enable_autograd(quiet=False):
    Tensor.backward = _backward


autograd.enable_autograd = enable_autograd


# constructors without the optional arguments; Dropout takes training= at call time
class GELU(activations.GELU):
    def __init__(self):
        super().__init__()


class Softmax(activations.Softmax):
    def __init__(self):
        super().__init__()

    def forward(self, x, dim=-1):
        return activations.softmax(x, dim=dim)

    def __call__(self, x, dim=-1):
        return self.forward(x, dim=dim)


class Dropout(layers.Dropout):
    def forward(self, x, training=True):
        self.training = training
        return super().forward(x)

    def __call__(self, x, training=True):
        return self.forward(x, training=training)


def _no_reduction(cls):
    class Loss(cls):
        def __init__(self):
            super().__init__()

    Loss.__name__ = Loss.__qualname__ = cls.__name__
    return Loss


class SGD(optimizers.SGD):
    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


class Adam(optimizers.Adam):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class AdamW(optimizers.AdamW):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class DataLoader(loader.DataLoader):
    def __init__(self, dataset, batch_size, shuffle=False):
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle)


activations.GELU, activations.Softmax, layers.Dropout = GELU, Softmax, Dropout
for _name in ("MSELoss", "CrossEntropyLoss", "BinaryCrossEntropyLoss", "BCEWithLogitsLoss"):
    setattr(losses, _name, _no_reduction(getattr(losses, _name)))
optimizers.SGD, optimizers.Adam, optimizers.AdamW = SGD, Adam, AdamW
loader.DataLoader = DataLoader
for _name in ("clip_grad_value", "clip_grad_norm_", "WarmupCosineSchedule", "CheckpointError"):
    delattr(training, _name)

# the text stack as upstream writes it: norms keep gamma and beta; attention has no causal flag
from tinytorch.core import attention, spatial, transformer


def _upstream_names(cls):
    class Norm(cls):
        weight = property(lambda self: self.gamma, lambda self, v: setattr(self, "gamma", v))
        bias = property(lambda self: self.beta, lambda self, v: setattr(self, "beta", v))

    Norm.__name__ = cls.__name__
    return Norm


transformer.LayerNorm = _upstream_names(transformer.LayerNorm)
spatial.BatchNorm2d = _upstream_names(spatial.BatchNorm2d)
_sdpa = attention.scaled_dot_product_attention


def scaled_dot_product_attention(Q, K, V, mask=None, **_internal):  # the package's own calls
    return _sdpa(Q, K, V, mask, **_internal)


class MultiHeadAttention(attention.MultiHeadAttention):
    def forward(self, x, mask=None):
        return super().forward(x, mask)


attention.scaled_dot_product_attention = scaled_dot_product_attention
attention.MultiHeadAttention = transformer.MultiHeadAttention = MultiHeadAttention
'''

# Planted defects, each a patch applied after the upstream shape.
BUGS: dict[str, str] = {
    # behavioural bugs (fake b): each must be found by some property
    "no_rsub": "del tensor.Tensor.__rsub__  # `1 - x` raises TypeError",
    "tanh_grad": '''
from tinytorch.core import activations as _act
_act.TanhFunction.backward = lambda self, grad: (grad * (1 - self.out),)
''',
    "sum_ignores_keepdims": '''
_sum = tensor.Tensor.sum
tensor.Tensor.sum = lambda self, axis=None, keepdims=False: _sum(self, axis=axis)
''',
    "dropout_unscaled": '''
from tinytorch.core import layers as _layers
_dropout_forward = _layers.Dropout.forward
def _unscaled(self, x, training=True):
    out = _dropout_forward(self, x, training=training)
    return out * (1 - self.p) if training and 0 < self.p < 1 else out
_layers.Dropout.forward = _unscaled
''',
    "accumulation_unscaled": '''
training.Trainer._backward = staticmethod(lambda loss, steps: loss.backward())
''',
    "adamw_coupled_decay": "optimizers.AdamW.decoupled_weight_decay = False  # L2, like Adam",
    # robustness (fake c): a hang, an exception, a NaN
    "exp_hangs": '''
import time as _time
def _hang(self):
    while True:
        _time.sleep(0.01)
tensor.Tensor.exp = _hang
''',
    "log_raises": '''
def _raise(self):
    raise RuntimeError("planted: log is broken")
tensor.Tensor.log = _raise
''',
    "sqrt_nan": '''
_sqrt = tensor.Tensor.sqrt
tensor.Tensor.sqrt = lambda self: _sqrt(self) * float("nan")
''',
}

_MOVES = {"core/clipping.py": "core/_clipping.py", "core/schedules.py": "core/_schedules.py",
          "core/dataloader.py": "data/loader.py"}
# Public names upstream lacks become private (the package's own code still uses them).
_HIDDEN = ("no_grad", "enable_grad", "is_grad_enabled", "Sequential", "LogSoftmax")
_IMPORTS = {"tinytorch.core.clipping": "tinytorch.core._clipping",
            "tinytorch.core.schedules": "tinytorch.core._schedules",
            "tinytorch.core.dataloader": "tinytorch.data.loader"}


def build(dest: Path, bugs: Sequence[str] = ()) -> Path:
    """Write an upstream-shaped fake (with ``bugs`` planted) to ``dest``; returns ``dest``,
    the directory to pass as ``--target``."""
    package = dest / "tinytorch"
    shutil.copytree(BUNDLED, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(package / "data")  # the bundled re-export: the fake's loader lives there
    (package / "data").mkdir()
    (package / "data" / "__init__.py").write_text("")
    for old, new in _MOVES.items():
        (package / old).rename(package / new)
    for file in package.rglob("*.py"):
        text = file.read_text()
        for old, new in _IMPORTS.items():
            text = re.sub(rf"\b{re.escape(old)}\b", new, text)
        for name in _HIDDEN:
            text = re.sub(rf"\b{name}\b", f"_{name}", text)
        file.write_text(text)
    patches = [UPSTREAM_SHAPE] + [f"\n# planted: {name}\n{BUGS[name]}" for name in bugs]
    (package / "_shape.py").write_text("\n".join(patches))
    init = package / "__init__.py"
    init.write_text(init.read_text() + "\nfrom tinytorch import _shape  # noqa: E402,F401\n")
    return dest
