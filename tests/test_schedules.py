"""Learning-rate schedules (Module 07) against torch's CosineAnnealingLR and
SequentialLR(LinearLR, CosineAnnealingLR), their shape laws (see properties/schedules.py),
apply(), state dicts, and argument errors."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import schedules as P
from properties import target
from properties.report import expect_close

pytestmark = pytest.mark.plan("07:core", "07:edge_cases", "07:numerical_stability")


def schedules():
    return target.get()


@given(hyper=P.cosine_hyper())
def test_cosine_matches_torch_and_its_laws(hyper):
    P.check_cosine_schedule(P.Case((), hyper))


@given(hyper=P.warmup_hyper())
def test_warmup_cosine_matches_torch_and_its_laws(hyper):
    P.check_warmup_cosine_schedule(P.Case((), hyper))


KINDS = {"CosineSchedule": P.cosine_hyper(), "WarmupCosineSchedule": P.warmup_hyper()}
each_kind = pytest.mark.parametrize("kind", sorted(KINDS))


@each_kind
@given(data=st.data())
def test_apply_sets_optimizer_lr(kind, data):
    hyper = data.draw(KINDS[kind], label="hyper")
    last = hyper["total_epochs"] + 3
    epochs = data.draw(st.lists(st.one_of(st.integers(0, last), st.floats(0, last)), min_size=1,
                                max_size=6), label="epochs")
    P.check_apply_sets_lr(kind, hyper, epochs)


@each_kind
@given(data=st.data())
def test_state_dict_round_trip(kind, data):
    hyper = data.draw(KINDS[kind], label="hyper")
    other = data.draw(KINDS[kind], label="other hyper")
    # a schedule never applied is its own case (half the examples), not one epoch among many
    applied = data.draw(st.just(-1) | st.integers(0, hyper["total_epochs"]),
                        label="applied epoch (-1: none)")
    P.check_state_dict_round_trip(kind, hyper, other, applied)


def test_fractional_epochs_follow_the_closed_form():
    """Epochs need not be integers: the closed forms are continuous (the join included)."""
    cos = schedules().CosineSchedule(1.0, 0.1, 4)
    assert cos.get_lr(1.5) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 1.5 / 4)) / 2)
    warm = schedules().WarmupCosineSchedule(1.0, 0.1, 2, 6, start_factor=0.5)
    assert warm.get_lr(1.0) == pytest.approx(0.75)
    assert warm.get_lr(2 - 1e-9) == pytest.approx(1.0, abs=1e-8)
    assert warm.get_lr(2 + 1e-9) == pytest.approx(1.0, abs=1e-8)


def test_warmup_of_zero_epochs_is_the_cosine_schedule():
    warm = schedules().WarmupCosineSchedule(0.5, 0.01, 0, 7)
    cos = schedules().CosineSchedule(0.5, 0.01, 7)
    expect_close([warm.get_lr(e) for e in range(10)], [cos.get_lr(e) for e in range(10)],
                 what="a warmup of zero epochs changes the cosine schedule's learning rates")


def test_load_state_dict_rejects_missing_and_unknown_keys():
    s = schedules().CosineSchedule(1.0, 0.1, 10)
    state = s.state_dict()
    with pytest.raises(KeyError, match="total_epochs"):
        s.load_state_dict({k: v for k, v in state.items() if k != "total_epochs"})
    with pytest.raises(KeyError, match="warmup_epochs"):
        s.load_state_dict({**state, "warmup_epochs": 2})
    with pytest.raises(ValueError, match="min_lr"):
        s.load_state_dict({**state, "min_lr": 5.0})
    assert s.state_dict() == state  # a rejected state changes nothing


def cosine(*args, **kwargs):
    return schedules().CosineSchedule(*args, **kwargs)


def warmup(*args, **kwargs):
    return schedules().WarmupCosineSchedule(*args, **kwargs)


ERRORS = [
    pytest.param(lambda: cosine(1.0, 0.1, 0), ValueError, r"total_epochs.*>= 1.*0",
                 id="cosine-zero-epochs"),
    pytest.param(lambda: cosine(1.0, 0.1, -3), ValueError, r"total_epochs.*-3",
                 id="cosine-negative-epochs"),
    pytest.param(lambda: cosine(1.0, 0.1, 10.5), TypeError, r"total_epochs.*int.*float",
                 id="cosine-fractional-epochs"),
    pytest.param(lambda: cosine(0.1, 1.0, 10), ValueError, r"min_lr \(1.0\).*max_lr \(0.1\)",
                 id="cosine-min-above-max"),
    pytest.param(lambda: cosine(1.0, -0.1, 10), ValueError, r"min_lr.*>= 0.*-0.1",
                 id="cosine-negative-min"),
    pytest.param(lambda: cosine(math.nan, 0.1, 10), ValueError, r"max_lr.*finite.*nan",
                 id="cosine-nan-max"),
    pytest.param(lambda: cosine("0.1", 0.01, 10), TypeError, r"max_lr.*str",
                 id="cosine-string-lr"),
    pytest.param(lambda: cosine(1.0, 0.1, 10).get_lr(-1), ValueError, r"epoch.*>= 0.*-1",
                 id="cosine-negative-epoch"),
    pytest.param(lambda: cosine(1.0, 0.1, 10).get_lr(math.nan), ValueError, r"epoch.*nan",
                 id="cosine-nan-epoch"),
    pytest.param(lambda: cosine(1.0, 0.1, 10).get_lr("3"), TypeError, r"epoch.*str",
                 id="cosine-string-epoch"),
    pytest.param(lambda: cosine(1.0, 0.1, 10).apply(object(), 3), AttributeError, r"'lr'",
                 id="apply-without-lr"),
    pytest.param(lambda: warmup(1.0, 0.1, 5, 5), ValueError, r"warmup_epochs \(5\).*< total",
                 id="warmup-as-long-as-total"),
    pytest.param(lambda: warmup(1.0, 0.1, -1, 5), ValueError, r"warmup_epochs.*>= 0.*-1",
                 id="warmup-negative"),
    pytest.param(lambda: warmup(1.0, 0.1, 2, 5, start_factor=0.0), ValueError,
                 r"start_factor.*\(0, 1\].*0.0", id="warmup-zero-start-factor"),
    pytest.param(lambda: warmup(1.0, 0.1, 2, 5, start_factor=1.5), ValueError,
                 r"start_factor.*1.5", id="warmup-start-factor-above-one"),
    pytest.param(lambda: warmup(0.1, 1.0, 2, 5), ValueError, r"min_lr.*max_lr",
                 id="warmup-min-above-max"),
    pytest.param(lambda: warmup(1.0, 0.1, 2, 5).get_lr(-0.5), ValueError, r"epoch.*-0.5",
                 id="warmup-negative-epoch"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
