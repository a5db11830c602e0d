"""Trainer properties: the Trainer against a hand-written torch loop, and its own invariants.

A :class:`TrainingCase` is everything one run needs (data, model widths, optimizer, schedule,
clipping, accumulation, epochs). :func:`build` makes the target's objects for it; the checks
compare a run with the torch twin (``oracles.training``) or with another target run
(checkpoint resume vs. uninterrupted, k micro-batches vs. one k-times larger batch).
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracles import schedules as oschedules
from oracles import training as otraining
from properties import strategies as S
from properties import target
from properties.networks import (
    Weights,
    build_mlp,
    mlp_layout,
    mlp_weights,
    other_weights,
    state_of,
)
from properties.report import assert_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import EXACT, SLACK_FACTOR, Tolerance, tolerance_for, training_tolerance

F64 = np.dtype(np.float64)
def trajectory_tolerance() -> Tolerance:
    """The training budget of the dtype the target computes in."""
    return training_tolerance(target.get().compute_dtype())


@dataclass(frozen=True)
class TrainingCase:
    x: np.ndarray
    y: np.ndarray
    loss: str  # "MSELoss" | "CrossEntropyLoss"
    widths: tuple[int, ...]
    optimizer: str  # "SGD" | "Adam" | "AdamW"
    hyper: dict[str, Any]
    epochs: int
    batch_size: int
    shuffle: bool = True
    seed: int = 0
    schedule: dict[str, Any] | None = None
    clip_norm: float | None = None
    accumulation_steps: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    weights: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # per Linear

    def describe(self) -> Sample:
        return Sample((self.x, self.y), {
            "loss": self.loss, "widths": self.widths, "optimizer": self.optimizer,
            "hyper": self.hyper, "epochs": self.epochs, "batch_size": self.batch_size,
            "shuffle": self.shuffle, "seed": self.seed, "schedule": self.schedule,
            "clip_norm": self.clip_norm, "accumulation_steps": self.accumulation_steps})


# ----------------------------------------------------------------------------- strategies


@st.composite
def training_cases(draw: st.DrawFn, schedules: bool = True, clipping: bool = True,
                   accumulation: tuple[int, int] = (1, 3)) -> TrainingCase:
    """A small training run. ``accumulation`` bounds the micro-batches per step; there are
    always enough samples for one full accumulated step (no vacuous case)."""
    loss = draw(st.sampled_from(["MSELoss", "CrossEntropyLoss"]), label="loss")
    n_in = draw(st.integers(1, 3))
    n_out = draw(st.integers(2 if loss == "CrossEntropyLoss" else 1, 3))
    hidden = draw(st.lists(st.integers(1, 4), max_size=1))
    batch_size = draw(st.integers(1, 4), label="batch_size")
    k = draw(st.integers(*accumulation), label="accumulation")
    n = draw(st.integers(max(2, batch_size * k), max(10, batch_size * k)), label="samples")
    x = draw(S.values(F64, (n, n_in), -2, 2), label="x")
    y = draw(S.class_targets(n, n_out) if loss == "CrossEntropyLoss"
             else S.values(F64, (n, n_out), -2, 2), label="y")
    kind = draw(st.sampled_from(["SGD", "AdamW"]), label="optimizer")
    # In float32 a diverging run (lr 0.3 with momentum 0.9) amplifies rounding past any fixed
    # budget; rates that keep training convergent keep the comparison meaningful.
    float32 = target.get().compute_dtype() != F64
    if kind == "SGD":
        hyper = {"lr": draw(st.sampled_from([0.01, 0.05] if float32 else [0.01, 0.1, 0.3])),
                 "momentum": draw(st.sampled_from([0.0, 0.9]))}
    else:
        hyper = {"lr": draw(st.sampled_from([0.001, 0.01, 0.05])),
                 "weight_decay": draw(st.sampled_from([0.0, 0.01, 0.1]))}
    epochs = draw(st.integers(1, 4), label="epochs")
    schedule = None
    if schedules and draw(st.booleans(), label="use schedule"):
        schedule = {"max_lr": hyper["lr"], "min_lr": hyper["lr"] * 0.1, "total_epochs": epochs}
    clip = draw(st.sampled_from([None, 0.05, 0.5])) if clipping else None
    widths = (n_in, *hidden, n_out)
    weights = draw(mlp_weights(widths), label="weights")
    if loss == "CrossEntropyLoss":
        # Cross-entropy's logit gradient sums to 0, so a hidden unit whose outgoing weights
        # are all equal gets a gradient of exactly 0 plus rounding noise: a saddle, where
        # Adam blows the noise up until target and torch part for no fault of either (found
        # at the thorough profile). The last layer's weights are drawn distinct instead.
        (n_hidden, _), bias = weights[-1][0].shape, weights[-1][1]
        bound = 2.0 / np.sqrt(n_hidden)  # mlp_weights's bound: a centred lattice within it
        weights[-1] = (draw(S.distinct(F64, (n_hidden, n_out), 2 * bound / (n_hidden * n_out),
                                       offset=0.0), label="last weights"), bias)
    return TrainingCase(x=x, y=y, loss=loss, widths=widths, optimizer=kind,
                        hyper=hyper, epochs=epochs, batch_size=batch_size,
                        shuffle=draw(st.booleans()), seed=draw(st.integers(0, 100)),
                        schedule=schedule, clip_norm=clip, accumulation_steps=k,
                        weights=weights)



# ----------------------------------------------------------------------------- building


@dataclass
class Run:
    model: Any
    optimizer: Any
    trainer: Any
    loader: Any
    schedule: Any


class EpochLoader:
    """The batches a Trainer sees: the case's data, shuffled by (seed, epoch), as target
    tensors. The harness feeds the Trainer itself so that Trainer properties judge the Trainer
    alone (the DataLoader has its own) and the torch loop gets the very same batches."""

    def __init__(self, case: TrainingCase) -> None:
        self.case = case
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def arrays(self, epoch: int) -> list[tuple[np.ndarray, np.ndarray]]:
        case = self.case
        n = len(case.x)
        order = (np.random.default_rng([case.seed, epoch]).permutation(n) if case.shuffle
                 else np.arange(n))
        dtype = target.get().compute_dtype()  # the values the target holds, on both sides
        x = case.x.astype(dtype)
        y = case.y.astype(dtype) if case.loss == "MSELoss" else case.y.astype(np.float64)
        return [(x[order[i:i + case.batch_size]], y[order[i:i + case.batch_size]])
                for i in range(0, n, case.batch_size)]

    def __len__(self) -> int:
        return -(-len(self.case.x) // self.case.batch_size)

    def __iter__(self) -> Any:
        tt = target.get()
        return iter([(tt.tensor(x), tt.tensor(y)) for x, y in self.arrays(self.epoch)])


def build(case: TrainingCase, weights: Weights | None = None) -> Run:
    """Model (from ``weights``, by default the case's), optimizer, trainer and loader."""
    tt = target.get()
    model = build_mlp(case.widths, "tanh", case.weights if weights is None else weights)
    optimizer = tt.make(case.optimizer, model.parameters(), **case.hyper)
    schedule = tt.CosineSchedule(**case.schedule) if case.schedule is not None else None
    trainer = tt.make("Trainer", model, optimizer, tt.make(case.loss), scheduler=schedule,
                      grad_clip_norm=case.clip_norm)
    return Run(model, optimizer, trainer, EpochLoader(case), schedule)


def train_epochs(run: Run, epochs: int, accumulation_steps: int = 1) -> None:
    """``trainer.train_epoch`` ``epochs`` times, each over that epoch's batches. Without
    accumulation the argument is left out, so its default (1, upstream's) is what runs."""
    given = {} if accumulation_steps == 1 else {"accumulation_steps": accumulation_steps}
    for _ in range(epochs):
        run.loader.set_epoch(run.trainer.epoch)
        run.trainer.train_epoch(run.loader, **given)


def epoch_batches(loader: EpochLoader, epochs: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """The batches of each epoch, as arrays (what the torch loop is fed)."""
    return [loader.arrays(e) for e in range(epochs)]


def _fail(case: TrainingCase, check: str, what: str) -> None:
    """The Trainer's report for a law that is not a comparison, with the case's inputs."""
    fail("Trainer", check, what, case.describe())


def tensor_scale(value: Any) -> float:
    """The largest finite magnitude in ``value`` (0 if none): the scale rtol applies to."""
    finite = np.abs(np.asarray(value, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else 0.0


def _compare_params(case: TrainingCase, check: str, got: dict[str, np.ndarray],
                    want: dict[str, np.ndarray], what: str, tol: Tolerance | None = None,
                    slack: dict[str, np.ndarray] | None = None) -> None:
    """Parameters equal within the trajectory budget, ``rtol`` applied to each tensor's largest
    entry: a trajectory's rounding error is relative to the largest terms that went through the
    arithmetic, so a weight near zero carries the absolute error of its tensor's scale."""
    tol = tol or trajectory_tolerance()
    slack = slack or {}
    for name, value in want.items():
        assert_close(got[name], value, tol, scale=tensor_scale(value), slack=slack.get(name),
                     op_name="Trainer", check=check, what=f"{name}: {what}",
                     sample=case.describe())


# ----------------------------------------------------------------------------- checks


@replayable
def check_trainer_matches_torch_loop(case: TrainingCase) -> None:
    """Loss history, learning rates and final weights equal a plain torch loop's."""
    run = build(case)
    initial = state_of(run.model)
    batches = epoch_batches(run.loader, case.epochs)
    train_epochs(run, case.epochs, case.accumulation_steps)
    lrs = (oschedules.cosine_lrs(case.schedule["max_lr"], case.schedule["min_lr"],
                                 case.schedule["total_epochs"], case.epochs)
           if case.schedule is not None else None)
    def twin_in(dtype: str) -> dict[str, Any]:
        return otraining.train(
            mlp_layout(len(case.widths) - 1, "tanh"), initial, case.optimizer, case.hyper,
            case.loss, batches, learning_rates=lrs, clip_norm=case.clip_norm,
            accumulation_steps=case.accumulation_steps, dtype=dtype)

    twin = twin_in("float64")
    # A float32 target is held to float64 torch within what float32 rounding does to this very
    # trajectory, as torch's own float32 run measures it (x4): momentum and large learning
    # rates amplify rounding, and that amplification is the trajectory's, not a bug.
    slack: dict[str, np.ndarray] = {}
    if target.get().compute_dtype() != F64:
        twin32 = twin_in("float32")
        for key in ("train_loss", *twin["params"]):
            ref = twin[key] if key == "train_loss" else twin["params"][key]
            got32 = twin32[key] if key == "train_loss" else twin32["params"][key]
            slack[key] = SLACK_FACTOR * np.abs(np.asarray(got32, np.float64)
                                               - np.asarray(ref, np.float64))
    history = run.trainer.history
    for key in ("train_loss", "learning_rates"):
        assert_close(np.array(history[key]), np.array(twin[key]), trajectory_tolerance(),
                     slack=slack.get(key), op_name="Trainer", check="torch loop",
                     sample=case.describe(), curve=f"{key} by epoch",
                     what=f"history[{key!r}] differs from the torch loop's")
    _compare_params(case, "torch loop", state_of(run.model), twin["params"],
                    "final weights differ from the torch loop's", slack=slack)
    steps = getattr(run.trainer, "step", None)  # upstream's counter of optimizer steps
    if isinstance(steps, int) and steps != len(twin["step_lrs"]):
        _fail(case, "step count", f"trainer.step is {steps} after {len(twin['step_lrs'])} "
              "optimizer steps")


@replayable
def check_resume_equals_uninterrupted(case: TrainingCase, split: int) -> None:
    """Train ``split`` epochs, checkpoint, restore into a fresh trainer (other weights, other
    RNG state), train the rest: identical to training all epochs without a break."""
    straight = build(case)
    train_epochs(straight, case.epochs, case.accumulation_steps)

    first = build(case)
    train_epochs(first, split, case.accumulation_steps)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ckpt.npz"
        first.trainer.save_checkpoint(path)
        np.random.seed(12345)  # the checkpoint must restore the RNG, not rely on it
        second = build(case, other_weights(case.weights))
        second.trainer.load_checkpoint(path)
    train_epochs(second, case.epochs - split, case.accumulation_steps)

    for key, value in straight.trainer.history.items():
        if len(second.trainer.history[key]) != len(value):
            _fail(case, "resume", f"history[{key!r}] has {len(second.trainer.history[key])} "
                  f"entries after resuming, {len(value)} without a break")
        assert_close(np.array(second.trainer.history[key]), np.array(value), trajectory_tolerance(),
                     op_name="Trainer", check="resume", sample=case.describe(),
                     what=f"history[{key!r}] after resume differs from uninterrupted")
    if (second.trainer.epoch, second.trainer.step) != (straight.trainer.epoch,
                                                       straight.trainer.step):
        _fail(case, "resume", "epoch/step counters differ after resume")
    _compare_params(case, "resume", state_of(second.model), state_of(straight.model),
                    "weights after resume differ from uninterrupted training",
                    EXACT)
    if not hasattr(straight.optimizer, "state_dict"):
        return  # optimizer buffers are compared through state_dict only
    assert_close(second.optimizer.state_dict(), straight.optimizer.state_dict(), EXACT,
                 check_dtype=True, op_name="Trainer", check="resume", sample=case.describe(),
                 what="optimizer state_dict() after resume differs from uninterrupted training")


@replayable
def check_evaluate_changes_nothing(case: TrainingCase) -> None:
    """evaluate(): no graph recorded, no parameter, gradient or optimizer-state change, the
    model in eval mode during it and back in its previous mode after."""
    tt = target.get()
    tt.need("no_grad")  # without it evaluate() cannot avoid recording a graph
    run = build(case)
    train_epochs(run, 1)
    seen: list[tuple[bool, bool]] = []
    original_forward = run.model.forward

    def spy(x: Any) -> Any:
        out = original_forward(x)
        seen.append((bool(out.requires_grad), bool(run.model.training)))
        return out

    run.model.forward = spy
    for mode in (True, False):
        tt.set_mode(run.model, mode)
        x, y = next(iter(run.loader))  # gradients pending, as mid-way through accumulation
        tt.backward(run.trainer.loss_fn(original_forward(x), y))
        params = state_of(run.model)
        grads = [tt.grad(p) for p in run.model.parameters()]
        opt_state = _optimizer_state(run.optimizer)
        seen.clear()
        run.trainer.evaluate(run.loader)
        if any(requires for requires, _ in seen):
            _fail(case, "evaluate", "evaluate() recorded a graph (outputs require grad)")
        if any(training for _, training in seen):
            _fail(case, "evaluate", "the model was in training mode during evaluate()")
        if run.model.training != mode:
            _fail(case, "evaluate", f"evaluate() left model.training={run.model.training}, "
                  f"it was {mode}")
        for name, value in params.items():
            if not np.array_equal(state_of(run.model)[name], value):
                _fail(case, "evaluate", f"evaluate() changed parameter {name}")
        for before, p in zip(grads, run.model.parameters()):
            after = tt.grad(p)
            if (before is None) != (after is None) or (
                    before is not None and not np.array_equal(before, after)):
                _fail(case, "evaluate", "evaluate() changed a gradient")
        assert_close(_optimizer_state(run.optimizer), opt_state, EXACT, check_dtype=True,
                     op_name="Trainer", check="evaluate", sample=case.describe(),
                     what="evaluate() changed the optimizer's state")
    _check_evaluate_values(case, run)


def _check_evaluate_values(case: TrainingCase, run: Run) -> None:
    """evaluate()'s mean loss (over every batch) and accuracy (over every sample) equal torch's
    at the same weights."""
    got = run.trainer.evaluate(run.loader)
    want = otraining.evaluate(mlp_layout(len(case.widths) - 1, "tanh"), state_of(run.model),
                              case.loss, run.loader.arrays(run.loader.epoch))
    loss, accuracy = got if isinstance(got, tuple) else (got, None)
    assert_close(np.float64(loss), np.float64(want[0]), trajectory_tolerance(),
                 op_name="Trainer", check="evaluate", sample=case.describe(),
                 what="evaluate()'s loss is not the mean of torch's per-batch losses")
    if want[1] is not None and accuracy is not None and accuracy != want[1]:
        _fail(case, "evaluate", f"evaluate()'s accuracy is {accuracy!r}, torch's argmax over "
              f"every sample gives {want[1]!r}")
    tt = target.get()
    batches = list(run.loader)  # one epoch's batches, evaluated in both forms
    plain = [(x, tt.array(y).tolist()) for x, y in batches]  # targets as Python lists
    assert_close(run.trainer.evaluate(plain), run.trainer.evaluate(batches), EXACT,
                 op_name="Trainer", check="evaluate", sample=case.describe(),
                 what="evaluate() over batches whose targets are lists differs from "
                 "evaluate() over the same batches as tensors")


def _optimizer_state(optimizer: Any) -> Any:
    """``state_dict()``, or a copy of the attributes (upstream keeps buffers as attributes)."""
    if hasattr(optimizer, "state_dict"):
        return optimizer.state_dict()
    return {k: copy.deepcopy(v) for k, v in vars(optimizer).items()
            if isinstance(v, (int, float, list, dict, np.ndarray))}


@replayable
def check_accumulation_equals_large_batch(case: TrainingCase) -> None:
    """k accumulated micro-batches of size b step exactly like batches of size k*b."""
    k = case.accumulation_steps
    small = replace(case, shuffle=False, schedule=None)
    large = replace(small, batch_size=case.batch_size * k, accumulation_steps=1)
    n = (len(case.x) // (case.batch_size * k)) * case.batch_size * k
    if n == 0:
        return
    small = replace(small, x=case.x[:n], y=case.y[:n])
    large = replace(large, x=case.x[:n], y=case.y[:n])
    a, b = build(small), build(large)
    train_epochs(a, case.epochs, k)
    train_epochs(b, case.epochs, 1)
    _compare_params(small, "accumulation", state_of(a.model), state_of(b.model),
                    f"{k} accumulated micro-batches of {case.batch_size} differ from batches "
                    f"of {case.batch_size * k}")


@replayable
def check_applied_lr_follows_schedule(case: TrainingCase) -> None:
    """The learning rate in force at every optimizer step is the schedule's for that epoch."""
    run = build(case)
    applied: list[tuple[int, float]] = []
    original_step = run.optimizer.step

    def spy() -> Any:
        applied.append((run.trainer.epoch, float(run.optimizer.lr)))
        return original_step()

    run.optimizer.step = spy
    train_epochs(run, case.epochs, case.accumulation_steps)
    want = (oschedules.cosine_lrs(case.schedule["max_lr"], case.schedule["min_lr"],
                                  case.schedule["total_epochs"], case.epochs)
            if case.schedule else [case.hyper["lr"]] * case.epochs)
    got = np.array([lr for _, lr in applied])
    expected = np.array([want[e] for e, _ in applied])
    assert_close(got, expected, tolerance_for(F64), op_name="Trainer", check="applied lr",
                 sample=case.describe(), what="learning rate used by optimizer.step() is not "
                 "the schedule's for that epoch")
