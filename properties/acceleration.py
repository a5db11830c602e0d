"""Acceleration kernels inside real layers: the registry checks each kernel against torch on
small drawn shapes; here they must reproduce a target Linear layer at the size a first MNIST
layer has (batch 64, 784 -> 256), where a tile of 64 leaves remainders (784 = 12 x 64 + 16)."""

from __future__ import annotations

import numpy as np

from properties import target
from properties.report import expect_close
from properties.tolerances import tolerance_for


def check_kernels_reproduce_a_linear_layer(batch: int = 64, n_in: int = 784, n_out: int = 256,
                                           tile: int = 64) -> None:
    tt = target.get()
    dtype = np.dtype(np.float32)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch, n_in)).astype(dtype)
    w = rng.uniform(-0.05, 0.05, (n_in, n_out)).astype(dtype)
    b = rng.uniform(-0.1, 0.1, n_out).astype(dtype)
    layer = tt.with_params(tt.make("Linear", n_in, n_out), weight=tt.tensor(w, True),
                           bias=tt.tensor(b, True))
    with tt.no_grad():
        want = np.asarray(tt.array(layer(tt.tensor(x))), dtype=np.float64)
    tol = tolerance_for(dtype).scaled(float(np.sqrt(n_in)))  # 784-term sums in float32
    for name, call in (("vectorized_matmul", lambda: tt.need("vectorized_matmul")(
                            tt.tensor(x), tt.tensor(w))),
                       ("tiled_matmul", lambda: tt.need("tiled_matmul")(
                            tt.tensor(x), tt.tensor(w), tile_size=tile))):
        got = np.asarray(tt.array(call()), dtype=np.float64) + b
        expect_close(got, want, tol, what=f"{name}(x, W) + b differs from the Linear layer "
                     f"holding W and b (batch {batch}, {n_in} -> {n_out}, tile {tile})",
                     component=name, check="reproduces Linear")
