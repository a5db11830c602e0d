"""Generic properties run over every registry entry.

* forward equals the float64 torch oracle (and keeps the input dtype);
* the vector-Jacobian product with a random upstream gradient equals torch's, for every
  differentiable input;
* the gradient agrees with central finite differences of the target's own forward in float64
  (a second oracle that does not depend on torch);
* every gradient has its input's shape and dtype, however the inputs were broadcast.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from hypothesis import Phase, find, settings
from hypothesis import strategies as st

from oracles import autodiff
from properties import target
from properties.registry import OpInfo, op_named
from properties.report import Mismatch, assert_close, fail
from properties.strategies import Sample, values
from properties.tolerances import FINITE_DIFFERENCE, FINITE_DIFFERENCE_STEP, SLACK_FACTOR


def run(op: OpInfo, sample: Sample, requires_grad: bool = True) -> tuple[Any, list[Any]]:
    """Call the op on the target; returns (output tensor, input tensors)."""
    tt = target.get()
    wrt = op.wrt(len(sample.arrays))
    inputs = [tt.tensor(a, requires_grad=requires_grad and i in wrt)
              for i, a in enumerate(sample.arrays)]
    out = op.call(tt, *inputs, **sample.kwargs)
    if not isinstance(out, tt.Tensor):
        raise AssertionError(f"[{op.name}] returned a {type(out).__name__}, not a Tensor "
                             f"({sample.describe()})")
    return out, inputs


def target_vjp(op: OpInfo, sample: Sample, upstream: np.ndarray) -> tuple[np.ndarray, list]:
    """Target forward value and the ``.grad`` of each differentiable input after backward."""
    tt = target.get()
    out, inputs = run(op, sample)
    tt.backward(out, upstream)
    return tt.array(out), [tt.grad(inputs[i]) for i in op.wrt(len(sample.arrays))]


def oracle_forward(op: OpInfo, sample: Sample) -> np.ndarray:
    return autodiff.forward(op.oracle, sample.arrays, **sample.kwargs)


def require(dtype: np.dtype) -> None:
    """Skip (``target lacks float64 tensors``) unless the target computes in ``dtype``."""
    target.get().require_dtype(dtype)


def compute_dtype() -> np.dtype:
    """float64 where the target has it, else its own dtype (laws that hold in any dtype)."""
    return target.get().compute_dtype()


@functools.cache
def call_error(op_name: str, dtype: np.dtype) -> str | None:
    """How calling the op (forward, then backward unless it is forward-only) on its simplest
    input fails, if it does.
    Call it outside ``@given`` first (a fixture does): it runs its own small search."""
    op = op_named(op_name)
    if np.dtype(dtype) not in target.get().dtypes:
        return None
    # the first example Hypothesis generates is a small one; shrinking it further tripled
    # the cost (30 ms per op and dtype in every worker) and finds no more failing calls
    sample = find(op.sample(dtype), lambda _: True,
                  settings=settings(database=None, max_examples=1, derandomize=True,
                                    phases=[Phase.generate]))
    try:
        out, _ = run(op, sample, requires_grad=op.applies("backward"))
        if op.applies("backward"):
            target.get().backward(out, np.ones(np.shape(target.get().array(out))))
    except (AssertionError, target.Missing):
        return None  # a wrong value, or a skip: the properties themselves say so
    except Exception as e:  # noqa: BLE001 - any error the target raises is the finding
        return f"{type(e).__name__}: {e}"
    return None


def fail_fast(op: OpInfo, dtype: np.dtype) -> None:
    """Fail at once, before anything is drawn (so nothing is shrunk), when the op cannot even
    be called: a missing operator (``1 - x`` raising TypeError) fails every example the same
    way, and shrinking each of them would cost minutes and say nothing more."""
    require(dtype)
    error = call_error(op.name, np.dtype(dtype))
    if error:
        raise AssertionError(f"[{op.name}] calling the target fails on the simplest input "
                             f"({np.dtype(dtype)}), so no property of it can hold:\n  {error}")


def draw_case(data: st.DataObject, op: OpInfo, dtype: np.dtype) -> tuple[Sample, np.ndarray]:
    """A sample and an upstream gradient of the output's shape (from the oracle)."""
    require(dtype)
    sample = data.draw(op.sample(dtype), label=f"{op.name} sample")
    shape = oracle_forward(op, sample).shape
    upstream = data.draw(values(dtype, shape, -2.0, 2.0), label="upstream gradient")
    return sample, upstream


# ----------------------------------------------------------------------------- properties


def float32_slack(op: OpInfo, sample: Sample, reference: list[np.ndarray],
                  upstream: np.ndarray | None = None) -> list[float] | None:
    """For an ill-conditioned entry's float32 sample: SLACK_FACTOR x how far torch's own
    float32 run lands from ``reference``, its float64 one, at worst over each tensor (the
    forward value, or with ``upstream`` each gradient; rounding is a tensor's, not an
    element's: torch may land exactly on a zero by luck where a sum cancels); else None."""
    if not op.float32_slack or sample.arrays[0].dtype != np.float32:
        return None
    if upstream is None:
        got32 = [autodiff.forward(op.oracle, sample.arrays, precision=np.float32,
                                  **sample.kwargs)]
    else:
        _, got32 = autodiff.vjp(op.oracle, sample.arrays, upstream,
                                op.wrt(len(sample.arrays)), precision=np.float32,
                                **sample.kwargs)
    return [SLACK_FACTOR * float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0))
            for a, b in zip(got32, reference)]


