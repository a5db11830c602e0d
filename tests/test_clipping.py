"""Gradient clipping (Module 07) against torch: clip_grad_norm / clip_grad_value and their laws
(see properties/clipping.py), plus the plain contracts: aliases, a single tensor or a
generator as parameters, no gradients at all, an overflowing norm, and argument errors."""

import math

import numpy as np
import pytest
from hypothesis import given

from oracles import clipping as oracle
from properties import clipping as P
from properties import target
from properties.report import expect_close
from properties.tolerances import FEW_ULPS_F64

pytestmark = pytest.mark.plan("07:core", "07:numerical_stability", "07:edge_cases")


def clipping():
    return target.get()


@given(case=P.clip_norm_cases())
def test_clip_grad_norm_matches_torch(case):
    P.check_clip_grad_norm(case)


@given(case=P.under_threshold_cases())
def test_grads_under_the_threshold_are_untouched(case):
    P.check_clip_grad_norm(case)


@given(case=P.at_threshold_cases())
def test_total_norm_at_max_norm_is_scaled_as_torch_does(case):
    P.check_clip_grad_norm(case)


@given(case=P.zero_grad_cases())
def test_all_zero_grads_stay_zero_without_nan(case):
    P.check_clip_grad_norm(case)


@given(case=P.nonfinite_cases())
def test_nonfinite_grads_follow_torch(case):
    """inf / NaN entries: torch's default (error_if_nonfinite=False) scales by max_norm / inf = 0
    (inf entries become NaN) or by NaN."""
    P.check_clip_grad_norm(case)


@given(case=P.clip_value_cases())
def test_clip_grad_value_matches_torch(case):
    P.check_clip_grad_value(case)


def test_overflowing_norm_follows_torch():
    """torch's norm is naive: squares of 1e200 overflow, the total is inf and the grads are
    scaled by 0. The target must do the same (not a rescaled, finite norm)."""
    grads = [np.array([1e200, -3.0]), np.array(2.0)]
    P.check_clip_grad_norm(P.clip_case(grads, max_norm=1.0, norm_type=2.0))


def test_no_gradients_gives_zero_norm():
    tt = target.get()
    params = [tt.tensor(np.ones(3), requires_grad=True) for _ in range(2)]
    assert clipping().clip_grad_norm(params, 1.0) == 0.0
    assert clipping().clip_grad_norm([], 1.0) == 0.0
    assert all(p.grad is None for p in params)


def _params(grads):
    tt = target.get()
    params = []
    for g in grads:
        p = tt.tensor(np.zeros(g.shape), requires_grad=True)
        tt.set_grad(p, g.copy())
        params.append(p)
    return params


GRADS = [np.array([3.0, -4.0]), np.array([[12.0]])]


@pytest.mark.parametrize("wrap", [list, tuple, iter, lambda ps: (p for p in ps)],
                         ids=["list", "tuple", "iterator", "generator"])
def test_clip_grad_norm_takes_any_iterable(wrap):
    params = _params(GRADS)
    total = clipping().clip_grad_norm(wrap(params), 1.0)
    want_total, want = oracle.clip_grad_norm(GRADS, 1.0)
    assert total == pytest.approx(want_total, rel=1e-12)
    expect_close([p.grad.data for p in params], want, FEW_ULPS_F64,
                 what="gradients clipped through an iterable differ from torch's clip_grad_norm")


def test_clip_grad_norm_takes_a_single_tensor():
    (param,) = _params(GRADS[:1])
    total = clipping().clip_grad_norm(param, 1.0)
    want_total, (want,) = oracle.clip_grad_norm(GRADS[:1], 1.0)
    assert total == pytest.approx(want_total, rel=1e-12)
    expect_close(param.grad.data, want, FEW_ULPS_F64,
                 what="a single tensor's clipped gradient differs from torch's clip_grad_norm")


def test_in_place_aliases_behave_like_torch():
    params = _params(GRADS)
    total = clipping().clip_grad_norm_(params, 0.5, math.inf)
    want_total, want = oracle.clip_grad_norm(GRADS, 0.5, math.inf)
    assert total == pytest.approx(want_total, rel=1e-12)
    expect_close([p.grad.data for p in params], want, FEW_ULPS_F64,
                 what="clip_grad_norm_ gradients differ from torch's clip_grad_norm_")
    params = _params(GRADS)
    assert clipping().clip_grad_value_(params, 3.5) is None
    expect_close([p.grad.data for p in params], oracle.clip_grad_value(GRADS, 3.5),
                 what="clip_grad_value_ gradients differ from torch's clip_grad_value_")


@pytest.mark.parametrize("bound", [0.0, math.inf], ids=["zero", "inf"])
def test_clip_grad_value_at_the_ends_of_its_range_is_torchs(bound):
    """clip_value 0 zeroes every gradient; inf (torch accepts it) leaves them as they were."""
    params = _params(GRADS)
    clipping().clip_grad_value(params, bound)
    expect_close([p.grad.data for p in params], oracle.clip_grad_value(GRADS, bound),
                 what=f"clip_grad_value(params, {bound}) differs from torch's")


def test_clipping_keeps_the_old_array_intact():
    """New arrays are written, so a p.grad.data a caller kept is not changed under their feet."""
    params = _params(GRADS)
    kept = [p.grad.data for p in params]
    clipping().clip_grad_norm(params, 1.0)
    clipping().clip_grad_value(params, 0.1)
    expect_close(kept, GRADS, what="clipping wrote into a gradient array a caller kept")


ERRORS = [
    pytest.param(lambda c, ps: c.clip_grad_norm(ps, -1.0), ValueError, r"max_norm.*-1",
                 id="negative-max-norm"),
    pytest.param(lambda c, ps: c.clip_grad_norm(ps, math.nan), ValueError, r"max_norm.*nan",
                 id="nan-max-norm"),
    pytest.param(lambda c, ps: c.clip_grad_norm(ps, 1.0, 0), ValueError, r"norm_type.*0",
                 id="zero-norm-type"),
    pytest.param(lambda c, ps: c.clip_grad_norm(ps, 1.0, -2.0), ValueError, r"norm_type.*-2",
                 id="negative-norm-type"),
    pytest.param(lambda c, ps: c.clip_grad_norm(ps, 1.0, "fro"), TypeError, r"norm_type.*str",
                 id="string-norm-type"),
    pytest.param(lambda c, ps: c.clip_grad_norm(ps, None), TypeError, r"max_norm.*NoneType",
                 id="none-max-norm"),
    pytest.param(lambda c, ps: c.clip_grad_norm(3.0, 1.0), TypeError, r"iterable.*float",
                 id="parameters-not-iterable"),
    pytest.param(lambda c, ps: c.clip_grad_value(ps, -0.5), ValueError, r"clip_value.*-0.5",
                 id="negative-clip-value"),
    pytest.param(lambda c, ps: c.clip_grad_value(ps, math.nan), ValueError, r"clip_value.*nan",
                 id="nan-clip-value"),
    pytest.param(lambda c, ps: c.clip_grad_value(ps, "x"), TypeError, r"clip_value.*str",
                 id="string-clip-value"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_bad_arguments_raise_clear_errors(call, error, message):
    params = _params(GRADS)
    with pytest.raises(error, match=message):
        call(clipping(), params)
    # raised before touching anything
    expect_close([p.grad.data for p in params], GRADS,
                 what="a rejected call changed the gradients")
