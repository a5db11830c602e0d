"""Mutants of the optimizers (``<target>.core.optimizers``): bugs that tests/test_optimizers.py
must catch. Imported by :mod:`properties.mutants`, which owns the catalog and the runner.

Each bug is one a student (or a refactor) really writes: forgetting Adam's bias correction,
AdamW's decay taken for L2 or applied after the step, a momentum buffer rebuilt every step,
Nesterov reduced to plain momentum, parameters without a gradient stepped as if it were zero,
and a ``zero_grad`` that does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from properties.mutation import mutant

# ----------------------------------------------------------------------------- Adam, AdamW

mutant("adam_without_bias_correction", "optimizers",
       "Adam/AdamW divide by neither 1 - beta1^t nor sqrt(1 - beta2^t): early steps are tiny",
       optimizers__Adam___bias_corrections=lambda orig: lambda self, step: (1.0, 1.0))

mutant("adamw_decay_applied_like_adam", "optimizers",
       "AdamW adds weight_decay * p to the gradient (L2, rescaled by the adaptive denominator) "
       "instead of decaying p directly",
       optimizers__AdamW__decoupled_weight_decay=lambda orig: False)


def _decay_after_update(orig: Any) -> Any:
    def update(self: Any, index: int, p: Any, grad: np.ndarray) -> None:
        if not self.decoupled_weight_decay:
            return orig(self, index, p, grad)
        decay, self.weight_decay = self.weight_decay, 0.0
        try:
            orig(self, index, p, grad)
        finally:
            self.weight_decay = decay
        p.data = (p.data * (1.0 - self.lr * decay)).astype(p.dtype)
        return None

    return update


mutant("adamw_decay_after_update", "stateful",
       "AdamW shrinks p by (1 - lr * weight_decay) after the Adam step, i.e. decays the updated p",
       optimizers__Adam___update=_decay_after_update)

# ----------------------------------------------------------------------------- SGD


def _buffer_not_kept(orig: Any) -> Any:
    def update(self: Any, index: int, p: Any, grad: np.ndarray) -> None:
        self.state.pop(index, None)  # every step starts a fresh buffer: buf = d_p
        orig(self, index, p, grad)

    return update


mutant("sgd_momentum_buffer_not_kept", "optimizers",
       "SGD rebuilds the momentum buffer from the current gradient every step (no memory)",
       optimizers__SGD___update=_buffer_not_kept)


def _update_with(attribute: str, value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A patch of ``_update`` that runs with ``attribute`` set to ``value(old)``."""

    def factory(orig: Any) -> Any:
        def update(self: Any, index: int, p: Any, grad: np.ndarray) -> None:
            old = getattr(self, attribute)
            setattr(self, attribute, value(old))
            try:
                orig(self, index, p, grad)
            finally:
                setattr(self, attribute, old)

        return update

    return factory


mutant("sgd_nesterov_wrong", "optimizers",
       "SGD with nesterov=True steps along buf instead of d_p + momentum * buf",
       optimizers__SGD___update=_update_with("nesterov", lambda _: False))

mutant("sgd_dampening_added", "optimizers",
       "SGD's buffer takes (1 + dampening) * d_p instead of (1 - dampening) * d_p",
       optimizers__SGD___update=_update_with("dampening", lambda d: -d))

# ----------------------------------------------------------------------------- base class


def _none_as_zero(orig: Any) -> Any:
    def step(self: Any) -> None:
        missing = [p for p in self.params if p.grad is None]
        for p in missing:
            p.grad = type(p)(np.zeros(p.shape, dtype=p.dtype))
        try:
            orig(self)
        finally:
            for p in missing:
                p.grad = None

    return step


mutant("optimizer_steps_params_without_grad", "optimizers",
       "step() treats a missing gradient as zero: weight decay, momentum and Adam's moments "
       "still move the parameter, and state is created for it",
       optimizers__Optimizer__step=_none_as_zero)

