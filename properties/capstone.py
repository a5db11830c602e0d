"""The capstone (TinyTorch module 20): real workloads trained end to end on the target, with
bounds on what they must reach, and their first steps run beside a torch twin.

Scenarios, not properties: the data sets are fixed (XOR, scikit-learn's 8x8 digits, the
shipped ``data/tinygpt_corpus.txt``) and so are the initial weights, drawn from a seeded NumPy
generator by the harness rather than by the target. So every correct TinyTorch starts from the
same point, walks the same trajectory up to rounding, and reaches what the bundled one reaches:
an accuracy bound measured here holds for any target, and the twin sees the very weights the
target starts from. Everything reaches the target through :func:`properties.target.get`.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oracles import capstone as twin_runs
from oracles import models as twins
from properties import target
from properties.models import load
from properties.report import assert_close
from properties.target import resolve
from properties.tolerances import Tolerance, training_tolerance

CORPUS = Path(__file__).resolve().parent / "data" / "tinygpt_corpus.txt"
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
Batch = tuple[np.ndarray, np.ndarray]


def curve_tolerance(dtype: Any) -> Tolerance:
    """Loss curves of the first steps against the float64 twin: the training budget. Measured
    over 20 Adam steps of every twinned scenario: float64 within 4e-16 relative, float32
    within 2e-7 (0.07 % of the float32 budget): BLOCK_FLOAT32's slack is not needed here."""
    return training_tolerance(dtype)


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Split:
    """A fixed train/test split: inputs and labels (class indices, or ids for a corpus)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def xor() -> Split:
    """The four XOR points; the test set is the training set (there is nothing else)."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return Split(x, y, x, y)


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as (N, 64) pixels in [0, 1] and labels. Read from the CSV file scikit-learn
    ships (what ``load_digits`` reads): importing scikit-learn itself costs ~2 s a worker."""
    spec = importlib.util.find_spec("sklearn")
    roots = spec.submodule_search_locations if spec is not None else None
    path = Path(roots[0]) / "datasets" / "data" / "digits.csv.gz" if roots else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",")
        x, y = table[:, :-1], table[:, -1]
    else:
        from sklearn.datasets import load_digits

        data = load_digits()
        x, y = data.data, data.target
    return x / 16.0, y.astype(np.int64)  # pixels 0..16


def digits(classes: Sequence[int] | None = None, images: bool = False,
           test_fraction: float = 0.2) -> Split:
    """scikit-learn's 1797 8x8 digits (optionally only ``classes``, relabelled 0, 1, ...),
    split once by a fixed permutation; ``images`` gives (N, 1, 8, 8) instead of (N, 64)."""
    x, y = _digits()
    if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], np.searchsorted(np.asarray(classes), y[keep])
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    if images:
        x = x.reshape(-1, 1, 8, 8)
    cut = int(round(len(y) * (1 - test_fraction)))
    return Split(x[:cut], y[:cut], x[cut:], y[cut:])


def corpus() -> str:
    return CORPUS.read_text()


def minibatches(split: Split, size: int | None, steps: int, seed: int) -> list[Batch]:
    """``steps`` batches of the training set: the whole set each step (``size`` None), or
    consecutive slices of a fresh seeded permutation each epoch."""
    if size is None:
        return [(split.x_train, split.y_train)] * steps
    rng, batches = np.random.default_rng(seed), []
    n = len(split.y_train)
    while len(batches) < steps:
        order = rng.permutation(n)
        batches += [(split.x_train[order[i:i + size]], split.y_train[order[i:i + size]])
                    for i in range(0, n - size + 1, size)]
    return batches[:steps]


def windows(ids: np.ndarray, seq: int, count: int, rng: np.random.Generator) -> Batch:
    """``count`` windows of ``seq + 1`` ids at random offsets: inputs and next-id targets."""
    starts = rng.integers(0, len(ids) - seq, count)
    rows = np.stack([ids[s:s + seq + 1] for s in starts])
    return rows[:, :-1], rows[:, 1:]


# ----------------------------------------------------------------------------- models


def _uniform(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)  # torch's default for Linear and Conv2d
    return rng.uniform(-bound, bound, shape)


@dataclass(frozen=True)
class Layers:
    """A chain of target layers, ``spec`` as in :data:`properties.models.CNN_SPEC` (kind,
    config), its parameters named ``layers.<i>.weight``/``.bias`` in TinyTorch's layout."""

    spec: tuple[tuple[str, dict[str, Any]], ...]
    shapes: dict[str, tuple[int, ...]]

    def initial(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        params = {}
        for name, shape in self.shapes.items():
            weight = self.shapes[name.rsplit(".", 1)[0] + ".weight"]
            fan_in = weight[0] if len(weight) == 2 else int(np.prod(weight[1:]))
            params[name] = _uniform(rng, fan_in, shape)
        return params

    def build(self, params: dict[str, np.ndarray], dtype: Any) -> Any:
        tt = target.get()
        layers = []
        for i, (kind, config) in enumerate(self.spec):
            weight = self.shapes.get(f"layers.{i}.weight")
            if kind == "Linear":
                layers.append(tt.make("Linear", *weight))
            elif kind == "Conv2d":
                layers.append(tt.shortest("Conv2d", weight[1], weight[0], weight[2], **config))
            elif kind in ("MaxPool2d", "AvgPool2d"):
                layers.append(tt.make(kind, config["kernel_size"]))
            else:
                layers.append(tt.make(kind, **config))
        model = tt.sequential(*layers)
        load(model, params, dtype)
        return model

    def twin(self, params: dict[str, np.ndarray]) -> Any:
        return twins.CNN(list(self.spec), params)

    def inputs(self, x: np.ndarray, dtype: Any) -> Any:
        return target.get().tensor(x.astype(dtype))


def mlp(widths: Sequence[int], activation: str = "Tanh", head: str | None = None) -> Layers:
    """Linear layers of ``widths`` with ``activation`` between them (and ``head`` after)."""
    spec: list[tuple[str, dict[str, Any]]] = []
    shapes = {}
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        if i:
            spec.append((activation, {}))
        n = len(spec)
        shapes[f"layers.{n}.weight"], shapes[f"layers.{n}.bias"] = (a, b), (b,)
        spec.append(("Linear", {}))
    if head is not None:
        spec.append((head, {}))
    return Layers(tuple(spec), shapes)


def digits_cnn(channels: int = 8, classes: int = 10, activation: str = "Tanh",
               pool: str = "AvgPool2d") -> Layers:
    """conv 3x3 (same) -> activation -> 2x2 pool -> flatten -> linear, on 1x8x8 images."""
    spec = (("Conv2d", {"padding": 1}), (activation, {}), (pool, {"kernel_size": 2}),
            ("Flatten", {}), ("Linear", {}))
    shapes = {"layers.0.weight": (channels, 1, 3, 3), "layers.0.bias": (channels,),
              "layers.4.weight": (channels * 16, classes), "layers.4.bias": (classes,)}
    return Layers(spec, shapes)


@dataclass(frozen=True)
class TinyGPT:
    """The target's GPT, its parameters named as :func:`oracles.models.gpt_parameter_shapes`
    names them; initialised as GPT-2 is (normal embeddings, zero biases, unit norms)."""

    vocab: int
    embed: int
    layers: int
    heads: int
    seq: int

    def initial(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        params = {}
        shapes = twins.gpt_parameter_shapes(self.vocab, self.embed, self.layers, self.seq)
        for name, shape in shapes.items():
            if name.endswith("embedding.weight"):
                params[name] = rng.normal(0.0, 0.1, shape)
            elif name.endswith(("ln1.weight", "ln2.weight", "ln_f.weight")):
                params[name] = np.ones(shape)
            elif name.endswith("bias"):
                params[name] = np.zeros(shape)
            else:
                params[name] = _uniform(rng, shape[0], shape)
        return params

    def build(self, params: dict[str, np.ndarray], dtype: Any) -> Any:
        model = target.get().make("GPT", self.vocab, self.embed, self.layers, self.heads,
                                  max_seq_len=self.seq)
        load(model, params, dtype)
        return model

    def twin(self, params: dict[str, np.ndarray]) -> Any:
        return twins.GPT(params, self.layers, self.heads)

    def inputs(self, ids: np.ndarray, dtype: Any) -> Any:
        return target.get().tensor(np.asarray(ids).astype(np.float32))  # ids, as upstream


# ----------------------------------------------------------------------------- training


def _rows(out: Any) -> Any:
    """Logits as (rows, classes): a language model's (batch, seq, vocab) flattened."""
    shape = target.get().array(out).shape
    return out.reshape(shape[0] * shape[1], shape[2]) if len(shape) == 3 else out


def train(model: Any, inputs: Callable[[np.ndarray], Any], loss: str, optimizer: str,
          hyper: dict[str, Any], batches: Sequence[Batch], dtype: Any) -> list[float]:
    """zero_grad, forward, loss, backward, step on each batch, through the adapter; the loss
    of each step. The model is left in eval mode."""
    tt = target.get()
    tt.set_mode(model, True)
    opt = tt.make(optimizer, model.parameters(), **hyper)
    loss_fn = tt.make(loss)
    curve = []
    for x, y in batches:
        tt.zero_grads(opt)
        y = np.asarray(y)  # class indices in a row, or one probability target per sample
        targets = y.reshape(-1) if loss == "CrossEntropyLoss" else y.reshape(len(y), -1)
        value = loss_fn(_rows(model(inputs(x))), tt.tensor(np.asarray(targets).astype(dtype)))
        tt.backward(value)
        opt.step()
        curve.append(float(tt.array(value)))
    tt.set_mode(model, False)
    return curve


def logits(model: Any, inputs: Any) -> np.ndarray:
    """The model's outputs in eval mode, recording no graph where the target can."""
    tt = target.get()
    tt.set_mode(model, False)
    with tt.evaluating():
        return np.array(tt.array(model(inputs)))


def predictions(outputs: np.ndarray) -> np.ndarray:
    """Classes: arg-max of several outputs, or a single probability above one half."""
    return outputs.argmax(axis=-1) if outputs.shape[-1] > 1 else (outputs[:, 0] > 0.5) * 1


def state(model: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Copies of the model's parameters by TinyTorch name (what a fresh build can load)."""
    tt = target.get()
    out = {}
    for name in names:
        path, _, leaf = name.rpartition(".")
        out[name] = np.array(tt.array(tt.param(resolve(model, path), leaf)))
    return out


@dataclass(frozen=True)
class Scenario:
    """A workload: the model, its data, the loss and optimizer, and how long it trains."""

    name: str
    net: Any
    data: Callable[[], Split]
    loss: str
    optimizer: str
    hyper: dict[str, Any]
    steps: int
    batch_size: int | None = None  # None: the whole training set every step
    seed: int = 0
    batcher: Callable[[Scenario, int], list[Batch]] | None = field(default=None, repr=False)

    def batches(self, steps: int) -> list[Batch]:
        if self.batcher is not None:
            return self.batcher(self, steps)
        return minibatches(self.data(), self.batch_size, steps, self.seed)

    def fit(self, dtype: Any, steps: int | None = None) -> tuple[Any, list[float]]:
        """The target's model trained from the scenario's initial weights: (model, curve)."""
        params = self.net.initial(self.seed)
        model = self.net.build(params, dtype)
        steps = self.steps if steps is None else steps
        curve = train(model, lambda x: self.net.inputs(x, dtype), self.loss, self.optimizer,
                      self.hyper, self.batches(steps), dtype)
        return model, curve

    def accuracy(self, model: Any, dtype: Any = F32) -> float:
        split = self.data()
        outputs = logits(model, self.net.inputs(split.x_test, dtype))
        return float(np.mean(predictions(outputs) == split.y_test.reshape(-1)))


def _gpt_batches(scenario: Scenario, steps: int) -> list[Batch]:
    ids, seq = scenario.data().x_train, scenario.net.seq
    rng = np.random.default_rng(scenario.seed)
    return [windows(ids, seq, scenario.batch_size, rng) for _ in range(steps)]


@dataclass(frozen=True)
class Text:
    """The corpus as ids, the vocabulary's size and the way back to characters."""

    ids: np.ndarray
    vocab_size: int
    decode: Callable[[Sequence[int]], str]


@functools.cache
def text() -> Text:
    """The corpus through the target's CharTokenizer where it has one (``<UNK>`` included in
    the vocabulary), else ids of its sorted characters computed here."""
    tt, raw = target.get(), corpus()
    if tt.has("CharTokenizer"):
        from properties.tokenizers import char_tokenizer

        tokenizer = char_tokenizer(tt, [raw])
        size = getattr(tokenizer, "vocab_size", None) or len(
            tt.need_attribute(tokenizer, "vocab", "core.tokenization.CharTokenizer.vocab"))
        return Text(np.asarray(tokenizer.encode(raw), dtype=np.int64), int(size),
                    lambda ids: tokenizer.decode([int(i) for i in ids]))
    chars = sorted(set(raw))
    return Text(np.array([chars.index(c) for c in raw], dtype=np.int64), len(chars),
                lambda ids: "".join(chars[int(i)] for i in ids))


def gpt_corpus() -> Split:
    """The corpus as ids; the "test" windows are drawn from the same text (a small model on
    2.5 KB learns the text's statistics, which is what its loss measures)."""
    ids = text().ids
    return Split(ids, ids, ids, ids)


_FIXED: dict[str, Callable[[], Scenario]] = {
    "xor": lambda: Scenario("xor", mlp([2, 8, 2]), xor, "CrossEntropyLoss", "Adam",
                            {"lr": 0.05}, steps=150),
    "digits 3 vs 8": lambda: Scenario(
        "digits 3 vs 8", mlp([64, 8, 1], head="Sigmoid"), lambda: digits(classes=(3, 8)),
        "BinaryCrossEntropyLoss", "Adam", {"lr": 0.01}, steps=100),
    "digits MLP": lambda: Scenario("digits MLP", mlp([64, 32, 10]), digits,
                                   "CrossEntropyLoss", "Adam", {"lr": 0.01}, steps=120,
                                   batch_size=128),
    "digits CNN": lambda: Scenario("digits CNN", digits_cnn(), lambda: digits(images=True),
                                   "CrossEntropyLoss", "Adam", {"lr": 0.02}, steps=150,
                                   batch_size=64),
    "tinygpt": lambda: Scenario("tinygpt", TinyGPT(text().vocab_size, embed=32, layers=2,
                                                   heads=2, seq=32),
                                gpt_corpus, "CrossEntropyLoss", "Adam", {"lr": 0.01},
                                steps=200, batch_size=16, batcher=_gpt_batches),
}


@functools.cache
def scenario(name: str) -> Scenario:
    return _FIXED[name]()


# ----------------------------------------------------------------------------- twins


def check_curve_matches_twin(scenario: Scenario, steps: int, dtype: Any = None) -> list[float]:
    """The first ``steps`` losses of the target equal the torch twin's, both started from the
    scenario's weights and fed the same batches (in ``dtype``; default float64 where the
    target has it)."""
    tt = target.get()
    dtype = tt.compute_dtype() if dtype is None else np.dtype(dtype)
    params = scenario.net.initial(scenario.seed)
    batches = scenario.batches(steps)
    model = scenario.net.build(params, dtype)
    got = train(model, lambda x: scenario.net.inputs(x, dtype), scenario.loss,
                scenario.optimizer, scenario.hyper, batches, dtype)
    expected = twin_runs.loss_curve(scenario.net.twin(params), scenario.loss,
                                    scenario.optimizer, scenario.hyper, batches)
    assert_close(np.array(got), np.array(expected), curve_tolerance(dtype),
                 op_name=scenario.name, check="loss curve vs torch twin", sample=None,
                 what=f"{scenario.name}: the loss of the first {steps} {scenario.optimizer} "
                      f"steps ({dtype}) differs from the torch twin's", curve="loss by step")
    return got


# ----------------------------------------------------------------------------- trained models


@dataclass(frozen=True)
class Trained:
    """A scenario trained in float32 on the target: its final weights (to rebuild copies
    from), its loss curve and its test accuracy."""

    params: dict[str, np.ndarray]
    curve: list[float]
    accuracy: float


@functools.cache
def trained(name: str) -> Trained:
    """A chain-of-layers scenario trained once per process: several tests start from its
    result (the GPT is trained by its one test)."""
    run = scenario(name)
    model, curve = run.fit(F32)
    return Trained(state(model, list(run.net.shapes)), curve, run.accuracy(model))


def rebuild(name: str, params: dict[str, np.ndarray] | None = None) -> Any:
    """A fresh float32 target model holding ``params`` (default: the trained weights)."""
    return scenario(name).net.build(trained(name).params if params is None else params, F32)


def fine_tune(name: str, model: Any, steps: int, seed: int) -> list[float]:
    """``steps`` more mini-batches of the scenario's training, with a fresh optimizer."""
    run = scenario(name)
    batches = minibatches(run.data(), run.batch_size, steps, seed)
    return train(model, lambda x: run.net.inputs(x, F32), run.loss, run.optimizer, run.hyper,
                 batches, F32)


# ----------------------------------------------------------------------------- compression


def quantize(model: Any, original: Any) -> float:
    """Quantize ``model`` in place with the target's ``quantize_model``; the compression
    ratio its report gives, or (a report without one, upstream returns none)
    ``compare_model_sizes(original, model)``'s, ``original`` being a float copy."""
    tt = target.get()
    report = tt.need("quantize_model")(model)
    if isinstance(report, dict) and "compression_ratio" in report:
        return float(report["compression_ratio"])
    return float(tt.need("compare_model_sizes")(original, model)["compression_ratio"])


def weight_names(model_params: dict[str, np.ndarray]) -> list[str]:
    """The weight matrices and kernels: what magnitude pruning applies to."""
    return [n for n, a in model_params.items() if a.ndim >= 2]


def prune(model: Any, sparsity: float) -> None:
    target.get().need("magnitude_prune")(model, sparsity)


def sparsity(weights: dict[str, np.ndarray]) -> float:
    total = sum(a.size for a in weights.values())
    return sum(int(np.sum(a == 0)) for a in weights.values()) / total


# ----------------------------------------------------------------------------- generation


def eval_loss(model: Any, count: int = 64, seed: int = 1) -> float:
    """The target's next-token loss of a trained GPT on ``count`` fixed windows of the corpus
    (not the training draws), recording no graph."""
    tt, run = target.get(), scenario("tinygpt")
    x, y = windows(text().ids, run.net.seq, count, np.random.default_rng(seed))
    tt.set_mode(model, False)
    with tt.evaluating():
        value = tt.make("CrossEntropyLoss")(_rows(model(run.net.inputs(x, F32))),
                                            tt.tensor(y.reshape(-1).astype(np.float32)))
    return float(tt.array(value))


def generate(model: Any, prompt: np.ndarray, new: int, temperature: float,
             seed: int) -> np.ndarray:
    """``model.generate(prompt, new, temperature=...)`` after ``np.random.seed(seed)``: the
    whole sequence as int64 ids, (1, len(prompt) + new)."""
    tt = target.get()
    if not tt.takes(model.generate, "temperature"):
        raise tt.lacking("core.transformer.GPT.generate(temperature=...)")
    np.random.seed(seed)
    out = model.generate(tt.tensor(prompt[None, :].astype(np.float32)), max_new_tokens=new,
                         temperature=temperature)
    return tt.array(out).astype(np.int64)


def known_bigrams(ids: np.ndarray) -> float:
    """The fraction of consecutive id pairs of ``ids`` that occur somewhere in the corpus."""
    corpus_ids = text().ids
    seen = set(zip(corpus_ids[:-1].tolist(), corpus_ids[1:].tolist()))
    pairs = list(zip(ids[:-1].tolist(), ids[1:].tolist()))
    return sum(p in seen for p in pairs) / len(pairs)
