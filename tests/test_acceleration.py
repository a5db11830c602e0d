"""Acceleration (module 18) in a real layer: the kernels reproduce a Linear layer of MNIST
size (each kernel's own laws are registry entries in test_ops.py)."""

import pytest

from properties import acceleration

pytestmark = pytest.mark.plan("18:integration", "18:real_world")


def test_fast_kernels_reproduce_a_linear_layer_of_mnist_size():
    acceleration.check_kernels_reproduce_a_linear_layer()
