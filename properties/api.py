"""The TinyTorch API the harness uses, declared once: every public name, where it may live
(upstream's module first, then older or alternative layouts), upstream's signature, and the
PyTorch defaults of the optional arguments the harness passes.

Why a table: TinyTorch copies differ in layout (``core.training`` holds ``clip_grad_norm`` and
``CosineSchedule`` upstream, ``data.loader`` or ``core.dataloader`` holds ``DataLoader``) and in
how much they implement. :mod:`properties.target` resolves names from this table lazily, so a
test that needs a name the target lacks is skipped with ``target lacks <module>.<name>``, and
``python -m properties.conformance`` prints, module by module, what a target provides.
Signatures are upstream's (MLSysBook/TinyTorch ``src/NN_*/NN_*.py``), facts only.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Declared:
    """One public name: where to look for it, in order, and upstream's signature."""

    name: str
    modules: tuple[str, ...]
    signature: str | None = None  # upstream's, e.g. "(data, requires_grad=False)"
    defaults: dict[str, Any] = field(default_factory=dict)  # torch defaults of optional args
    upstream: bool = True  # part of upstream's public API (the conformance report lists it)

    @property
    def optional(self) -> dict[str, Any]:
        """Every default the harness knows for this name: upstream's signature's, then torch's
        (``defaults``). Checks leave these arguments out of the call, so defaults get tested."""
        found: dict[str, Any] = {}
        if self.signature:
            args = ast.parse(f"def f{self.signature}: pass").body[0].args  # type: ignore[attr-defined]
            plain = args.posonlyargs + args.args
            for arg, value in zip(plain[len(plain) - len(args.defaults):], args.defaults):
                found[arg.arg] = ast.literal_eval(value)
            for arg, value in zip(args.kwonlyargs, args.kw_defaults):
                if value is not None:
                    found[arg.arg] = ast.literal_eval(value)
        return {**found, **self.defaults}

    @property
    def home(self) -> str:
        """Where upstream keeps it: the location named when a target lacks it."""
        return f"{self.modules[0]}.{self.name}"


def _d(name: str, modules: str, signature: str | None = None, upstream: bool = True,
       **defaults: Any) -> Declared:
    return Declared(name, tuple(modules.split()), signature, defaults, upstream)


