"""Compression laws: pruning masks against ``torch.nn.utils.prune``, pruning that survives
training (lockstep with torch's pruned twin), sparsity, and low-rank approximation against
the Eckart-Young optimum.

Which weight is "smallest" must be decided by the values, not by a tie-break: magnitudes are
drawn distinct by construction (a shuffled lattice of magnitudes with drawn signs), and for
structured pruning every output neuron has its own norm (unit columns scaled by distinct
factors). So the target's mask and torch's can only agree by pruning the same entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import compression as ocomp
from properties import optimizers as P_opt
from properties import systems, target
from properties.networks import build_mlp, mlp_layout, named_parameters, state_of
from properties.report import assert_close, fail, replayable
from properties.strategies import Sample
from properties.tolerances import Tolerance, training_tolerance

Weights = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class PruneCase:
    widths: tuple[int, ...]
    weights: Weights
    amount: float
    kind: str  # "magnitude" | "structured"

    def sample(self) -> Sample:
        return Sample(tuple(a for pair in self.weights for a in pair),
                      {"widths": self.widths, "amount": self.amount, "kind": self.kind})


@st.composite
def _distinct_magnitudes(draw: st.DrawFn, shape: tuple[int, int]) -> np.ndarray:
    n = shape[0] * shape[1]
    ranks = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    signs = draw(hnp.arrays(np.bool_, n))
    return (np.where(signs, -1.0, 1.0) * (ranks + 1) / n).reshape(shape)


@st.composite
def _distinct_columns(draw: st.DrawFn, shape: tuple[int, int]) -> np.ndarray:
    base = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.25, 1.0))) * np.where(
        draw(hnp.arrays(np.bool_, shape)), -1.0, 1.0)
    base /= np.linalg.norm(base, axis=0, keepdims=True)
    scales = (np.array(draw(st.permutations(range(shape[1]))), dtype=np.float64) + 1) / shape[1]
    return base * scales


@st.composite
def prune_cases(draw: st.DrawFn, kind: str | None = None) -> PruneCase:
    kind = kind or draw(st.sampled_from(["magnitude", "structured"]))
    widths = tuple(draw(st.lists(st.integers(1, 6), min_size=2, max_size=3)))
    make = _distinct_magnitudes if kind == "magnitude" else _distinct_columns
    weights = [(draw(make((a, b))), draw(hnp.arrays(np.float64, b,
                                                    elements=st.floats(-0.5, 0.5))))
               for a, b in zip(widths[:-1], widths[1:])]
    amount = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9, 1.0]) | st.floats(0.0, 1.0))
    return PruneCase(widths, weights, amount, kind)


def _build(case: PruneCase) -> Any:
    dtype = target.get().compute_dtype()
    return build_mlp(case.widths, "tanh", [(w.astype(dtype), b.astype(dtype))
                                           for w, b in case.weights])


def _torch_mask(case: PruneCase, weight: np.ndarray) -> np.ndarray:
    if case.kind == "magnitude":
        return ocomp.magnitude_mask(weight, case.amount)
    return ocomp.structured_mask(weight, case.amount, dim=1)  # (in, out): outputs are columns


@replayable
def check_masks_match_torch(case: PruneCase) -> None:
    """Each weight matrix keeps exactly the entries torch's ``l1_unstructured`` /
    ``ln_structured(n=2)`` keep, and ``measure_sparsity`` reports the zeros."""
    model = systems.prune(case.kind, _build(case), case.amount)
    tt = target.get()
    pruned = {}
    for k, (weight, _) in enumerate(case.weights):
        got = tt.array(named_parameters(model)[f"layers.{2 * k}.weight"]) != 0
        want = _torch_mask(case, weight)
        pruned[f"layers.{2 * k}.weight"] = got
        if not np.array_equal(got, want):
            kept = int(got.sum())
            fail(f"{case.kind}_prune", "mask vs torch.nn.utils.prune", f"weight of layer {k} "
                 f"keeps {kept} of {got.size} entries, torch keeps {int(want.sum())}",
                 case.sample(), f"  target kept:\n{got.astype(int)}\n  torch kept:\n"
                 f"{want.astype(int)}\n  weight:\n{weight}")
    zeros = sum(int((~m).sum()) for m in pruned.values())
    total = sum(m.size for m in pruned.values())
    reported = systems.sparsity(model)
    if abs(reported - zeros / total) > 1e-9:
        fail("measure_sparsity", "sparsity", f"reports {reported:.6f}, the weight matrices "
             f"hold {zeros} zeros of {total} ({zeros / total:.6f})", case.sample())


@dataclass(frozen=True)
class TrainPrunedCase:
    prune: PruneCase
    optimizer: str
    hyper: dict[str, Any]
    batches: list[tuple[np.ndarray, np.ndarray]]

    def sample(self) -> Sample:
        base = self.prune.sample()
        return Sample(base.arrays, {**base.kwargs, "optimizer": self.optimizer,
                                    **self.hyper, "steps": len(self.batches)})


@st.composite
def train_pruned_cases(draw: st.DrawFn) -> TrainPrunedCase:
    case = draw(prune_cases("magnitude"))
    kind = draw(st.sampled_from(["SGD", "Adam"]))
    hyper = draw(P_opt.hyperparameters(kind))
    if kind == "SGD" and hyper["momentum"] == 0:
        hyper["momentum"] = 0.9  # momentum is what revives a pruned weight
    batch = draw(st.integers(1, 4))
    values = st.floats(-1, 1)
    batches = [(draw(hnp.arrays(np.float64, (batch, case.widths[0]), elements=values)),
                draw(hnp.arrays(np.float64, (batch, case.widths[-1]), elements=values)))
               for _ in range(draw(st.integers(1, 4)))]
    return TrainPrunedCase(case, kind, hyper, batches)


@replayable
def check_pruned_weights_stay_pruned_while_training(case: TrainPrunedCase) -> None:
    """After pruning, every optimizer step leaves the pruned entries exactly 0, and the
    weights equal those torch's pruned twin (``weight_orig * mask``) sees, step by step."""
    tt = target.get()
    model = systems.prune("magnitude", _build(case.prune), case.prune.amount)
    start = state_of(model)
    masks = {name: value != 0 for name, value in start.items() if name.endswith("weight")}
    opt = P_opt.make_target_optimizer(case.optimizer, model.parameters(), case.hyper)
    loss_fn = tt.make("MSELoss")
    got = []
    for step, (x, y) in enumerate(case.batches):
        tt.zero_grads(opt)
        loss_fn(model(tt.tensor(x.astype(tt.compute_dtype()))),
                tt.tensor(y.astype(tt.compute_dtype()))).backward()
        opt.step()
        now = state_of(model)
        for name, mask in masks.items():
            revived = (now[name] != 0) & ~mask
            if np.any(revived):
                fail("magnitude_prune", "pruned weights stay zero", f"after optimizer step "
                     f"{step + 1}, {int(revived.sum())} pruned entries of {name} are no longer "
                     "0 (the mask is not re-applied)", case.sample(),
                     f"  {name} after the step:\n{now[name]}\n  kept mask:\n"
                     f"{mask.astype(int)}")
        got.append(now)
    layout = mlp_layout(len(case.prune.widths) - 1, "tanh")
    want = ocomp.train_pruned(layout, start, masks, case.optimizer, case.hyper, "MSELoss",
                              case.batches)
    assert_close(got, want, training_tolerance(tt.compute_dtype()),
                 op_name="magnitude_prune", check="training after pruning vs torch",
                 what="the weights after each step differ from torch's pruned twin",
                 sample=case.sample())


