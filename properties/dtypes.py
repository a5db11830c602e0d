"""dtypes through the whole stack: a parameter's dtype is the dtype of everything derived from
it, at every stage of training, as in torch.

For float32 and float64 parameters (each where the target computes in it), through forward and
backward, ``clip_grad_norm``, ``optimizer.step()``, ``zero_grad`` in both modes, a scheduler
step and a checkpoint round trip: every parameter keeps its dtype, its ``.grad`` has it, and so
does every array buffer of the optimizer (momentum, Adam's moments). An upcast anywhere (a buffer
made with ``np.zeros(shape)``, a clip that computes in float64 and stores the result) silently
doubles memory and changes the arithmetic of every later step; the value properties, which
compare against float64 torch within a float32 budget, cannot see it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from properties import target
from properties.networks import Weights, build_mlp, named_parameters
from properties.report import fail, replayable
from properties.strategies import Sample

WIDTHS = (2, 3, 2)
# Every buffer kind appears: SGD's momentum, Adam's moments and (amsgrad) their running max.
HYPER = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.01, "amsgrad": True},
         "AdamW": {"lr": 0.01}}


def _dtypes_of(tt: Any, model: Any, optimizer: Any) -> dict[str, np.dtype]:
    """Every dtype in sight: parameters, gradients, the optimizer's array buffers."""
    found: dict[str, np.dtype] = {}
    for name, p in named_parameters(model).items():
        found[name] = tt.array(p).dtype
        g = tt.grad(p)
        if g is not None:
            found[f"{name}.grad"] = g.dtype
    if hasattr(optimizer, "state_dict"):
        for index, buffers in optimizer.state_dict().get("state", {}).items():
            for buffer, value in buffers.items():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    found[f"optimizer state[{index}][{buffer!r}]"] = value.dtype
    return found


@replayable
def check_dtype_survives_training(kind: str, dtype: str, weights: Weights, x: np.ndarray,
                                  y: np.ndarray) -> None:
    """Parameters of ``dtype``: after each stage every dtype in sight is still ``dtype``."""
    tt = target.get()
    want = np.dtype(dtype)
    tt.require_dtype(want)
    sample = Sample((x, y), {"optimizer": kind, "dtype": dtype})
    cast = [(w.astype(want), b.astype(want)) for w, b in weights]
    model = build_mlp(WIDTHS, "tanh", cast)
    hyper = {k: v for k, v in HYPER[kind].items() if tt.accepts(kind, k)}
    optimizer = tt.make(kind, model.parameters(), **hyper)
    schedule = tt.CosineSchedule(hyper["lr"], hyper["lr"] / 10, 4)
    trainer = tt.make("Trainer", model, optimizer, tt.MSELoss(), scheduler=schedule)

    def stage(name: str) -> None:
        wrong = {k: v for k, v in _dtypes_of(tt, model, optimizer).items() if v != want}
        if wrong:
            fail(kind, "dtype", f"after {name}, {len(wrong)} arrays are no longer {want}", sample,
                 "  " + "; ".join(f"{k}: {v}" for k, v in sorted(wrong.items())))

    def backward() -> None:
        tt.backward(tt.MSELoss()(model(tt.tensor(x.astype(want))), tt.tensor(y.astype(want))))

    backward()
    stage("forward and backward")
    tt.clip_grad_norm(model.parameters(), 0.5)
    stage("clip_grad_norm")
    optimizer.step()
    stage("optimizer.step()")
    tt.zero_grads(optimizer, set_to_none=False)
    stage("zero_grad(set_to_none=False)")
    backward()
    optimizer.step()
    stage("a second step")
    tt.apply_schedule(schedule, optimizer, 1)
    stage("a scheduler step")
    tt.zero_grads(optimizer, set_to_none=True)
    stage("zero_grad(set_to_none=True)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.npz"
        trainer.save_checkpoint(path)
        model = build_mlp(WIDTHS, "tanh", cast)
        optimizer = tt.make(kind, model.parameters(), **hyper)
        tt.make("Trainer", model, optimizer, tt.MSELoss(),
                scheduler=tt.CosineSchedule(hyper["lr"], hyper["lr"] / 10, 4)
                ).load_checkpoint(path)
    stage("a checkpoint round trip (a fresh model, optimizer and trainer restored from it)")
    backward()
    optimizer.step()
    stage("a step after the restore")
