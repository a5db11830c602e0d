"""Optimizers (TinyTorch Modules 06/07): SGD, Adam and AdamW, with PyTorch's update rules.

Each optimizer holds a list of parameters (tensors) and, per parameter, a small dict of state
(momentum buffer, moment estimates, step count). ``step()`` reads every parameter's ``.grad`` and
updates ``p.data``; ``zero_grad()`` clears the gradients for the next backward pass.

The arithmetic follows ``torch.optim``'s single-tensor code path (``foreach=False``) operation by
operation, so that TinyTorch and PyTorch agree to a few float64 ulps:

* a parameter whose ``.grad`` is None is skipped entirely: no update, no state created, and its
  step count (Adam) does not advance. Step counts are therefore per parameter, as in torch.
* ``self.lr`` is read at every ``step()``: a learning-rate schedule sets it between steps.
* the state uses torch's names (``momentum_buffer``, ``step``, ``exp_avg``, ``exp_avg_sq``,
  ``max_exp_avg_sq``) so a state dict reads the same as torch's.

Updates assign a fresh array to ``p.data`` (same dtype) rather than writing into the old one:
TinyTorch has no version counters, so an in-place write would silently change arrays that a
still-alive graph saved for its backward pass (or that a caller kept from ``p.data``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.validation import real_number

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]


# ----------------------------------------------------------------------------- validation


def _real(owner: str, name: str, value: Any) -> float:
    return real_number(f"{owner}: {name}", value)


def _non_negative(owner: str, name: str, value: Any) -> float:
    value = _real(owner, name, value)
    if value < 0.0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
    return value


def _flag(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, not {value!r}")
    return bool(value)


def _lerp_into(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)``, in place, written as torch's ``lerp`` kernel
    writes it.

    torch switches to ``end - (end - start) * (1 - weight)`` for weights of 0.5 and more, which
    is exact at ``weight = 1`` (Adam with ``beta1 = 0`` keeps exactly the last gradient).
    """
    step = end - start
    if abs(weight) < 0.5:
        step *= weight
        start += step
    else:
        step *= 1.0 - weight
        np.subtract(end, step, out=start)


# ----------------------------------------------------------------------------- base class


def keep_pruned(p: Tensor) -> None:
    """A pruned parameter (``p.prune_mask``, set by ``perf.compression``) stays pruned: the
    entries its mask removes are zeroed again after every update, so momentum and Adam's
    moments cannot revive them."""
    mask = getattr(p, "prune_mask", None)
    if mask is not None:
        p.data *= mask