@dataclass(frozen=True)
class LowRankCase:
    matrix: np.ndarray
    rank_ratio: float

    def sample(self) -> Sample:
        return Sample((self.matrix,), {"rank_ratio": self.rank_ratio})


@st.composite
def low_rank_cases(draw: st.DrawFn) -> LowRankCase:
    shape = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    matrix = draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    return LowRankCase(matrix, draw(st.sampled_from([0.1, 0.5, 1.0]) | st.floats(0.01, 1.0)))


@replayable
def check_low_rank_is_optimal(case: LowRankCase) -> None:
    """``U @ diag(S) @ V`` has the promised rank, ``k = max(1, int(ratio * min(m, n)))``, and
    its Frobenius error is the Eckart-Young optimum: the dropped singular values."""
    tt = target.get()
    u, s, v = (np.asarray(tt.array(a), dtype=np.float64)
               for a in tt.need("low_rank_approximate")(case.matrix, case.rank_ratio))
    m, n = case.matrix.shape
    k = max(1, int(case.rank_ratio * min(m, n)))
    if u.shape != (m, k) or s.shape != (k,) or v.shape != (k, n):
        fail("low_rank_approximate", "shapes", f"U {u.shape}, S {s.shape}, V {v.shape}; "
             f"rank {k} needs U {(m, k)}, S {(k,)}, V {(k, n)}", case.sample())
    error = float(np.linalg.norm(case.matrix - u @ np.diag(s) @ v))
    best = ocomp.best_rank_error(case.matrix, k)
    scale = float(np.linalg.norm(case.matrix))
    assert_close(error, best, Tolerance(rtol=1e-9, atol=1e-9 * max(scale, 1.0)),
                 op_name="low_rank_approximate", check="Eckart-Young",
                 what=f"the rank-{k} approximation's Frobenius error is not the optimum",
                 sample=case.sample())
