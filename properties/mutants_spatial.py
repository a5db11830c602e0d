"""The spatial catalog: convolution and pooling bugs a student (or a vectorising refactor)
really writes. ``tests/test_ops.py`` must kill them through the conv2d and pool2d entries."""

from __future__ import annotations

from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant


def _conv_backward_stride_one(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        stride = self.params["stride"]
        self.params["stride"] = (1, 1)  # the input gradient is scattered as if stride were 1
        try:
            grad_x = orig(self, grad)[0]
        finally:
            self.params["stride"] = stride
        return (grad_x, *orig(self, grad)[1:])

    return backward


mutant("conv_backward_ignores_stride", "op:conv2d",
       "Conv2d backward scatters the input gradient with stride 1 whatever the stride",
       spatial__Conv2dFunction__backward=_conv_backward_stride_one)


def _pad_one_side(orig: Any) -> Any:
    def pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
        width = ((0, 0), (0, 0), (2 * padding[0], 0), (2 * padding[1], 0))
        return np.pad(x, width, constant_values=value)

    return pad


mutant("padding_on_one_side", "op:conv2d or pool2d",
       "padding is applied twice on the top and left and not on the bottom and right",
       spatial___pad=_pad_one_side)


def _max_pool_grad_to_window(orig: Any) -> Any:
    def backward(self: Any, grad: np.ndarray) -> tuple[np.ndarray]:
        kernel, stride, padding = (self.params[k] for k in ("kernel", "stride", "padding"))
        spread = np.broadcast_to(grad[..., None, None], (*grad.shape, *kernel))
        return (_m("spatial")._scatter_windows(spread, self.padded_shape, stride, (1, 1),
                                               padding),)

    return backward


mutant("max_pool_grad_to_every_element", "op:max_pool2d",
       "MaxPool2d backward sends the gradient to every element of the window, not its maximum",
       spatial__MaxPool2dFunction__backward=_max_pool_grad_to_window)


def _flatten_to_the_end(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        start = self.start_dim % max(x.ndim, 1)
        return x.reshape(x.shape[:start] + (-1,))  # end_dim ignored: always the last dim

    return forward


mutant("flatten_ignores_end_dim", "op:flatten",
       "Flatten collapses every dim from start_dim to the last, whatever end_dim says",
       spatial__Flatten__forward=_flatten_to_the_end)


def _biased_running_variance(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        kept = self.running_var
        out = orig(self, x)
        if self.training:  # keep the biased batch variance, as the normalisation uses
            variance = x.data.var(axis=(0, 2, 3))
            self.running_var = ((1 - self.momentum) * kept + self.momentum * variance).astype(
                kept.dtype)
        return out

    return forward


mutant("batch_norm_running_variance_biased", "spatial",
       "BatchNorm2d moves its running variance by the biased batch variance (torch: unbiased)",
       spatial__BatchNorm2d__forward=_biased_running_variance)


def _evaluation_by_batch_statistics(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        training, kept = self.training, (self.running_mean, self.running_var)
        self.training = True  # evaluation normalises by the batch, as in training
        try:
            return orig(self, x)
        finally:
            self.training = training
            if not training:
                self.running_mean, self.running_var = kept

    return forward


mutant("batch_norm_evaluates_with_batch_statistics", "op:batch_norm2d",
       "BatchNorm2d in evaluation mode normalises by the batch's statistics, not the running ones",
       spatial__BatchNorm2d__forward=_evaluation_by_batch_statistics)


mutant("batch_norm_state_dict_drops_running_stats", "spatial",
       "BatchNorm2d's state_dict holds its weight and bias only, not its running statistics",
       spatial__BatchNorm2d__buffer_names=lambda orig: ())