class Optimizer:
    """Base class: holds ``params`` and ``lr``, skips parameters without gradients, and saves and
    restores its state. Subclasses define ``_update`` (one parameter's step), their
    hyper-parameters and the names of their per-parameter buffers."""

    lr: float  # set, validated, by each subclass with its other hyper-parameters

    def __init__(self, params: Iterable[Tensor]) -> None:
        name = type(self).__name__
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{name} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor "
                    "(pass model.parameters())"
                )
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: some parameters appear more than once in the list")
        # param index -> {buffer name: ndarray, "step": int}; an index appears after the first
        # step in which that parameter had a gradient (and, for SGD, only with momentum).
        self.state: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every gradient before the next backward pass, as torch does.

        ``set_to_none=True`` (the default) drops the gradient (``p.grad = None``); ``False``
        replaces it by a zero tensor of the parameter's shape and dtype. A parameter that has no
        gradient keeps ``None`` either way (torch only zeroes gradients that exist).
        """
        for p in self.params:
            if p.grad is None:
                continue
            p.grad = None if set_to_none else Tensor(np.zeros(p.shape, dtype=p.dtype))

    def _grad_of(self, index: int, p: Tensor) -> np.ndarray:
        """``p.grad`` as an array of ``p``'s dtype (never written to: it belongs to the caller)."""
        grad = p.grad.data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
        if grad.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}.step(): parameter {index} has shape {p.shape} but its "
                f"gradient has shape {grad.shape}"
            )
        return np.asarray(grad, dtype=p.dtype)

    # ------------------------------------------------------------------ stepping
    def step(self) -> None:
        """Update every parameter that has a gradient; the others are left exactly as they are.

        Every gradient is checked before anything changes: a step that raises (a gradient of the
        wrong shape, say) leaves all parameters and all state as they were."""
        grads = [(index, p, self._grad_of(index, p))
                 for index, p in enumerate(self.params) if p.grad is not None]
        for index, p, grad in grads:
            self._update(index, p, grad)
            keep_pruned(p)

    def _update(self, index: int, p: Tensor, grad: np.ndarray) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ hyper-parameters
    def hyperparameters(self) -> dict[str, Any]:
        """The hyper-parameters as plain values (what ``state_dict()["hyper"]`` holds)."""
        raise NotImplementedError

    def _validate_hyper(self, hyper: Mapping[str, Any]) -> dict[str, Any]:
        """Check a full set of hyper-parameters; return them normalised (floats, bools)."""
        raise NotImplementedError

    def _set_hyper(self, hyper: Mapping[str, Any]) -> None:
        for name, value in hyper.items():
            setattr(self, name, value)

    def _buffer_names(self, hyper: Mapping[str, Any]) -> set[str]:
        """The keys a per-parameter state dict has under the hyper-parameters ``hyper``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: ``{"type", "hyper", "state"}``.

        Leaves are only float, int, bool, str and (copied) NumPy arrays, so the dict can be
        written without pickle; ``state`` maps a parameter's index in ``params`` to its buffers.
        """
        return {
            "type": type(self).__name__,
            "hyper": self.hyperparameters(),
            "state": {
                index: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in buf.items()}
                for index, buf in sorted(self.state.items())
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``: hyper-parameters and every buffer.

        Everything is checked first (type, hyper-parameters, parameter indices, buffer names,
        shapes, step counts), and only then assigned, so a bad dict raises and changes nothing.
        Arrays are copied (and cast to the parameter's dtype): the caller's dict stays theirs.
        """
        name = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got {type(state).__name__}")
        missing = sorted({"type", "hyper", "state"} - set(state))
        if missing:
            raise KeyError(f"{name}.load_state_dict: missing keys {missing}")
        if state["type"] != name:
            raise ValueError(
                f"{name}.load_state_dict: the state dict is for {state['type']!r}, not {name!r}"
            )
        hyper = state["hyper"]
        expected = set(self.hyperparameters())
        if not isinstance(hyper, Mapping) or set(hyper) != expected:
            got = set(hyper) if isinstance(hyper, Mapping) else set()
            raise KeyError(
                f"{name}.load_state_dict: hyper has missing keys {sorted(expected - got)}, "
                f"unexpected keys {sorted(got - expected)}"
            )
        hyper = self._validate_hyper(hyper)

        buffers = self._buffer_names(hyper)  # under the loaded settings (amsgrad decides)
        new_state: dict[int, dict[str, Any]] = {}
        per_param = state["state"]
        if not isinstance(per_param, Mapping):
            raise TypeError(f"{name}.load_state_dict: state['state'] must be a dict")
        for key, entry in per_param.items():
            if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not (
                0 <= key < len(self.params)
            ):
                raise KeyError(
                    f"{name}.load_state_dict: state key {key!r} is not a parameter index "
                    f"(0..{len(self.params) - 1})"
                )
            index = int(key)
            p = self.params[index]
            if not isinstance(entry, Mapping) or set(entry) != buffers:
                got = set(entry) if isinstance(entry, Mapping) else set()
                raise KeyError(
                    f"{name}.load_state_dict: state of parameter {index} has missing buffers "
                    f"{sorted(buffers - got)}, unexpected buffers {sorted(got - buffers)}"
                )
            loaded: dict[str, Any] = {}
            for buffer, value in entry.items():
                if buffer == "step":
                    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
                        value < 1
                    ):
                        raise ValueError(
                            f"{name}.load_state_dict: step of parameter {index} must be a "
                            f"positive int, got {value!r}"
                        )
                    loaded[buffer] = int(value)
                    continue
                array = np.asarray(getattr(value, "data", value))
                if array.dtype.kind not in "biuf":
                    raise TypeError(
                        f"{name}.load_state_dict: {buffer} of parameter {index} holds dtype "
                        f"{array.dtype}, not numbers"
                    )
                if array.shape != p.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: {buffer} of parameter {index} has shape "
                        f"{array.shape}, the parameter has shape {p.shape}"
                    )
                loaded[buffer] = array.astype(p.dtype, copy=True)
            new_state[index] = loaded
        # Everything fits: only now touch the optimizer.
        self._set_hyper(hyper)
        self.state = new_state


# ----------------------------------------------------------------------------- SGD


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay.

    torch's rule, per parameter with gradient ``g``::

        d_p = g + weight_decay * p                          (coupled: decay joins the gradient)
        buf = d_p                       on its first step   (not (1 - dampening) * d_p)
        buf = momentum * buf + (1 - dampening) * d_p        afterwards
        d_p = d_p + momentum * buf if nesterov else buf     (when momentum != 0)
        p   = p - lr * d_p

    With ``momentum == 0`` there is no buffer and no state at all (as in torch).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params)
        hyper = self._validate_hyper({"lr": lr, "momentum": momentum, "dampening": dampening,
                                      "nesterov": nesterov, "weight_decay": weight_decay})
        self._set_hyper(hyper)

    def _validate_hyper(self, hyper: Mapping[str, Any]) -> dict[str, Any]:
        out = {
            "lr": _non_negative("SGD", "lr", hyper["lr"]),
            "momentum": _non_negative("SGD", "momentum", hyper["momentum"]),
            "dampening": _real("SGD", "dampening", hyper["dampening"]),
            "nesterov": _flag("SGD", "nesterov", hyper["nesterov"]),
            "weight_decay": _non_negative("SGD", "weight_decay", hyper["weight_decay"]),
        }
        if out["nesterov"] and (out["momentum"] <= 0.0 or out["dampening"] != 0.0):
            raise ValueError(
                "SGD: Nesterov momentum requires momentum > 0 and dampening = 0 "
                f"(got momentum={out['momentum']}, dampening={out['dampening']})"
            )
        return out

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": float(self.lr), "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}

    def _buffer_names(self, hyper: Mapping[str, Any]) -> set[str]:
        return {"momentum_buffer"}

    def _update(self, index: int, p: Tensor, grad: np.ndarray) -> None:
        d_p = grad
        if self.weight_decay != 0.0:
            d_p = d_p + self.weight_decay * p.data
        if self.momentum != 0.0:
            state = self.state.setdefault(index, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                # A copy: d_p may be the caller's gradient array itself.
                state["momentum_buffer"] = buf = np.array(d_p, dtype=p.dtype, copy=True)
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * d_p
            d_p = d_p + self.momentum * buf if self.nesterov else buf
        p.data = (p.data - float(self.lr) * d_p).astype(p.dtype, copy=False)


# ----------------------------------------------------------------------------- Adam, AdamW


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, optional AMSGrad and L2 weight decay.

    torch's single-tensor rule, per parameter with gradient ``g``, at its step ``t`` (1, 2, ...)::

        g     = g + weight_decay * p                  (Adam: coupled, joins the gradient)
        m     = lerp(m, g, 1 - beta1)                  = beta1 m + (1 - beta1) g
        v     = beta2 v + (1 - beta2) g^2
        vmax  = max(vmax, v)                           (amsgrad only; then v := vmax below)
        denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        p     = p - (lr / (1 - beta1^t)) * m / denom

    ``eps`` is added *after* the bias correction of ``v``, exactly where torch adds it.
    """

    decoupled_weight_decay = False  # AdamW's one difference

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params)
        hyper = self._validate_hyper({"lr": lr, "betas": betas, "eps": eps,
                                      "weight_decay": weight_decay, "amsgrad": amsgrad})
        self._set_hyper(hyper)

    def _validate_hyper(self, hyper: Mapping[str, Any]) -> dict[str, Any]:
        name = type(self).__name__
        betas = hyper["betas"]
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable):
            raise TypeError(f"{name}: betas must be a pair of floats, got {betas!r}")
        betas = tuple(betas)
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        beta1, beta2 = (_real(name, f"betas[{i}]", b) for i, b in enumerate(betas))
        for i, b in enumerate((beta1, beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: betas[{i}] must be in [0, 1), got {b}")
        return {
            "lr": _non_negative(name, "lr", hyper["lr"]),
            "betas": (beta1, beta2),
            "eps": _non_negative(name, "eps", hyper["eps"]),
            "weight_decay": _non_negative(name, "weight_decay", hyper["weight_decay"]),
            "amsgrad": _flag(name, "amsgrad", hyper["amsgrad"]),
        }

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": float(self.lr), "betas": list(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}

    def _buffer_names(self, hyper: Mapping[str, Any]) -> set[str]:
        names = {"step", "exp_avg", "exp_avg_sq"}
        return names | {"max_exp_avg_sq"} if hyper["amsgrad"] else names

    def _bias_corrections(self, step: int) -> tuple[float, float]:
        """``(1 - beta1^t, 1 - beta2^t)``: undo the zero start of the moving averages."""
        beta1, beta2 = self.betas
        return 1.0 - beta1**step, 1.0 - beta2**step

    def _update(self, index: int, p: Tensor, grad: np.ndarray) -> None:
        lr, (beta1, beta2) = float(self.lr), self.betas
        state = self.state.setdefault(index, {})
        if not state:  # lazy initialisation on the parameter's first step with a gradient
            state["step"] = 0
            state["exp_avg"] = np.zeros(p.shape, dtype=p.dtype)
            state["exp_avg_sq"] = np.zeros(p.shape, dtype=p.dtype)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros(p.shape, dtype=p.dtype)
        state["step"] += 1
        step = state["step"]

        if self.weight_decay != 0.0:
            if self.decoupled_weight_decay:
                p.data = (p.data * (1.0 - lr * self.weight_decay)).astype(p.dtype, copy=False)
            else:
                grad = grad + self.weight_decay * p.data

        # The same operations, in the same order, as the formulas above (so the same
        # roundings), written in place to spare temporaries.
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_into(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq *= beta2
        square = (1.0 - beta2) * grad
        square *= grad
        exp_avg_sq += square

        bias_correction1, bias_correction2 = self._bias_corrections(step)
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            denom = np.sqrt(state["max_exp_avg_sq"])
        else:
            denom = np.sqrt(exp_avg_sq)
        denom /= bias_correction2_sqrt
        denom += self.eps
        update = (-step_size) * exp_avg
        update /= denom
        if update.dtype == np.result_type(update, p.data):
            update += p.data  # a fresh array: p.data itself is never written to
        else:
            update = update + p.data
        p.data = update.astype(p.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``
    *before* the Adam update, instead of adding ``weight_decay * p`` to the gradient, so the
    decay is not rescaled by the adaptive denominator. Default ``weight_decay`` is 1e-2, as in
    torch."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
