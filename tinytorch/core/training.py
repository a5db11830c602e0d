"""Training orchestration (TinyTorch Module 07): the Trainer and its checkpoints.

``clip_grad_norm``, ``clip_grad_value`` and the schedules live in their own modules and are
re-exported here, at upstream TinyTorch's path ``tinytorch.core.training``.

Checkpoints are NumPy ``.npz`` archives written atomically (temporary file, fsync, rename) and
read with ``allow_pickle=False``: arrays under ``model/``, ``optimizer/``, ``rng/``; everything
else as JSON in ``__meta__``. A file that is corrupt, truncated or for another model raises a
:class:`CheckpointError` and leaves the live trainer exactly as it was.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.clipping import clip_grad_norm, clip_grad_norm_, clip_grad_value
from tinytorch.core.schedules import CosineSchedule, WarmupCosineSchedule

__all__ = [
    "CheckpointError", "CosineSchedule", "Trainer", "WarmupCosineSchedule", "clip_grad_norm",
    "clip_grad_norm_", "clip_grad_value",
]

CHECKPOINT_FORMAT = "tinytorch-trainer-checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit this trainer."""


class Trainer:
    """Runs epochs of forward, backward, clip, step; evaluates; saves and restores everything.

    ``history`` holds one entry per epoch: ``train_loss`` (mean of the batch losses),
    ``learning_rates`` (the rate used for that epoch) and ``eval_loss`` (one per ``evaluate``).
    """

    def __init__(self, model: Any, optimizer: Any, loss_fn: Any, scheduler: Any = None,
                 grad_clip_norm: float | None = None) -> None:
        if grad_clip_norm is not None and grad_clip_norm <= 0:
            raise ValueError(f"grad_clip_norm must be positive, got {grad_clip_norm}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.scheduler, self.grad_clip_norm = scheduler, grad_clip_norm
        self.epoch = 0
        self.step = 0
        self.history: dict[str, list[float]] = {"train_loss": [], "eval_loss": [],
                                                 "learning_rates": []}

    # ------------------------------------------------------------------ training
    def train_epoch(self, dataloader: Any, accumulation_steps: int = 1) -> float:
        """One pass over ``dataloader``. With ``accumulation_steps = k`` the gradients of k
        micro-batches (each loss scaled by 1/k) are summed before one optimizer step, so k
        micro-batches of size b step exactly like one batch of size k*b."""
        if not isinstance(accumulation_steps, int) or accumulation_steps < 1:
            raise ValueError(f"accumulation_steps must be a positive int, got {accumulation_steps}")
        self.model.train()
        if self.scheduler is not None:
            self.scheduler.apply(self.optimizer, self.epoch)
        if hasattr(dataloader, "set_epoch"):
            dataloader.set_epoch(self.epoch)
        self.optimizer.zero_grad()
        losses: list[float] = []
        pending = 0
        for x, y in dataloader:
            loss = self.loss_fn(self.model(x), y)
            self._backward(loss, accumulation_steps)
            losses.append(float(loss.item()))
            pending += 1
            if pending == accumulation_steps:
                self._optimizer_step()
                pending = 0
        if pending:
            self._optimizer_step()
        if not losses:
            raise ValueError("train_epoch: the dataloader yielded no batches")
        mean_loss = float(np.mean(losses))
        self.history["train_loss"].append(mean_loss)
        self.history["learning_rates"].append(float(self.optimizer.lr))
        self.epoch += 1
        return mean_loss

    @staticmethod
    def _backward(loss: Any, accumulation_steps: int) -> None:
        """Scale by 1/k so the k summed micro-batch gradients average, like one big batch."""
        (loss * (1.0 / accumulation_steps)).backward()

    def _optimizer_step(self) -> None:
        if self.grad_clip_norm is not None:
            clip_grad_norm(self.model.parameters(), self.grad_clip_norm)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.step += 1

    def evaluate(self, dataloader: Any) -> tuple[float, float | None]:
        """Mean loss (and accuracy for class targets) without recording a graph or touching
        parameters or optimizer state; the model's mode is restored afterwards."""
        was_training = self.model.training
        self.model.eval()
        losses, correct, seen = [], 0, 0
        try:
            with no_grad():
                for x, y in dataloader:
                    out = self.model(x)
                    losses.append(float(self.loss_fn(out, y).item()))
                    targets = np.asarray(getattr(y, "data", y))
                    if out.ndim == 2 and out.shape[1] > 1 and targets.ndim == 1:
                        correct += int(np.sum(out.data.argmax(axis=1) == targets))
                        seen += len(targets)
        finally:
            self.model.train(was_training)
        if not losses:
            raise ValueError("evaluate: the dataloader yielded no batches")
        mean_loss = float(np.mean(losses))
        self.history["eval_loss"].append(mean_loss)
        return mean_loss, (correct / seen if seen else None)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write the complete training state atomically: a crash mid-write leaves the old file."""
        arrays: dict[str, np.ndarray] = {}
        for name, value in self.model.state_dict().items():
            arrays[f"model/{name}"] = np.asarray(value)
        optimizer_meta = _split(self.optimizer.state_dict(), "optimizer", arrays)
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        arrays["rng/keys"] = np.asarray(keys)
        meta = {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "epoch": self.epoch, "step": self.step, "history": self.history,
            "grad_clip_norm": self.grad_clip_norm, "optimizer": optimizer_meta,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": {"kind": kind, "pos": int(pos), "has_gauss": int(has_gauss),
                    "cached_gaussian": float(cached)},
        }
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Restore everything ``save_checkpoint`` wrote; on any error nothing changes."""
        arrays, meta = _read(Path(path))
        model_state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
        expected = self.model.state_dict()
        if set(model_state) != set(expected):
            raise CheckpointError(
                f"checkpoint {path} is for another model: parameters {sorted(model_state)}, "
                f"this model has {sorted(expected)}")
        for name, value in model_state.items():
            if value.shape != expected[name].shape:
                raise CheckpointError(f"checkpoint {path}: {name} has shape {value.shape}, "
                                      f"the model expects {expected[name].shape}")
        if (self.scheduler is None) != (meta["scheduler"] is None):
            raise CheckpointError(
                f"checkpoint {path} was saved "
                f"{'without' if meta['scheduler'] is None else 'with'} a learning-rate schedule "
                f"and this trainer has {'one' if self.scheduler is not None else 'none'}: "
                "resuming would change the learning rates")
        snapshot = (self.model.state_dict(), self.optimizer.state_dict(),
                    self.scheduler.state_dict() if self.scheduler is not None else None)
        try:
            self.model.load_state_dict(model_state)
            self.optimizer.load_state_dict(_join(meta["optimizer"], arrays))
            if self.scheduler is not None:
                self.scheduler.load_state_dict(meta["scheduler"])
            rng = meta["rng"]
            rng_state = (rng["kind"], arrays["rng/keys"].astype(np.uint32), rng["pos"],
                         rng["has_gauss"], rng["cached_gaussian"])
            np.random.RandomState().set_state(rng_state)  # a bad stream fails here, not later
            epoch, step = int(meta["epoch"]), int(meta["step"])
            history = {k: [float(v) for v in meta["history"][k]]
                       for k in ("train_loss", "eval_loss", "learning_rates")}
        except Exception as error:
            self.model.load_state_dict(snapshot[0])
            self.optimizer.load_state_dict(snapshot[1])
            if snapshot[2] is not None:
                self.scheduler.load_state_dict(snapshot[2])
            raise CheckpointError(
                f"checkpoint {path} does not fit this trainer: {error}"
            ) from error
        np.random.set_state(rng_state)
        self.epoch, self.step, self.history = epoch, step, history
        self.grad_clip_norm = meta["grad_clip_norm"]


def _split(tree: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Move the arrays of a nested dict into ``arrays`` (keyed by path); return the rest
    (plain values, which JSON writes; an optimizer's state dict holds nothing else)."""
    if isinstance(tree, dict):
        return {str(k): _split(v, f"{prefix}/{k}", arrays) for k, v in tree.items()}
    if isinstance(tree, np.ndarray):
        arrays[prefix] = tree
        return {"__array__": prefix}
    if isinstance(tree, (np.integer, np.floating, np.bool_)):
        return tree.item()
    return tree


def _join(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`_split`; digit keys become ints again (parameter indices)."""
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return arrays[tree["__array__"]].copy()
        return {int(k) if k.isdigit() else k: _join(v, arrays)
                for k, v in tree.items()}
    return tree


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated: {e}") from e
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a TinyTorch trainer checkpoint")
    if meta.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"checkpoint {path} has version {meta.get('version')}, "
                              f"this TinyTorch reads version {CHECKPOINT_VERSION}")
    missing = [k for k in ("epoch", "step", "history", "optimizer", "rng", "scheduler",
                           "grad_clip_norm") if k not in meta]
    if missing or "rng/keys" not in arrays:
        raise CheckpointError(f"checkpoint {path} is incomplete: missing {missing or ['rng']}")
    return arrays, meta