def check_forward(op: OpInfo, sample: Sample) -> None:
    """Forward equals torch, keeps the dtype, and never overflows or computes NaN on the way
    (inputs are in the op's domain, so a floating-point exception means an unstable formula,
    e.g. a sigmoid that evaluates exp(200) even when its answer is right)."""
    raising = "raise" if op.applies("fp_exceptions") else "ignore"
    with np.errstate(over=raising, invalid=raising, divide=raising):
        out, _ = run(op, sample, requires_grad=False)
    actual = target.get().array(out)
    expected_dtype = np.result_type(*sample.arrays)
    if actual.dtype != expected_dtype:
        fail(
            op_name=op.name, check="forward dtype", sample=sample,
            what=f"output dtype {actual.dtype}, expected {expected_dtype} (the inputs' dtype)",
            detail="")
    expected = oracle_forward(op, sample)
    slack = float32_slack(op, sample, [expected])
    assert_close(actual, expected, op.tolerance(expected_dtype),
                 op_name=op.name, check="forward", what="forward value differs from torch",
                 sample=sample, steer=True, slack=None if slack is None else slack[0])


def check_vjp(op: OpInfo, sample: Sample, upstream: np.ndarray) -> None:
    """Each differentiable input's gradient equals torch's, and has the input's shape and dtype
    (one backward pass checks all three: a float32 parameter with a float64 gradient is as wrong
    as a wrong value, and costs nothing extra to see)."""
    wrt = op.wrt(len(sample.arrays))
    _, grads = target_vjp(op, sample, upstream)
    _, expected = autodiff.vjp(op.oracle, sample.arrays, upstream, wrt, **sample.kwargs)
    tol = op.tolerance(sample.arrays[0].dtype)
    slack = float32_slack(op, sample, expected, upstream)
    # an ill-conditioned entry's backward rounds relative to the largest terms flowing through
    # it: a gradient that cancels to ~0 carries the rounding of the largest one of the call
    scale = 0.0 if slack is None else \
        max((np.max(np.abs(w), initial=0.0) for w in expected), default=0.0)
    for i, got, want, allowance in zip(wrt, grads, expected, slack or [None] * len(wrt)):
        x = sample.arrays[i]
        problem = None
        if got is None:
            problem = "received no gradient"
        elif got.shape != x.shape:
            problem = f"gradient shape {got.shape} != input shape {x.shape}"
        elif got.dtype != x.dtype:
            problem = f"gradient dtype {got.dtype} != input dtype {x.dtype}"
        if problem:
            fail(op_name=op.name, check="backward", what=f"input {i} {problem}",
                 sample=sample, detail="", upstream=upstream)
        assert_close(got, want, tol, op_name=op.name, check="backward",
                     what=f"gradient of input {i} differs from torch", sample=sample,
                     upstream=upstream, steer=True, slack=allowance, scale=scale)


def _objective(op: OpInfo, sample: Sample, upstream: np.ndarray):
    """x_i -> sum(upstream * op(..., x_i, ...)) evaluated by the target without a graph."""
    tt = target.get()

    def f(i: int, x: np.ndarray) -> float:
        arrays = list(sample.arrays)
        arrays[i] = x
        with tt.evaluating():
            out, _ = run(op, Sample(tuple(arrays), sample.kwargs), requires_grad=False)
        return float(np.sum(upstream * tt.array(out)))

    return f


def finite_difference_gradient(op: OpInfo, sample: Sample, upstream: np.ndarray,
                               i: int) -> np.ndarray:
    """Central differences of the objective, element by element (used to localize a failure)."""
    f, h = _objective(op, sample, upstream), FINITE_DIFFERENCE_STEP
    x = sample.arrays[i]
    grad = np.zeros(x.shape)
    for j in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[j] += h
        minus[j] -= h
        grad[j] = (f(i, plus) - f(i, minus)) / (2 * h)
    return grad


def check_finite_differences(op: OpInfo, sample: Sample, upstream: np.ndarray,
                             seed: int) -> None:
    """Directional derivatives along two random directions per input (two forward calls each);
    on a mismatch, the full elementwise estimate is computed to say where."""
    _, grads = target_vjp(op, sample, upstream)
    f, h = _objective(op, sample, upstream), FINITE_DIFFERENCE_STEP
    rng = np.random.default_rng(seed)
    for i, g in zip(op.wrt(len(sample.arrays)), grads):
        x = sample.arrays[i]
        g = np.zeros(x.shape) if g is None else g
        for _ in range(2):
            v = rng.standard_normal(x.shape)
            estimate = (f(i, x + h * v) - f(i, x - h * v)) / (2 * h)
            if Mismatch(np.float64(np.sum(g * v)), np.float64(estimate), FINITE_DIFFERENCE).ok:
                continue
            assert_close(g, finite_difference_gradient(op, sample, upstream, i),
                         FINITE_DIFFERENCE, op_name=op.name, check="finite differences",
                         what=f"gradient of input {i} differs from central differences",
                         sample=sample, upstream=upstream)
            fail(
                op_name=op.name, check="finite differences", sample=sample, upstream=upstream,
                what=f"directional derivative of input {i}: backward gives {np.sum(g * v)!r}, "
                f"finite differences {estimate!r}", detail="")
