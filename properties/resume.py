"""Saved state is complete: resuming from a checkpoint equals training without a break, with
every source of randomness and every counter live at the moment of the save.

The case trains a model with Dropout active (the global NumPy random stream decides its masks),
from the target's own DataLoader with shuffling on (the order of epoch e depends on the loader's
epoch), with Adam or AdamW (non-zero moments and per-parameter step counts), under a warm-up
cosine schedule whose warm-up is still running when the checkpoint is written. Anything the
checkpoint forgets, a fresh model, optimizer, schedule, loader and trainer (other weights, the
random stream reseeded elsewhere) cannot recover, and the runs part.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as S
from properties import target
from properties.networks import Weights, mlp_weights, other_weights, state_of
from properties.report import assert_close, replayable
from properties.strategies import Sample
from properties.tolerances import EXACT

F64 = np.dtype(np.float64)
STREAM_SEED = 1234  # the global random stream at the start of both runs (Dropout's masks)


@dataclass(frozen=True)
class ResumeCase:
    x: np.ndarray
    y: np.ndarray
    widths: tuple[int, int, int]
    weights: Weights
    dropout: float
    optimizer: str
    lr: float
    batch_size: int
    loader_seed: int
    epochs: int
    split: int  # epochs before the checkpoint
    warmup_epochs: int  # > split: the warm-up is still running at the checkpoint

    def describe(self) -> Sample:
        return Sample((self.x, self.y), {
            "widths": self.widths, "dropout": self.dropout, "optimizer": self.optimizer,
            "lr": self.lr, "batch_size": self.batch_size, "loader_seed": self.loader_seed,
            "epochs": self.epochs, "split": self.split, "warmup_epochs": self.warmup_epochs})


@st.composite
def resume_cases(draw: st.DrawFn) -> ResumeCase:
    widths = (draw(st.integers(1, 3)), draw(st.integers(2, 4)), draw(st.integers(1, 2)))
    n = draw(st.integers(3, 8), label="samples")
    epochs = draw(st.integers(2, 4), label="epochs")
    split = draw(st.integers(1, epochs - 1), label="checkpoint after epoch")
    return ResumeCase(
        x=draw(S.values(F64, (n, widths[0]), -2, 2), label="x"),
        y=draw(S.values(F64, (n, widths[-1]), -2, 2), label="y"),
        widths=widths, weights=draw(mlp_weights(widths), label="weights"),
        dropout=draw(st.sampled_from([0.2, 0.5]), label="dropout"),
        optimizer=draw(st.sampled_from(["Adam", "AdamW"]), label="optimizer"),
        lr=draw(st.sampled_from([0.01, 0.05]), label="lr"),
        batch_size=draw(st.integers(1, 3), label="batch_size"),
        loader_seed=draw(st.integers(0, 100), label="loader seed"),
        epochs=epochs, split=split,
        warmup_epochs=draw(st.integers(split + 1, epochs), label="warmup_epochs"))


@dataclass
class _Run:
    model: Any
    optimizer: Any
    trainer: Any
    loader: Any


def _build(case: ResumeCase, weights: Weights) -> _Run:
    """Linear, Tanh, Dropout, Linear; the optimizer; the warm-up schedule; a shuffling loader."""
    tt = target.get()
    dtype = tt.compute_dtype()
    (w0, b0), (w1, b1) = weights
    first, last = tt.Linear(*case.widths[:2]), tt.Linear(*case.widths[1:])
    tt.with_params(first, weight=tt.tensor(w0.astype(dtype), True),
                   bias=tt.tensor(b0.astype(dtype), True))
    tt.with_params(last, weight=tt.tensor(w1.astype(dtype), True),
                   bias=tt.tensor(b1.astype(dtype), True))
    model = tt.sequential(first, tt.make("Tanh"), tt.make("Dropout", case.dropout), last)
    optimizer = tt.make(case.optimizer, model.parameters(), lr=case.lr)
    schedule = tt.make("WarmupCosineSchedule", case.lr, case.lr / 10, case.warmup_epochs,
                       case.epochs + 1)
    trainer = tt.make("Trainer", model, optimizer, tt.MSELoss(), scheduler=schedule)
    dataset = tt.make("TensorDataset", tt.tensor(case.x.astype(dtype)),
                      tt.tensor(case.y.astype(dtype)))
    loader = tt.make("DataLoader", dataset, case.batch_size, shuffle=True,
                     seed=case.loader_seed)
    return _Run(model, optimizer, trainer, loader)


def _train(run: _Run, epochs: int) -> None:
    for _ in range(epochs):
        run.trainer.train_epoch(run.loader)


@replayable
def check_resume_restores_every_stream(case: ResumeCase) -> None:
    """``split`` epochs, checkpoint, a fresh everything restored from it, the rest: identical
    to all epochs in one run (history, weights, optimizer state, counters), bit for bit."""
    sample = case.describe()
    np.random.seed(STREAM_SEED)
    straight = _build(case, case.weights)
    _train(straight, case.epochs)

    np.random.seed(STREAM_SEED)
    first = _build(case, case.weights)
    _train(first, case.split)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.npz"
        first.trainer.save_checkpoint(path)
        np.random.seed(STREAM_SEED + 1)  # the checkpoint must restore the stream
        second = _build(case, other_weights(case.weights))
        second.trainer.load_checkpoint(path)
    _train(second, case.epochs - case.split)

    def same(got: Any, want: Any, what: str) -> None:
        assert_close(got, want, EXACT, check_dtype=True, op_name="Trainer", check="resume",
                     sample=sample, what=f"{what} after resuming at epoch {case.split} (dropout, "
                     "shuffling, Adam moments, warm-up) differs from training without a break")

    same(dict(second.trainer.history), dict(straight.trainer.history), "history")
    same(state_of(second.model), state_of(straight.model), "weights")
    if hasattr(straight.optimizer, "state_dict"):
        same(second.optimizer.state_dict(), straight.optimizer.state_dict(), "optimizer state")
    same([second.trainer.epoch, second.trainer.step],
         [straight.trainer.epoch, straight.trainer.step], "epoch and step counters")
