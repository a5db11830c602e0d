"""The one door to the implementation under test.

Everything in ``properties`` and ``tests`` reaches TinyTorch through :func:`get`, which returns
a :class:`Target`. Public names resolve lazily from the declarations in :mod:`properties.api`
(``tt.Linear``, ``tt.SGD``, ``tt.clip_grad_norm``): a name the target lacks raises
:class:`Missing`, a ``unittest.SkipTest``, so the one test that needs it is skipped with
``target lacks core.layers.Sequential`` and the run ends with an "unsupported" table.

The adapter also absorbs the ways correct TinyTorch copies differ, so that only behaviour is
judged: ``.grad`` as a Tensor or an ndarray, ``backward(gradient)`` taking either, a ``Tensor``
without ``dtype=`` (a float32-only target: float64 is a capability), an ``enable_autograd()``
to call, ``Dropout.forward(x, training=...)`` instead of ``train()``/``eval()``, constructors
without PyTorch's optional arguments (an argument at PyTorch's default is left out; any other
value makes the test skip), ``Softmax()(x, dim=...)``, a schedule with only ``get_lr``, and no
``Sequential`` (models are then chained by :class:`properties.chain.Chain`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import sys
import unittest
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from properties import api, locate

TARGET_ENV = locate.TARGET_ENV
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


class Missing(unittest.SkipTest):
    """The target lacks something a test needs: that test is skipped, with this reason."""


def lacks(what: str) -> Missing:
    return Missing(f"target lacks {what}")


class Target:
    """A TinyTorch-API package, its declared names, and the conversions the harness needs."""

    def __init__(self, spec: locate.TargetSpec, package: ModuleType) -> None:
        self.spec = spec
        self.name = spec.package
        self.package = package
        self._resolved: dict[str, Any] = {}
        enable = self.find("enable_autograd")
        if enable is not None:
            enable(*([True] if _accepts(enable, "quiet") else []))

    # ------------------------------------------------------------------ names
    def _module(self, path: str) -> ModuleType | None:
        full = f"{self.name}.{path}"
        try:
            return importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name and (full == e.name or full.startswith(e.name + ".")):
                return None  # the module (or a parent) does not exist: not an error
            raise

    def _locate(self, name: str) -> ModuleType | None:
        """The module to read ``name`` from: the first declared module that has it, or, when
        that is a re-export, the target module that defines it (where a patch lands)."""
        for path in api.declared(name).modules:
            module = self._module(path)
            if module is None or not hasattr(module, name):
                continue
            found = getattr(module, name)
            home = sys.modules.get(getattr(found, "__module__", None) or "")
            if (home is not None and home.__name__.startswith(self.name + ".")
                    and hasattr(home, name)):
                return home
            return module
        return None

    def find(self, name: str) -> Any | None:
        """A declared name from the first module that has it, or None. The module is
        remembered, the object read afresh: a mutant patched later is what tests get."""
        if name not in self._resolved:
            self._resolved[name] = self._locate(name)
        module = self._resolved[name]
        return None if module is None else getattr(module, name, None)

    def has(self, name: str) -> bool:
        return self.find(name) is not None

    def need(self, name: str) -> Any:
        found = self.find(name)
        if found is None:
            raise lacks(api.declared(name).home)
        return found

    def __getattr__(self, name: str) -> Any:
        if name in api.BY_NAME:
            return self.need(name)
        raise AttributeError(name)

    def module(self, name: str) -> ModuleType:
        """``<target>.core.<name>``, else ``<target>.perf.<name>``, else ``<target>.<name>``
        (mutants patch the bundled package through it)."""
        for path in (f"core.{name}", f"perf.{name}", name):
            found = self._module(path)
            if found is not None:
                return found
        raise ModuleNotFoundError(f"{self.name} has no module core.{name}, perf.{name} or "
                                  f"{name}")

    def describe(self) -> str:
        return locate.describe(self.spec, self.package)

    # ------------------------------------------------------------------ construction
    def accepts(self, name: str, argument: str) -> bool:
        """Whether the declared callable ``name`` takes keyword ``argument``."""
        return _accepts(self.need(name), argument)

    def make(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``name(*args, **kwargs)``; a keyword the target does not take is left out when it is
        PyTorch's default (so the call means the same), and otherwise the test is skipped."""
        factory = self.need(name)
        defaults = api.declared(name).defaults
        for key in list(kwargs):
            if _accepts(factory, key):
                continue
            if key in defaults and _same(kwargs[key], defaults[key]):
                del kwargs[key]
            else:
                raise lacks(f"{api.declared(name).home}({key}=...)")
        return factory(*args, **kwargs)

    def shortest(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``make(name, *args, **kwargs)`` with every keyword equal to its declared default
        (upstream's or torch's, :attr:`api.Declared.optional`) left out: the same call, in the
        form that exercises the target's defaults."""
        defaults = api.declared(name).optional
        kept = {k: v for k, v in kwargs.items() if not (k in defaults and _same(v, defaults[k]))}
        return self.make(name, *args, **kept)

    def optional(self, name: str, argument: str, strategy: Any, default: Any) -> Any:
        """For strategies: draw ``argument`` only if the target takes it, else its default."""
        from hypothesis import strategies as st

        return strategy if self.has(name) and self.accepts(name, argument) else st.just(default)

    # ------------------------------------------------------------------ tensors
    @functools.cached_property
    def _takes_dtype(self) -> bool:
        return _accepts(self.need("Tensor"), "dtype")

    @functools.cached_property
    def dtypes(self) -> tuple[np.dtype, ...]:
        """The floating dtypes the target computes in (float32-only targets exist)."""
        probe = self.tensor(np.zeros(2, dtype=F64))
        return (F32, F64) if self.array(probe).dtype == F64 else (F32,)

    def require_dtype(self, dtype: np.dtype) -> None:
        if np.dtype(dtype) not in self.dtypes:
            raise lacks(f"{np.dtype(dtype)} tensors (core.tensor.Tensor keeps only "
                        f"{', '.join(map(str, self.dtypes))})")

    def compute_dtype(self, preferred: np.dtype = F64) -> np.dtype:
        """``preferred`` if the target supports it, else its widest dtype."""
        return np.dtype(preferred) if np.dtype(preferred) in self.dtypes else self.dtypes[-1]

    def tensor(self, array: Any, requires_grad: bool = False) -> Any:
        """A target tensor holding ``array``, its floating dtype kept where the target can."""
        array = np.asarray(array)
        if array.dtype.kind == "f" and self._takes_dtype:
            return self.Tensor(array, requires_grad=requires_grad, dtype=array.dtype)
        return self.Tensor(array, requires_grad=requires_grad)

    @staticmethod
    def array(t: Any) -> np.ndarray:
        """The NumPy array behind a target tensor (or a plain array)."""
        return np.asarray(getattr(t, "data", t))

    @staticmethod
    def grad(t: Any) -> np.ndarray | None:
        """``t.grad`` as an array (``None`` when no gradient has arrived), Tensor or ndarray."""
        g = getattr(t, "grad", None)
        if g is None:
            return None
        return np.asarray(g.data if not isinstance(g, np.ndarray) else g)

    @functools.cached_property
    def _autograd_forms(self) -> tuple[bool, bool]:
        """(backward takes a Tensor gradient, .grad holds Tensors), probed on ``2 * x``."""
        def probe(upstream: Any) -> Any:
            x = self.tensor(np.array([1.0, 2.0]), requires_grad=True)
            (x * 2.0).backward(upstream)
            return x.grad

        for wrap in (self.tensor, np.asarray):
            try:
                got = probe(wrap(np.array([1.0, 3.0])))
                if np.allclose(self.grad(_Holder(got)), [2.0, 6.0]):
                    return wrap is self.tensor, not isinstance(got, np.ndarray)
            except Exception:  # noqa: BLE001 - a probe: the other form may work
                continue
        return True, True

    def backward(self, out: Any, upstream: np.ndarray | None = None) -> None:
        """``out.backward(upstream)``, the gradient given in the form the target takes."""
        if upstream is None:
            out.backward()
            return
        takes_tensor, _ = self._autograd_forms
        out.backward(self.tensor(upstream) if takes_tensor else np.asarray(upstream))

    def set_grad(self, t: Any, grad: np.ndarray | None) -> None:
        """Assign ``t.grad`` in the target's own form (what a backward pass would leave)."""
        if grad is None:
            t.grad = None
            return
        grad = np.array(grad)
        if grad.dtype.kind != "f":
            grad = grad.astype(self.array(t).dtype)
        _, grad_is_tensor = self._autograd_forms
        t.grad = self.tensor(grad) if grad_is_tensor else grad

    def zero_grad(self, t: Any) -> None:
        if hasattr(t, "zero_grad"):
            t.zero_grad()
        else:
            t.grad = None

    @staticmethod
    def takes(fn: Any, argument: str) -> bool:
        """Whether the callable ``fn`` accepts ``argument`` by name."""
        return _accepts(fn, argument)

    @staticmethod
    def lacking(what: str) -> Missing:
        """The skip to raise for a feature the target does not have (``target lacks ...``)."""
        return lacks(what)

    def need_attribute(self, obj: Any, attribute: str, where: str) -> Any:
        """``obj.attribute``, or skip the test: ``target lacks <where>``."""
        if not hasattr(obj, attribute):
            raise lacks(where)
        return getattr(obj, attribute)

    def zero_grads(self, optimizer: Any, set_to_none: bool = True) -> None:
        """``optimizer.zero_grad(set_to_none)``; upstream's ``zero_grad()`` sets None. The
        default (None, torch's) is called as ``zero_grad()``, so the target's default is what
        runs."""
        if set_to_none:
            optimizer.zero_grad()
        elif _accepts(optimizer.zero_grad, "set_to_none"):
            optimizer.zero_grad(set_to_none=False)
        else:
            raise lacks("core.optimizers.Optimizer.zero_grad(set_to_none=False)")

    # ------------------------------------------------------------------ grad mode
    def no_grad(self) -> contextlib.AbstractContextManager[Any]:
        return self.need("no_grad")()

    def is_grad_enabled(self) -> Any:
        """The target's answer as it gives it: torch's is a bool, and the laws demand one."""
        return self.need("is_grad_enabled")()

    def enable_grad(self) -> contextlib.AbstractContextManager[Any]:
        return self.need("enable_grad")()

    def evaluating(self) -> contextlib.AbstractContextManager[Any]:
        """``no_grad()`` where the target has it; otherwise nothing (forward values only)."""
        return self.no_grad() if self.has("no_grad") else contextlib.nullcontext()

    # ------------------------------------------------------------------ the graph
    @staticmethod
    def graph_node(t: Any) -> Any | None:
        """The node that made ``t`` (ours: ``_ctx``; upstream: ``_grad_fn``; torch-like:
        ``grad_fn``), or None for a leaf."""
        for attr in NODE_ATTRS:
            node = getattr(t, attr, None)
            if node is not None:
                return node
        return None

    def node_inputs(self, node: Any) -> list[Any]:
        """The tensors a node was computed from (``inputs`` or upstream's ``saved_tensors``)."""
        for attr in ("inputs", "saved_tensors"):
            found = getattr(node, attr, None)
            if found is not None:
                return [t for t in found if isinstance(t, self.Tensor)]
        raise lacks("graph introspection (a node's inputs or saved_tensors)")

    @staticmethod
    def node_backward_name(node: Any) -> str:
        """The method backward calls on a node: ``backward(grad)``, or upstream's
        ``apply(grad_output)``."""
        return "backward" if callable(getattr(node, "backward", None)) else "apply"

    def custom_function(self, forward: Any, backward: Any) -> Any:
        """``f(*tensors)`` running ``forward(*arrays) -> array`` with ``backward(grad) ->
        grads`` as its derivative, built on the target's ``Function`` (ours: subclass with
        ``forward``/``backward`` and the ``apply`` classmethod; upstream: a node class whose
        ``apply(grad_output)`` is the backward, attached as ``_grad_fn``)."""
        base = self.need("Function")
        if isinstance(base.__dict__.get("apply"), classmethod):
            node = type("Custom", (base,), {"forward": lambda self, *a: forward(*a),
                                           "backward": lambda self, g: backward(g)})
            return node.apply
        node = type("Custom", (base,), {"apply": lambda self, g: backward(g)})

        def call(*tensors: Any) -> Any:
            out = self.tensor(forward(*(self.array(t) for t in tensors)),
                              requires_grad=any(t.requires_grad for t in tensors))
            out._grad_fn = node(*tensors)
            return out

        return call

    # ------------------------------------------------------------------ layers and modes
    def softmax(self, x: Any, dim: int, log: bool = False) -> Any:
        """Softmax (or LogSoftmax) along ``dim``: the constructor form or the call form."""
        name = "LogSoftmax" if log else "Softmax"
        cls = self.need(name)
        if _accepts(cls, "dim"):
            return cls(dim=dim)(x)
        layer = cls()
        if _accepts(layer.forward, "dim"):
            return layer(x, dim=dim)
        if dim in (-1, np.ndim(self.array(x)) - 1):
            return layer(x)
        raise lacks(f"{api.declared(name).home}(dim=...)")

    def call_layer(self, layer: Any, x: Any, training: bool) -> Any:
        """``layer(x)`` in ``training`` mode: ``forward(x, training=)`` or ``train()/eval()``."""
        if _accepts(layer.forward, "training"):
            return layer.forward(x, training=training)
        if hasattr(layer, "train"):
            layer.train(training)
        elif hasattr(layer, "training"):
            layer.training = training
        return layer(x)

    def set_mode(self, model: Any, training: bool) -> None:
        """``model.train(training)``, or the ``training`` flag upstream's Trainer sets."""
        if callable(getattr(model, "train", None)):
            model.train(training)
        else:
            model.training = training

    def sequential(self, *layers: Any) -> Any:
        """The target's ``Sequential``, or a harness-side chain of the same layers."""
        if self.has("Sequential"):
            return self.Sequential(*layers)
        from properties.chain import Chain

        return Chain(self, layers)

    def set_running_stats(self, layer: Any, mean: np.ndarray, var: np.ndarray) -> None:
        """Give a batch-norm layer these running statistics, in the form it keeps them (a
        NumPy array or a Tensor, of its own dtype)."""
        for name, value in (("running_mean", mean), ("running_var", var)):
            current = self.need_attribute(layer, name, "BatchNorm2d")
            array = np.array(value, dtype=self.array(current).dtype)
            setattr(layer, name, self.tensor(array) if isinstance(current, self.Tensor)
                    else array)

    def running_stats(self, layer: Any) -> tuple[np.ndarray, np.ndarray]:
        return (self.array(self.need_attribute(layer, "running_mean", "BatchNorm2d")),
                self.array(self.need_attribute(layer, "running_var", "BatchNorm2d")))

    @staticmethod
    def param_attribute(module: Any, name: str) -> str:
        """Where a module keeps the parameter torch calls ``name``: the same name, or
        upstream's (``gamma`` and ``beta`` for a norm's ``weight`` and ``bias``)."""
        own = vars(module)
        if name in own or _PARAM_ALIASES.get(name) not in own:
            return name
        return _PARAM_ALIASES[name]

    def param(self, module: Any, name: str) -> Any:
        """A module's parameter by torch's name (see :meth:`param_attribute`)."""
        return getattr(module, self.param_attribute(module, name))

    def with_params(self, module: Any, **params: Any) -> Any:
        """Replace a module's parameters by the given target tensors (e.g. weight=, bias=),
        under the names the module uses for them."""
        for name, value in params.items():
            setattr(module, self.param_attribute(module, name), value)
        return module

    # ------------------------------------------------------------------ attention
    @functools.cached_property
    def mask_blocks_on_one(self) -> bool:
        """Which attention-mask value means "blocked", found by asking the target: with two
        keys of values 0 and 1, a mask of 1 on the first key only attends to it (output 0)
        under upstream's convention (1 = may attend), to the second under the other."""
        attend = self.need("scaled_dot_product_attention")
        zeros = self.tensor(np.zeros((1, 2, 1), np.float32))
        values = self.tensor(np.array([[[0.0], [1.0]]], np.float32))
        first = self.tensor(np.array([[[1.0, 0.0], [1.0, 0.0]]], np.float32))
        out = attend(zeros, zeros, values, first)
        return float(self.array(out[0] if isinstance(out, tuple) else out)[0, 0, 0]) > 0.5

    def attention_mask(self, allowed: np.ndarray | None) -> Any:
        """A mask Tensor in the target's convention for the boolean ``allowed`` (True where a
        query may attend), or None."""
        if allowed is None:
            return None
        blocked = self.mask_blocks_on_one
        return self.tensor(np.where(allowed, not blocked, blocked).astype(np.float32))

    def attend(self, q: Any, k: Any, v: Any, allowed: np.ndarray | None) -> tuple[Any, Any]:
        """``scaled_dot_product_attention(Q, K, V[, mask])`` as (output, weights)."""
        attend = self.need("scaled_dot_product_attention")
        mask = self.attention_mask(allowed)
        out = attend(q, k, v) if mask is None else attend(q, k, v, mask)
        if not isinstance(out, tuple) or len(out) != 2:
            raise lacks("core.attention.scaled_dot_product_attention returning "
                        "(output, weights)")
        return out

    def multi_head_attention(self, x: Any, params: Sequence[Any], num_heads: int,
                             allowed: np.ndarray | None) -> Any:
        """Self-attention of ``x`` by a MultiHeadAttention holding ``params`` (q, k, v, out
        projections' weight and bias, in that order: :data:`ATTENTION_PARAMS`)."""
        mha = self.make("MultiHeadAttention", self.array(x).shape[-1], num_heads)
        self.load(mha, dict(zip(ATTENTION_PARAMS, params)))
        mask = self.attention_mask(allowed)
        return mha(x) if mask is None else mha(x, mask)

    def load(self, model: Any, params: Mapping[str, Any]) -> Any:
        """Give a model's parameters, named by dotted path with torch's leaf names
        (``attention.q_proj.weight``, ``blocks.1.ln1.weight``), these target tensors; a
        module the model lacks skips the test (``target lacks <Class>.<path>``)."""
        for name, value in params.items():
            path, _, leaf = name.rpartition(".")
            try:
                module = resolve(model, path) if path else model
            except (AttributeError, IndexError):
                raise lacks(f"{type(model).__name__}.{path}") from None
            self.with_params(module, **{leaf: value})
        return model

    # ------------------------------------------------------------------ schedules
    def schedule_lr(self, schedule: Any, epoch: float) -> float:
        return float(schedule.get_lr(epoch))

    def apply_schedule(self, schedule: Any, optimizer: Any, epoch: float) -> float:
        """Set the optimizer's learning rate to the schedule's value at ``epoch``."""
        if callable(getattr(schedule, "apply", None)):
            return float(schedule.apply(optimizer, epoch))
        lr = self.schedule_lr(schedule, epoch)
        optimizer.lr = lr
        return lr


_PARAM_ALIASES = {"weight": "gamma", "bias": "beta"}  # torch's name -> upstream's (norms)
# Upstream's attribute layout of MultiHeadAttention and MLP, in their parameters() order.
ATTENTION_PARAMS = tuple(f"{p}.{w}" for p in ("q_proj", "k_proj", "v_proj", "out_proj")
                         for w in ("weight", "bias"))
MLP_PARAMS = ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")


def resolve(model: Any, path: str) -> Any:
    """``model.blocks[1].ln1`` for ``blocks.1.ln1`` (attributes and list indices)."""
    for part in path.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)
    return model


class _Holder:
    def __init__(self, grad: Any) -> None:
        self.grad = grad


NODE_ATTRS = ("_ctx", "_grad_fn", "grad_fn")


def _accepts(fn: Any, argument: str) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True  # a builtin we cannot inspect: assume the common form
    return argument in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b)))
    except (TypeError, ValueError):
        return a == b


def load(raw: str | None) -> Target:
    """Import and check the target ``raw`` (a module name or a directory)."""
    spec = locate.parse(raw)
    package = locate.import_package(spec)
    target = Target(spec, package)
    for declared in api.DECLARED:  # import every module the harness may use, then check them
        for path in declared.modules:
            target._module(path)
    locate.check_provenance(spec)
    return target


@functools.cache
def get() -> Target:
    """The target under test (imported once per process)."""
    return load(os.environ.get(TARGET_ENV))


def is_reference() -> bool:
    """Whether the target is this repository's own ``tinytorch`` (mutants patch only that)."""
    return get().spec.is_bundled
