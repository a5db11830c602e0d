"""The systems catalog (modules 14-19): quantization, pruning, KV cache, kernels, profiler.
Each mutant is a bug a student or an optimising refactor really writes."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from properties.mutation import module as _m
from properties.mutation import mutant


def _scale_over_256(orig: Any) -> Any:
    def choose_qparams(x: Any, symmetric: bool = False, axis: int | None = None) -> Any:
        scale, zero = orig(x, symmetric, axis)
        scale = np.asarray(scale) * 255 / 256  # the range over 256 values, not 255 steps
        q = _m("quantization")
        if not symmetric:
            low = np.minimum(np.asarray(q._values(x)).min(axis=q._reduce_axes(
                np.ndim(q._values(x)), axis)), 0.0)
            zero = np.clip(q.INT8_MIN_VALUE - np.round(low / scale), -128, 127).astype(np.int64)
        return (float(scale), int(zero)) if axis is None else (scale, zero)

    return choose_qparams


mutant("quant_scale_off_by_one_step", "quantization",
       "the scale divides the range by 256 (the int8 values) instead of 255 (the steps), so "
       "the largest value is clamped",
       quantization__choose_qparams=_scale_over_256)


def _zero_point_truncated(orig: Any) -> Any:
    def choose_qparams(x: Any, symmetric: bool = False, axis: int | None = None) -> Any:
        scale, zero = orig(x, symmetric, axis)
        if symmetric:
            return scale, zero
        q = _m("quantization")
        values = q._values(x).astype(np.float64)
        low = np.minimum(values.min(axis=q._reduce_axes(values.ndim, axis)), 0.0)
        zero = np.clip(q.INT8_MIN_VALUE - np.trunc(low / np.asarray(scale)), -128,
                       127).astype(np.int64)  # truncated toward zero, not rounded
        return (scale, int(zero)) if axis is None else (scale, zero)

    return choose_qparams


mutant("zero_point_rounding_wrong", "quantization",
       "the zero point truncates min / scale toward zero instead of rounding it",
       quantization__choose_qparams=_zero_point_truncated)


def _mask_not_reapplied(orig: Any) -> Any:
    def keep_pruned(p: Any) -> None:
        return None  # pruning zeroed the weights once; the optimizer never re-applies the mask

    return keep_pruned


mutant("pruning_mask_not_reapplied", "compression",
       "the optimizer does not re-apply pruning masks after a step, so momentum revives "
       "pruned weights", optimizers__keep_pruned=_mask_not_reapplied)


def _prune_by_signed_value(orig: Any) -> Any:
    def magnitude_mask(weight: np.ndarray, sparsity: float) -> np.ndarray:
        count = int(round(sparsity * weight.size))
        keep = np.ones(weight.size, dtype=bool)
        keep[np.argsort(weight.ravel(), kind="stable")[:count]] = False  # value, not |value|
        return keep.reshape(weight.shape)

    return magnitude_mask


mutant("magnitude_prune_by_signed_value", "compression",
       "magnitude pruning removes the most negative weights, not the smallest magnitudes",
       compression__magnitude_mask=_prune_by_signed_value)


def _structured_by_rows(orig: Any) -> Any:
    def output_axis(layer: Any) -> int:
        return 0  # a Linear's weight is (in, out): axis 0 is its inputs, not its neurons

    return output_axis


mutant("structured_prune_wrong_axis", "compression",
       "structured pruning ranks a Linear's input rows instead of its output neurons",
       compression___output_axis=_structured_by_rows)


def _low_rank_smallest(orig: Any) -> Any:
    def low_rank_approximate(weight_matrix: Any, rank_ratio: float = 0.5) -> Any:
        u, s, vt = np.linalg.svd(np.asarray(weight_matrix), full_matrices=False)
        k = max(1, int(rank_ratio * min(np.shape(weight_matrix))))
        return u[:, -k:], s[-k:], vt[-k:]  # the k smallest singular values

    return low_rank_approximate


mutant("low_rank_keeps_smallest_singular_values", "compression",
       "the low-rank approximation keeps the k smallest singular values",
       compression__low_rank_approximate=_low_rank_smallest)


def _update_overwrites_previous(orig: Any) -> Any:
    def update(self: Any, layer_idx: int, key: Any, value: Any) -> None:
        pos = self.seq_pos
        self.seq_pos = max(pos - 1, 0)  # writes over the previous position, keeps it stale
        try:
            orig(self, layer_idx, key, value)
        finally:
            self.seq_pos = pos

    return update


mutant("kv_cache_reuses_stale_positions", "memoization",
       "KVCache.update writes each new key and value over the previous position, so the "
       "current slot holds a stale one",
       memoization__KVCache__update=_update_overwrites_previous)


def _cache_recomputes_context(orig: Any) -> Any:
    def generate_cached(model: Any, prompt_tokens: Any, max_new_tokens: int = 50,
                        temperature: float = 1.0) -> Any:
        # "cached" generation that runs the whole context through the model at every step
        return type(model).generate(model, prompt_tokens, max_new_tokens, temperature)

    return generate_cached


mutant("kv_cache_recomputes_the_context", "memoization",
       "generation with the cache enabled still runs the whole context every step",
       memoization__generate_cached=_cache_recomputes_context)


def _linear_flops_once(orig: Any) -> Any:
    def linear_flops(input_shape: tuple[int, ...], out_features: int) -> int:
        return int(np.prod(input_shape)) * int(out_features)  # multiply-adds, not FLOPs

    return linear_flops


mutant("profiler_flops_miscounted", "profiling",
       "the profiler counts a Linear's multiply-adds as its FLOPs (half of them)",
       profiling__linear_flops=_linear_flops_once)


def _conv_flops_input_size(orig: Any) -> Any:
    def flops_of_call(module: Any, args: tuple, output: Any) -> int:
        conv = _m("profiling").Conv2d
        if isinstance(module, conv):  # output size from the input's, ignoring stride/padding
            n, _, h, w = np.shape(args[0].data)
            _, c, kh, kw = module.weight.shape
            return 2 * n * module.weight.shape[0] * h * w * c * kh * kw
        return orig(module, args, output)

    return flops_of_call


mutant("profiler_conv_flops_ignore_geometry", "profiling",
       "the profiler counts a Conv2d's outputs as if it kept the input's height and width",
       profiling___flops_of_call=_conv_flops_input_size)


def _profiler_leaves_grads(orig: Any) -> Any:
    def profile_backward_pass(self: Any, model: Any, input_tensor: Any, loss_fn: Any = None,
                              warmup: int = 2, iterations: int = 10) -> Any:
        (loss_fn or (lambda out: out.sum()))(model(input_tensor)).backward()
        return {}  # measured backward once and left its gradients in the model

    return profile_backward_pass


mutant("profiler_leaves_gradients", "profiling",
       "profile_backward_pass runs a backward pass and leaves its gradients in the model",
       profiling__Profiler__profile_backward_pass=_profiler_leaves_grads)


def _tiles_drop_remainder(orig: Any) -> Any:
    def tiled_matmul(a: Any, b: Any, tile_size: int = 64) -> Any:
        acc = _m("acceleration")
        x, y = acc._operands(a, b, "tiled_matmul")
        rows, inner, cols = x.shape[-2], x.shape[-1], y.shape[-1]
        out = np.zeros(np.broadcast_shapes(x.shape[:-2], y.shape[:-2]) + (rows, cols),
                       dtype=np.result_type(x, y))
        for i in range(0, rows - rows % tile_size, tile_size):  # whole tiles only
            for j in range(0, cols - cols % tile_size, tile_size):
                for k in range(0, inner - inner % tile_size, tile_size):
                    out[..., i:i + tile_size, j:j + tile_size] += (
                        x[..., i:i + tile_size, k:k + tile_size]
                        @ y[..., k:k + tile_size, j:j + tile_size])
        return acc.Tensor(out)

    return tiled_matmul


mutant("tiled_matmul_drops_remainder_tile", "acceleration",
       "the tiled matmul loops over whole tiles only, dropping the remainder rows, columns and "
       "inner slices", acceleration__tiled_matmul=_tiles_drop_remainder)


def _fused_gelu_wrong_cubic(orig: Any) -> Any:
    def fused_gelu(x: Any) -> Any:
        acc = _m("acceleration")
        v = np.asarray(getattr(x, "data", x))
        return acc.Tensor(0.5 * v * (1 + np.tanh(acc._SQRT_2_OVER_PI * (v + 0.044715 * v * v))))

    return fused_gelu


mutant("fused_gelu_squares_instead_of_cubes", "acceleration",
       "the fused GELU kernel uses x^2 where the formula has x^3",
       acceleration__fused_gelu=_fused_gelu_wrong_cubic)


def _warmup_timed(orig: Any) -> Any:
    def measure(fn: Any, warmup: int = 5, repeats: int = 10, name: str = "latency_ms",
                clock: Any = None) -> Any:
        clock = clock or time.perf_counter
        times = []
        for _ in range(warmup + repeats):  # warm-up calls timed and kept
            start = clock()
            fn()
            times.append((clock() - start) * 1e3)
        return _m("bench").BenchmarkResult(name, times[-repeats - warmup:])

    return measure


mutant("benchmark_times_the_warm_up", "benchmarking",
       "the benchmark runner times and keeps the warm-up calls with the repeats",
       bench__measure=_warmup_timed)


def _population_std(orig: Any) -> Any:
    def post_init(self: Any) -> None:
        orig(self)
        self.std = float(np.std(self.values))  # population, not sample, deviation

    return post_init


mutant("benchmark_std_is_population", "benchmarking",
       "BenchmarkResult reports the population standard deviation (divides by n, not n - 1)",
       **{"bench.BenchmarkResult.__post_init__": _population_std})


_KEPT: list[Any] = []


def _backward_keeps_graphs(orig: Any) -> Any:
    def run_backward(root: Any, grad: np.ndarray) -> None:
        _KEPT.append(root)  # a "history" of every graph, for debugging, never cleared
        orig(root, grad)

    return run_backward


mutant("backward_keeps_every_graph", "memory",
       "backward appends each graph's root to a module-level history that is never cleared",
       tensor__run_backward=_backward_keeps_graphs)


def _linear_caches_gram(orig: Any) -> Any:
    def forward(self: Any, x: Any) -> Any:
        data = np.asarray(getattr(x, "data", x))
        flat = data.reshape(-1, data.shape[-1])
        self._gram = flat @ flat.T  # a batch x batch similarity cache left in the layer
        return orig(self, x)

    return forward


mutant("linear_caches_batch_squared_buffer", "memory",
       "Linear keeps a batch x batch Gram matrix of its input, so memory grows with batch^2",
       layers__Linear__forward=_linear_caches_gram)


def _loader_copies_dataset(orig: Any) -> Any:
    def batches(self: Any, order: np.ndarray, epoch: int) -> Any:
        # "shuffle" by materialising the whole epoch in order first, then slicing it
        everything = [self.dataset[int(i)] for i in order]
        copied = _m("dataloader")._collate(everything)
        dl = _m("dataloader")
        for part in dl.batch_slices(len(order), self.batch_size, self.drop_last):
            pieces = copied if isinstance(copied, tuple) else (copied,)
            out = tuple(dl.Tensor(p.data[part]) for p in pieces)
            yield out if isinstance(copied, tuple) else out[0]
        self.epoch = epoch + 1

    return batches


mutant("dataloader_copies_the_dataset", "memory",
       "the DataLoader builds the whole shuffled epoch as one copy before slicing batches",
       dataloader__DataLoader___batches=_loader_copies_dataset)


def _per_channel_over_127(orig: Any) -> Any:
    def choose_qparams(x: Any, symmetric: bool = False, axis: int | None = None) -> Any:
        scale, zero = orig(x, symmetric, axis)
        if axis is None or symmetric:
            return scale, zero
        scale = np.asarray(scale) * 255 / 127  # the symmetric half-range, copied into affine
        q = _m("quantization")
        values = q._values(x).astype(np.float64)
        low = np.minimum(values.min(axis=q._reduce_axes(values.ndim, axis)), 0.0)
        return scale, np.clip(-128 - np.round(low / scale), -128, 127).astype(np.int64)

    return choose_qparams


mutant("per_channel_scale_over_127", "quantization",
       "per-channel affine scales divide the range by 127 (the symmetric half-range), twice "
       "the step they need", quantization__choose_qparams=_per_channel_over_127)


def _count_tensors(orig: Any) -> Any:
    def count_parameters(self: Any, model: Any) -> int:
        return len(_m("profiling").parameters_of(model))  # tensors, not scalars

    return count_parameters


mutant("profiler_counts_tensors_not_scalars", "profiling",
       "count_parameters counts parameter tensors instead of the scalars they hold",
       profiling__Profiler__count_parameters=_count_tensors)


def _memory_of_one_sample(orig: Any) -> Any:
    def measure_memory(self: Any, model: Any, input_shape: tuple[int, ...]) -> Any:
        return orig(self, model, (1, *input_shape[1:]))  # profiles a batch of one

    return measure_memory


mutant("profiler_memory_of_one_sample", "profiling",
       "measure_memory profiles a batch of one whatever input shape it is given",
       profiling__Profiler__measure_memory=_memory_of_one_sample)


def _renamed_argument(orig: Any) -> Any:
    def quantize_int8(x: Any, symmetric: bool = False, axis: int | None = None) -> Any:
        return orig(x, symmetric, axis)  # upstream's parameter is ``tensor``

    return quantize_int8


mutant("quantize_int8_argument_renamed", "conformance",
       "quantize_int8's first parameter is named x, not upstream's tensor",
       quantization__quantize_int8=_renamed_argument)