_ADAM = {"betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False}

DECLARED: tuple[Declared, ...] = (
    # 01 tensor, 05 autograd
    _d("Tensor", "core.tensor", "(data, requires_grad=False)"),
    _d("Function", "core.autograd"),
    _d("enable_autograd", "core.autograd", "(quiet=False)"),
    _d("no_grad", "core.autograd core.tensor", upstream=False),
    _d("enable_grad", "core.autograd core.tensor", upstream=False),
    _d("is_grad_enabled", "core.autograd core.tensor", upstream=False),
    _d("concatenate", "core.tensor", upstream=False),
    _d("stack", "core.tensor", upstream=False),
    _d("where", "core.tensor", upstream=False),
    _d("maximum", "core.tensor", upstream=False),
    # 02 activations
    _d("ReLU", "core.activations", "()"),
    _d("Sigmoid", "core.activations", "()"),
    _d("Tanh", "core.activations", "()"),
    _d("GELU", "core.activations", "()", approximate="none"),
    _d("Softmax", "core.activations", "()", dim=-1),
    _d("LeakyReLU", "core.activations", upstream=False, negative_slope=0.01),
    _d("LogSoftmax", "core.activations", upstream=False, dim=-1),
    _d("softmax", "core.activations", upstream=False),
    _d("gelu", "core.activations", upstream=False),
    # 03 layers
    _d("Layer", "core.layers", "()"),
    _d("Linear", "core.layers", "(in_features, out_features, bias=True)", bias=True),
    _d("Dropout", "core.layers", "(p=0.5)"),
    _d("Module", "core.layers", upstream=False),
    _d("Sequential", "core.layers nn", upstream=False),
    # 04 losses
    _d("log_softmax", "core.losses core.activations", "(x, dim=-1)"),
    _d("MSELoss", "core.losses", "()", reduction="mean"),
    _d("CrossEntropyLoss", "core.losses", "()", reduction="mean"),
    _d("BinaryCrossEntropyLoss", "core.losses", "()", reduction="mean"),
    _d("BCEWithLogitsLoss", "core.losses", upstream=False, reduction="mean"),
    # 06 optimizers
    _d("Optimizer", "core.optimizers core.optimizer", "(params)"),
    _d("SGD", "core.optimizers core.optimizer", "(params, lr=0.01, momentum=0.0, weight_decay=0.0)",
       momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
    _d("Adam", "core.optimizers core.optimizer",
       "(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)",
       weight_decay=0.0, **_ADAM),
    _d("AdamW", "core.optimizers core.optimizer",
       "(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01)",
       weight_decay=0.01, **_ADAM),
    # 07 training (upstream keeps clipping and the schedule in core.training)
    _d("CosineSchedule", "core.training core.schedules",
       "(max_lr=0.1, min_lr=0.01, total_epochs=100)"),
    _d("WarmupCosineSchedule", "core.schedules core.training", upstream=False,
       start_factor=1.0 / 3.0),  # torch's LinearLR
    _d("clip_grad_norm", "core.training core.clipping", "(parameters, max_norm=1.0)",
       norm_type=2.0),
    _d("clip_grad_value", "core.clipping core.training", upstream=False),
    _d("clip_grad_norm_", "core.clipping core.training", upstream=False, norm_type=2.0),
    _d("clip_grad_value_", "core.clipping core.training", upstream=False),
    _d("Trainer", "core.training core.trainer",
       "(model, optimizer, loss_fn, scheduler=None, grad_clip_norm=None)",
       scheduler=None, grad_clip_norm=None),
    _d("CheckpointError", "core.training", upstream=False),
    # 08 data loading (upstream: data.loader; older exports: core.dataloader)
    _d("Dataset", "data.loader core.dataloader", "()"),
    _d("TensorDataset", "data.loader core.dataloader", "(*tensors)"),
    _d("DataLoader", "data.loader core.dataloader", "(dataset, batch_size, shuffle=False)",
       shuffle=False, drop_last=False),
    # 09 spatial (NCHW; Conv2d's weight is (out, in, kh, kw))
    _d("Conv2d", "core.spatial",
       "(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)", dilation=1),
    _d("MaxPool2d", "core.spatial", "(kernel_size, stride=None, padding=0)"),
    _d("AvgPool2d", "core.spatial", "(kernel_size, stride=None, padding=0)"),
    _d("Flatten", "core.spatial core.layers", upstream=False, start_dim=1, end_dim=-1),
    _d("BatchNorm2d", "core.spatial", "(num_features, eps=1e-05, momentum=0.1)"),
    # 10-13 text stack (upstream's exports; older layouts under text.* and models.*)
    _d("Tokenizer", "core.tokenization text.tokenization", "()"),
    _d("CharTokenizer", "core.tokenization text.tokenization", "(vocab=None)"),
    _d("BPETokenizer", "core.tokenization text.tokenization", "(vocab_size=1000)"),
    _d("Embedding", "core.embeddings text.embeddings", "(vocab_size, embed_dim)"),
    _d("PositionalEncoding", "core.embeddings text.embeddings", "(max_seq_len, embed_dim)"),
    _d("create_sinusoidal_embeddings", "core.embeddings text.embeddings",
       "(max_seq_len, embed_dim)"),
    _d("scaled_dot_product_attention", "core.attention", "(Q, K, V, mask=None)"),
    _d("MultiHeadAttention", "core.attention", "(embed_dim, num_heads)"),
    _d("create_causal_mask", "core.transformer core.attention", "(seq_len)"),
    _d("LayerNorm", "core.transformer models.transformer core.transformers",
       "(normalized_shape, eps=1e-05)"),
    _d("MLP", "core.transformer models.transformer core.transformers",
       "(embed_dim, hidden_dim=None, dropout_prob=0.1)"),
    _d("TransformerBlock", "core.transformer models.transformer core.transformers",
       "(embed_dim, num_heads, mlp_ratio=4, dropout_prob=0.1)"),
    _d("GPT", "core.transformer models.transformer core.transformers",
       "(vocab_size, embed_dim, num_layers, num_heads, max_seq_len=1024)"),
    # 14-20 systems modules (upstream's exports: perf.*, bench, capstone; older layouts after)
    _d("Profiler", "perf.profiling profiling.profiler profiling", "()"),
    _d("quantize_int8", "perf.quantization quantization", "(tensor)"),
    _d("dequantize_int8", "perf.quantization quantization", "(q_tensor, scale, zero_point)"),
    _d("QuantizedLinear", "perf.quantization quantization", "(linear_layer)"),
    _d("quantize_model", "perf.quantization quantization", "(model, calibration_data=None)"),
    _d("compare_model_sizes", "perf.quantization quantization",
       "(original_model, quantized_model)"),
    _d("magnitude_prune", "perf.compression compression", "(model, sparsity=0.5)"),
    _d("structured_prune", "perf.compression compression", "(model, prune_ratio=0.5)"),
    _d("measure_sparsity", "perf.compression compression", "(model)"),
    _d("low_rank_approximate", "perf.compression compression",
       "(weight_matrix, rank_ratio=0.5)"),
    _d("KVCache", "perf.memoization generation.kv_cache memoization",
       "(batch_size, max_seq_len, num_layers, num_heads, head_dim)"),
    _d("enable_kv_cache", "perf.memoization generation.kv_cache memoization", "(model)"),
    _d("disable_kv_cache", "perf.memoization generation.kv_cache memoization", "(model)"),
    _d("vectorized_matmul", "perf.acceleration acceleration", "(a, b)"),
    _d("tiled_matmul", "perf.acceleration acceleration", "(a, b, tile_size=64)"),
    _d("fused_gelu", "perf.acceleration acceleration", "(x)"),
    _d("Benchmark", "bench benchmarking.benchmark benchmarking",
       "(models, datasets, warmup_runs=5, measurement_runs=10)"),
    _d("BenchmarkResult", "bench benchmarking.benchmark benchmarking",
       "(metric_name, values, metadata={})"),
    _d("measure", "bench", upstream=False),
    _d("SimpleMLP", "capstone", "(input_size=10, hidden_size=20, output_size=3)"),
    _d("BenchmarkReport", "capstone", "(model_name='model')"),
    _d("generate_submission", "capstone",
       "(baseline_report, optimized_report=None, student_name=None, techniques_applied=None)"),
    _d("save_submission", "capstone", "(submission, filepath='submission.json')"),
)

BY_NAME: dict[str, Declared] = {d.name: d for d in DECLARED}
assert len(BY_NAME) == len(DECLARED), "a name is declared twice"


def declared(name: str) -> Declared:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not declared in properties/api.py") from None