mutant("zero_grad_keeps_grads", "optimizers",
       "optimizer.zero_grad() leaves every gradient in place",
       optimizers__Optimizer__zero_grad=lambda orig: lambda self, set_to_none=True: None)

# ----------------------------------------------------------------------------- dtypes


def _moments_in_float64(orig: Any) -> Any:
    def update(self: Any, index: int, p: Any, grad: np.ndarray) -> None:
        orig(self, index, p, grad)
        buffers = self.state[index]
        for name, value in buffers.items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                buffers[name] = value.astype(np.float64)

    return update


mutant("adam_moments_in_float64", "dtypes",
       "Adam keeps its moments in float64 whatever the parameters' dtype (np.zeros(shape)): "
       "the values still track torch's, the memory and arithmetic do not",
       optimizers__Adam___update=_moments_in_float64)


def _step_as_it_goes(orig: Any) -> Any:
    def step(self: Any) -> None:
        for index, p in enumerate(self.params):
            if p.grad is not None:
                self._update(index, p, self._grad_of(index, p))

    return step


mutant("step_not_atomic", "atomic",
       "step() checks each gradient as it goes: a bad gradient for parameter 1 raises after "
       "parameter 0 was already updated",
       optimizers__Optimizer__step=_step_as_it_goes)


def _sgd_buffer_is_the_grad(orig: Any) -> Any:
    def _update(self: Any, index: int, p: Any, grad: Any) -> None:
        first = self.momentum != 0.0 and "momentum_buffer" not in self.state.get(index, {})
        orig(self, index, p, grad)
        if first and self.weight_decay == 0.0:
            self.state[index]["momentum_buffer"] = grad  # no copy: later steps write into it

    return _update


mutant("sgd_momentum_buffer_aliases_grad", "optimizers",
       "SGD's first momentum buffer is the gradient array itself (np.asarray, not a copy): the "
       "next step's buf *= momentum writes into the .grad a caller kept",
       optimizers__SGD___update=_sgd_buffer_is_the_grad)


def _adamw_default_lr(orig: Any) -> Any:
    def __init__(self: Any, params: Any, lr: float = 1e-2, **rest: Any) -> None:
        orig(self, params, lr, **rest)

    return __init__


mutant("adamw_default_lr_ten_times", "optimizers",
       "AdamW(params) steps with lr 1e-2 by default (torch's and upstream's default is 1e-3)",
       **{"optimizers.AdamW.__init__": _adamw_default_lr})


def _load_aliases_buffers(orig: Any) -> Any:
    def load_state_dict(self: Any, state: Any) -> None:
        orig(self, state)
        for index, buffers in state["state"].items():  # astype(copy=False): the caller's
            for name, value in buffers.items():
                if isinstance(value, np.ndarray) and value.dtype == self.state[index][name].dtype:
                    self.state[index][name] = value

    return load_state_dict


mutant("optimizer_load_aliases_buffers", "optimizers",
       "Optimizer.load_state_dict keeps the caller's buffer arrays (no copy): later steps write "
       "into the dict it was loaded from",
       optimizers__Optimizer__load_state_dict=_load_aliases_buffers)


def _amsgrad_max_in_float64(orig: Any) -> Any:
    def _update(self: Any, index: int, p: Any, grad: Any) -> None:
        orig(self, index, p, grad)
        state = self.state[index]
        if self.amsgrad:  # float64 from the first step on, whatever p's dtype
            state["max_exp_avg_sq"] = state["max_exp_avg_sq"].astype(np.float64)

    return _update


mutant("amsgrad_max_in_float64", "dtypes",
       "Adam(amsgrad=True) keeps its running max of the second moment in float64 "
       "(np.zeros(shape)) whatever the parameters' dtype",
       optimizers__Adam___update=_amsgrad_max_in_float64)

mutant("zero_grad_default_fills_zeros", "optimizers",
       "optimizer.zero_grad() fills gradients with zeros by default (torch's default: None)",
       optimizers__Optimizer__zero_grad=lambda orig: lambda self, set_to_none=False: orig(
           self, set_to_none))
