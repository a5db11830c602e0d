"""Data loading (Module 08): the laws of properties.data over generated datasets and loader
flags, bad arguments, and a loader feeding a layer without cutting its gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from properties import data as D
from properties import target
from properties.report import expect_close
from properties.tolerances import tolerance_for

pytestmark = pytest.mark.plan(
    "08:core", "08:shapes", "08:edge_cases", "08:integration", "08:real_world")


def dl():
    return target.get()


def rows(n, width=2, dtype=np.float64):
    return np.arange(n * width, dtype=dtype).reshape(n, width)


def loader(n=10, batch_size=4, **kwargs):
    dataset = dl().TensorDataset(rows(n), np.arange(n, dtype=np.float64))
    return dl().make("DataLoader", dataset, batch_size, **kwargs)


def flat_order(loader_):
    return np.concatenate([target.get().array(y) for _, y in loader_]).tolist()


# ----------------------------------------------------------------------------- laws


@given(case=D.loader_cases())
def test_each_epoch_yields_every_sample_once_in_len_batches(case):
    D.check_epochs(case)


@given(case=D.loader_cases(oversized=True))
def test_batch_larger_than_the_dataset_gives_one_batch(case):
    D.check_oversized_batch(case)


@given(case=D.loader_cases())
def test_order_is_a_function_of_seed_and_epoch(case):
    D.check_order(case)


@given(case=D.loader_cases())
def test_set_epoch_replays_an_epoch(case):
    D.check_set_epoch(case)


# ----------------------------------------------------------------------------- bad arguments

CASES = [
    pytest.param(lambda: dl().TensorDataset(rows(3), np.zeros(4)),
                 ValueError, r"\[3, 4\]", id="tensor-dataset-mismatched-lengths"),
    pytest.param(lambda: loader(batch_size=0),
                 ValueError, r"batch_size.*at least 1.*\b0\b", id="batch-size-zero"),
    pytest.param(lambda: loader(batch_size=-2),
                 ValueError, r"batch_size.*-2", id="batch-size-negative"),
    pytest.param(lambda: loader(batch_size=2.5),
                 TypeError, r"batch_size.*integer.*2\.5", id="batch-size-float"),
    pytest.param(lambda: loader(batch_size="4"),
                 TypeError, r"batch_size.*integer", id="batch-size-string"),
    pytest.param(lambda: loader(seed=-1),
                 ValueError, r"seed.*-1", id="seed-negative"),
    pytest.param(lambda: loader().set_epoch(-1),
                 ValueError, r"epoch.*-1", id="set-epoch-negative"),
    pytest.param(lambda: dl().TensorDataset(rows(3))[3],
                 IndexError, r"\b3\b.*3 samples", id="index-past-the-end"),
    pytest.param(lambda: dl().TensorDataset(rows(3))[-4],
                 IndexError, r"-4.*3 samples", id="index-before-the-start"),
]


# (more, word for word, in tests/test_errors.py)
@pytest.mark.bundled_only  # the bundled package's error wording
@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------- plain cases


def test_dataset_rows_are_tuples_of_tensors_and_negative_indices_count_from_the_end():
    tt = target.get()
    ds = dl().TensorDataset(rows(4, dtype=np.float32), tt.tensor(np.arange(4.0), True))
    assert len(ds) == 4
    x, y = ds[-1]
    assert isinstance(x, tt.Tensor) and isinstance(y, tt.Tensor)
    expect_close(tt.array(x), np.array([6.0, 7.0], np.float32))
    assert x.dtype == np.float32 and y.item() == 3.0
    assert not x.requires_grad and not y.requires_grad


@given(n=st.integers(1, 5))
def test_dataset_index_reaches_every_sample_from_both_ends_as_torch(n):
    """``ds[i]`` for every i in [-n, n) is torch's TensorDataset's ``ds[i]``, -n included."""
    tt = target.get()
    x, y = rows(n), np.arange(n, dtype=np.float64)
    ds, twin = dl().TensorDataset(x, y), torch.utils.data.TensorDataset(
        torch.from_numpy(x), torch.from_numpy(y))
    for i in range(-n, n):
        expect_close([tt.array(t) for t in ds[i]], [t.numpy() for t in twin[i]],
                     what=f"TensorDataset[{i}] of {n} samples differs from torch's")


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        dl().Dataset()


# What a custom Dataset's __getitem__ may return, built from ``make(tensor, i)``: the same
# samples, with torch tensors, go through torch's DataLoader (its default_collate).
SAMPLE_FORMS = {
    "tensor pair": lambda t, i: (t(np.array([i, i * i], np.float64)), t(np.float64(i))),
    "array pair": lambda t, i: (np.array([i, i * i], np.float32), np.array(i, np.float64)),
    "array and number": lambda t, i: (np.array([[i], [-i]], np.float64), float(i) / 4),
    "list of fields": lambda t, i: [t(np.array([i], np.float32)), np.array([i, 2.0 * i])],
    "bare tensor": lambda t, i: t(np.array([i, -i], np.float64)),
    "bare array": lambda t, i: np.array([[i, 0.5]], np.float32),
}


@pytest.mark.parametrize("form", SAMPLE_FORMS)
def test_custom_dataset_samples_collate_as_torch(form):
    """Batches of a custom Dataset equal torch's default_collate of the same samples: fields
    (tuple or list) stacked one tensor each, a bare sample stacked into one tensor; numbers
    and arrays become tensors of their dtype."""
    tt = target.get()
    make = SAMPLE_FORMS[form]

    class Samples(dl().Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return make(tt.tensor, i)

    got = list(dl().make("DataLoader", Samples(), batch_size=2))
    want = list(torch.utils.data.DataLoader([make(torch.tensor, i) for i in range(5)],
                                            batch_size=2))

    def plain(batch):
        if isinstance(batch, (tuple, list)):
            return [plain(b) for b in batch]
        return tt.array(batch) if isinstance(batch, tt.Tensor) else batch.numpy()

    # dtypes too, where the target keeps float64 (the values are exact in float32)
    expect_close([plain(b) for b in got], [plain(b) for b in want],
                 check_dtype=np.dtype(np.float64) in tt.dtypes,
                 what=f"DataLoader batches of {form} samples differ from torch's")


def test_a_pass_cut_short_does_not_advance_the_epoch():
    load = loader(batch_size=3, shuffle=True, seed=7)
    first = flat_order(load)
    load.set_epoch(0)
    for _ in load:
        break
    assert load.epoch == 0
    assert flat_order(load) == first and load.epoch == 1


def test_seed_none_draws_one_seed_at_construction():
    load = loader(n=20, batch_size=6, shuffle=True)
    first = flat_order(load)
    load.set_epoch(0)
    assert flat_order(load) == first
    others = [flat_order(loader(n=20, batch_size=6, shuffle=True)) for _ in range(3)]
    assert any(o != first for o in others), "seed=None loaders all share one order"


def test_loader_feeding_a_linear_layer_keeps_its_gradients():
    """Batches are leaves without grad; gradients still reach the layer, and equal the closed
    form of d MSE / d(W, b) on exactly the batch's rows."""
    tt = target.get()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(13, 3)), rng.normal(size=(13, 2))
    w, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    layer = tt.with_params(tt.Linear(3, 2), weight=tt.tensor(w, True),
                           bias=tt.tensor(b, True))
    load = dl().make("DataLoader", dl().TensorDataset(x, y), batch_size=5, shuffle=True, seed=3)
    batches = 0
    for xb, yb in load:
        layer.weight.grad = layer.bias.grad = None
        tt.MSELoss()(layer(xb), yb).backward()
        xa, ya = tt.array(xb), tt.array(yb)
        residual = 2 * (xa @ w + b - ya) / ya.size
        expect_close([tt.grad(layer.weight), tt.grad(layer.bias)],
                     [xa.T @ residual, residual.sum(axis=0)], tolerance_for(np.float64),
                     what="d MSE / d(W, b) differs from its closed form")
        assert not xb.requires_grad and tt.grad(xb) is None
        batches += 1
    assert batches == len(load) == 3
