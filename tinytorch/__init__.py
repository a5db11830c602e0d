"""TinyTorch: a NumPy-only deep-learning framework, the subject under test of the harness.

Public names are re-exported here; each lives in the module of the same path as upstream
TinyTorch (``tinytorch.core.tensor``, ``tinytorch.core.layers``, ...).
"""

from tinytorch.core.activations import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from tinytorch.core.attention import (
    MultiHeadAttention,
    create_causal_mask,
    scaled_dot_product_attention,
)
from tinytorch.core.autograd import Function, enable_grad, is_grad_enabled, no_grad
from tinytorch.core.clipping import clip_grad_norm, clip_grad_value
from tinytorch.core.dataloader import DataLoader, Dataset, TensorDataset
from tinytorch.core.embeddings import Embedding, PositionalEncoding, create_sinusoidal_embeddings
from tinytorch.core.layers import Dropout, Linear, Module, Sequential
from tinytorch.core.losses import (
    BCEWithLogitsLoss,
    BinaryCrossEntropyLoss,
    CrossEntropyLoss,
    MSELoss,
)
from tinytorch.core.optimizers import SGD, Adam, AdamW, Optimizer
from tinytorch.core.schedules import CosineSchedule, WarmupCosineSchedule
from tinytorch.core.spatial import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d
from tinytorch.core.tensor import (
    Tensor,
    concatenate,
    exp,
    log,
    maximum,
    sqrt,
    stack,
    where,
)
from tinytorch.core.tokenization import BPETokenizer, CharTokenizer, Tokenizer
from tinytorch.core.training import CheckpointError, Trainer
from tinytorch.core.transformer import GPT, MLP, LayerNorm, TransformerBlock

__version__ = "0.1.0"

__all__ = [
    "BPETokenizer", "CharTokenizer", "GPT", "MLP", "MultiHeadAttention", "PositionalEncoding",
    "Tokenizer", "TransformerBlock", "create_causal_mask", "create_sinusoidal_embeddings",
    "scaled_dot_product_attention",
    "AvgPool2d", "BatchNorm2d", "Conv2d", "Embedding", "Flatten", "LayerNorm", "MaxPool2d",
    "SGD", "Adam", "AdamW", "CheckpointError", "CosineSchedule", "DataLoader", "Dataset",
    "Optimizer", "TensorDataset", "Trainer", "WarmupCosineSchedule", "clip_grad_norm",
    "clip_grad_value",
    "BCEWithLogitsLoss", "BinaryCrossEntropyLoss", "CrossEntropyLoss", "Dropout", "Function",
    "GELU", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh", "Tensor", "concatenate", "enable_grad", "exp", "gelu",
    "is_grad_enabled", "leaky_relu", "log", "log_softmax", "maximum", "no_grad", "relu",
    "sigmoid", "softmax", "sqrt", "stack", "tanh", "where",
]
