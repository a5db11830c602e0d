"""CNN layers beyond forward and backward (those are registry entries in test_ops.py):
BatchNorm2d's running statistics against torch, the max-pool gradient going only to each
window's maximum, and the output-shape formula of every windowed layer."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles import spatial as ospatial
from oracles.autodiff import forward
from properties import samples as gen
from properties import strategies as S
from properties import target
from properties.report import expect_close
from properties.tolerances import tolerance_for

pytestmark = pytest.mark.plan("09:core", "09:shapes", "09:gradient_flow", "09:edge_cases")

F32 = np.dtype(np.float32)


@given(channels=st.integers(1, 3), batches=st.integers(1, 3),
       momentum=st.sampled_from([0.1, 0.5, 1.0]), data=st.data())
def test_batch_norm_running_statistics_follow_torch_then_serve_evaluation(
        channels, batches, momentum, data):
    """Training batches move the running mean and (unbiased) variance as torch's; evaluation
    then normalises by them, and evaluating leaves them where they are."""
    tt = target.get()
    layer = tt.shortest("BatchNorm2d", channels, momentum=momentum)
    seen = []
    for i in range(batches):
        n = data.draw(st.integers(1, 3), label=f"batch {i} size")
        shape = (n, channels, data.draw(st.integers(1, 3)), 2)
        seen.append(data.draw(S.values(F32, shape), label=f"batch {i}"))
        tt.call_layer(layer, tt.tensor(seen[-1]), training=True)
    start = (np.zeros(channels), np.ones(channels))
    want = ospatial.batch_norm2d_stats(seen, running_mean=start[0], running_var=start[1],
                                       momentum=momentum)
    got = tt.running_stats(layer)
    tol = tolerance_for(F32)
    expect_close(got[0], want[0], tol, what="running mean differs from torch's")
    expect_close(got[1], want[1], tol, what="running variance differs from torch's "
                                            "(torch keeps the unbiased batch variance)")

    x = data.draw(S.values(F32, (2, channels, 2, 2)), label="evaluation input")
    out = tt.array(tt.call_layer(layer, tt.tensor(x), training=False))
    weight, bias = (tt.array(p) for p in (layer.weight, layer.bias))
    twin = forward(ospatial.batch_norm2d, [x, weight, bias], training=False,
                   running_mean=want[0], running_var=want[1])
    expect_close(out, twin, tol,
                 what="evaluation output is not normalised by the running statistics")
    expect_close(tt.running_stats(layer)[0], got[0],
                 what="evaluation moved the running mean")


@given(data=st.data())
def test_max_pool_gradient_goes_only_to_each_windows_maximum(data):
    """A gradient of 1 on one output reaches exactly one input, a maximum of that output's
    window (the value pooled there), with weight 1: no share for the rest of the window."""
    tt = target.get()
    dtype = tt.compute_dtype()
    sample = data.draw(gen.pool2d(distinct=True)(dtype), label="max-pool sample")
    x = tt.tensor(sample.arrays[0], requires_grad=True)
    out = tt.shortest("MaxPool2d", **sample.kwargs)(x)
    pooled = tt.array(out)
    k = data.draw(st.tuples(*(st.integers(0, n - 1) for n in pooled.shape)), label="output")
    upstream = np.zeros(pooled.shape, dtype)
    upstream[k] = 1.0
    tt.backward(out, upstream)
    grad = tt.grad(x)
    reached = np.argwhere(grad != 0)
    assert len(reached) == 1, (f"the gradient of output {k} reached {len(reached)} inputs "
                               f"({sample.describe()}), not one maximum")
    where = tuple(reached[0])
    assert grad[where] == 1.0, f"the maximum at {where} received {grad[where]}, not 1"
    assert sample.arrays[0][where] == pooled[k], (
        f"the gradient of output {k} went to input {where} = {sample.arrays[0][where]}, not to "
        f"the pooled maximum {pooled[k]}")
    assert where[:2] == k[:2], f"the gradient crossed into batch/channel {where[:2]}"


def _side(kernel, stride, padding, dilation=1):
    """A side at least as large as the dilated kernel in the padded input."""
    return st.integers(max(1, dilation * (kernel - 1) + 1 - 2 * padding), 12)


@given(data=st.data())
def test_windowed_layers_output_shapes_follow_the_formula(data):
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 on each side, for
    Conv2d, MaxPool2d and AvgPool2d over wider geometries than the value tests draw."""
    tt = target.get()
    layer = data.draw(st.sampled_from(["Conv2d", "MaxPool2d", "AvgPool2d"]), label="layer")
    kernel, stride = data.draw(st.integers(1, 4), label="kernel"), data.draw(st.integers(1, 3))
    padding = data.draw(st.integers(0, kernel // 2), label="padding")
    dilation = data.draw(st.integers(1, 2), label="dilation") if layer == "Conv2d" else 1
    h = data.draw(_side(kernel, stride, padding, dilation), label="height")
    w = data.draw(_side(kernel, stride, padding, dilation), label="width")
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    if layer == "Conv2d":
        out_channels = data.draw(st.integers(1, 3))
        module = tt.shortest(layer, c, out_channels, kernel, stride=stride, padding=padding,
                             dilation=dilation)
    else:
        out_channels = c
        module = tt.shortest(layer, kernel, stride=stride, padding=padding)
    got = tuple(tt.array(module(tt.tensor(np.zeros((n, c, h, w), np.float32)))).shape)
    sides = tuple((size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
                  for size in (h, w))
    assert got == (n, out_channels, *sides), (
        f"{layer}(kernel={kernel}, stride={stride}, padding={padding}, dilation={dilation}) on "
        f"{(n, c, h, w)} gave shape {got}, the formula {(n, out_channels, *sides)}")


@pytest.mark.plan("09:export_import", "07:edge_cases")
@given(channels=st.integers(1, 3), data=st.data())
def test_batch_norm_state_dict_carries_the_running_statistics(channels, data):
    """A trained BatchNorm2d's state_dict, loaded into a fresh layer, gives the same
    evaluation output: the running statistics travel with the parameters (a checkpoint that
    drops them evaluates with mean 0 and variance 1)."""
    tt = target.get()
    trained, fresh = (tt.shortest("BatchNorm2d", channels) for _ in range(2))
    for model in (trained, fresh):
        tt.need_attribute(model, "state_dict", "core.spatial.BatchNorm2d")
    x = data.draw(S.values(F32, (3, channels, 2, 2), 1.0, 4.0), label="training batch")
    tt.call_layer(trained, tt.tensor(x), training=True)
    fresh.load_state_dict(trained.state_dict())
    probe = data.draw(S.values(F32, (2, channels, 2, 2)), label="evaluation input")
    outs = [tt.array(tt.call_layer(m, tt.tensor(probe), training=False))
            for m in (trained, fresh)]
    expect_close(outs[1], outs[0], what="a layer loaded from a trained BatchNorm2d's "
                 "state_dict evaluates differently (its running statistics were not saved)")
