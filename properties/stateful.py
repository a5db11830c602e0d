"""Stateful lockstep test: a TinyTorch model + optimizer and its torch twin under any
interleaving of forward/backward, zero_grad, step, clip, scheduler step, checkpoint round trip,
evaluate() and train()/eval(). After every rule the two must agree on parameters, gradients
(``None`` included), every optimizer buffer, the learning rate and the mode. A shrunk failure
reads as the shortest sequence of calls that breaks the lockstep.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from oracles import training as otraining
from properties import strategies as S
from properties import target
from properties.networks import (
    Weights,
    build_mlp,
    mlp_layout,
    mlp_weights,
    named_parameters,
    other_weights,
    state_of,
)
from properties.report import assert_close, fail, literal, replay_as
from properties.strategies import Sample
from properties.training import tensor_scale, trajectory_tolerance

WIDTHS = (2, 3, 2)
TOTAL_EPOCHS = 4
def batches(max_rows: int, min_rows: int = 1) -> st.SearchStrategy:
    """(x, y) for an MSE step: 1-3 rows of inputs and targets in [-2, 2], drawn (so a failing
    sequence shrinks to small, readable batches)."""
    return st.integers(min_rows, max_rows).flatmap(lambda n: st.tuples(
        S.values(np.float64, (n, WIDTHS[0]), -2, 2), S.values(np.float64, (n, WIDTHS[-1]), -2, 2)))


HYPER = {
    "SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    "Adam": {"lr": 0.05, "amsgrad": True},
    "AdamW": {"lr": 0.05, "weight_decay": 0.1},
}


class LockstepMachine(RuleBasedStateMachine):
    """The lockstep rules and invariant; :func:`machine_for` gives the machine of one optimizer
    (one machine per optimizer, so each gets its share of examples, whatever the seed)."""

    def setup(self, kind: str, weights: Weights) -> None:
        self.steps = [f"machine.setup(kind={kind!r}, weights={literal(weights)})"]
        tt = target.get()
        self.kind = kind
        self.weights = weights
        # Only the hyper-parameters the target takes (a twin with the same ones follows).
        self.hyper = {k: v for k, v in HYPER[kind].items() if tt.accepts(kind, k)}
        self.tmp = tempfile.TemporaryDirectory()
        self._build_target(build_mlp(WIDTHS, "tanh", weights))
        self.twin = otraining.LockstepTwin(
            mlp_layout(len(WIDTHS) - 1, "tanh"), state_of(self.model), kind, self.hyper,
            TOTAL_EPOCHS, self.hyper["lr"] / 10)
        self.epoch = 0

    def _build_target(self, model: Any) -> None:
        tt = target.get()
        self.model = model
        self.optimizer = tt.make(self.kind, model.parameters(), **self.hyper)
        lr = self.hyper["lr"]
        self.schedule = tt.CosineSchedule(lr, lr / 10, TOTAL_EPOCHS)
        self.trainer = tt.make("Trainer", model, self.optimizer, tt.MSELoss(),
                               scheduler=self.schedule)

    def teardown(self) -> None:
        if hasattr(self, "tmp"):
            self.tmp.cleanup()

    # ------------------------------------------------------------------ rules
    @rule(xy=batches(3))
    def forward_backward(self, xy: tuple[np.ndarray, np.ndarray]) -> None:
        self._record("forward_backward", xy=xy)
        tt = target.get()
        x, y = xy
        tt.backward(tt.MSELoss()(self.model(tt.tensor(x)), tt.tensor(y)))
        self.twin.forward_backward(x, y)

    @rule(set_to_none=st.booleans())
    def zero_grad(self, set_to_none: bool) -> None:
        self._record("zero_grad", set_to_none=set_to_none)
        self.optimizer.zero_grad(set_to_none=set_to_none)
        self.twin.zero_grad(set_to_none)

    @rule()
    def step(self) -> None:
        self._record("step")
        self.optimizer.step()
        self.twin.step()

    @rule(max_norm=st.sampled_from([0.01, 0.1, 1.0, 100.0]))
    def clip(self, max_norm: float) -> None:
        self._record("clip", max_norm=max_norm)
        got = target.get().clip_grad_norm(self.model.parameters(), max_norm)
        want = self.twin.clip(max_norm)
        if want is not None:
            assert_close(np.float64(got), np.float64(want), trajectory_tolerance(),
                         op_name="lockstep",
                         check="clip", what="total norm differs from torch's",
                         sample=Sample(()))

    @precondition(lambda self: self.epoch < TOTAL_EPOCHS)
    @rule()
    def scheduler_step(self) -> None:
        self._record("scheduler_step")
        self.epoch += 1
        target.get().apply_schedule(self.schedule, self.optimizer, self.epoch)
        self.twin.scheduler_step()

    @rule()
    def checkpoint_round_trip(self) -> None:
        """Save, then continue in a brand-new model/optimizer/trainer restored from the file.
        Gradients are not training state: after a restore they are None, in torch too."""
        self._record("checkpoint_round_trip")
        path = Path(self.tmp.name) / "state.npz"
        self.trainer.save_checkpoint(path)
        fresh = build_mlp(WIDTHS, "tanh", other_weights(self.weights))
        target.get().set_mode(fresh, self.model.training)
        self._build_target(fresh)
        self.trainer.load_checkpoint(path)
        self.optimizer.lr = self.twin.lr
        self.twin.drop_grads()

    @rule(xy=batches(3, 3))
    def evaluate(self, xy: tuple[np.ndarray, np.ndarray]) -> None:
        """Evaluation is invisible to training state: the twin does nothing here."""
        self._record("evaluate", xy=xy)
        tt = target.get()
        x, y = xy
        loader = [(tt.tensor(x[:2]), tt.tensor(y[:2])), (tt.tensor(x[2:]), tt.tensor(y[2:]))]
        self.trainer.evaluate(loader)

    @rule(mode=st.booleans())
    def set_mode(self, mode: bool) -> None:
        self._record("set_mode", mode=mode)
        target.get().set_mode(self.model, mode)
        self.twin.train(mode)

    def _record(self, rule: str, **kwargs: Any) -> None:
        args = ", ".join(f"{k}={literal(v)}" for k, v in kwargs.items())
        self.steps.append(f"machine.{rule}({args})")

    def replay_script(self) -> str:
        """The calls so far, each followed by the lockstep check: a failure replays alone."""
        lines = ["import numpy as np", "from properties.stateful import LockstepMachine", "",
                 "machine = LockstepMachine()"]
        for step in self.steps:
            lines += [step, "machine.in_lockstep()"]
        return "\n".join(lines + ["machine.teardown()"])

    # ------------------------------------------------------------------ invariants
    @invariant()
    def in_lockstep(self) -> None:
        if not hasattr(self, "model"):
            return
        with replay_as(self.replay_script()):
            self._compare()

    def _compare(self) -> None:
        tt = target.get()
        sample = Sample((), {"optimizer": self.kind, "epoch": self.epoch})

        def same(got: Any, want: Any, what: str) -> None:
            tol = trajectory_tolerance()
            assert_close(got, want, tol, scale=tensor_scale(want), op_name="lockstep",
                         check="invariant", what=what, sample=sample)

        def mismatch(what: str) -> None:
            fail("lockstep", "invariant", what, sample)

        same(np.float64(self.optimizer.lr), np.float64(self.twin.lr),
             "learning rate differs from torch's")
        if self.model.training != self.twin.training:
            mismatch(f"model.training is {self.model.training}, torch's {self.twin.training}")
        want_params, want_grads = self.twin.state(), self.twin.grads()
        for name, p in named_parameters(self.model).items():
            same(tt.array(p), want_params[name], f"parameter {name} differs from torch's")
            got_g, want_g = tt.grad(p), want_grads[name]
            if (got_g is None) != (want_g is None):
                mismatch(f"{name}.grad is {'None' if got_g is None else 'set'} "
                     f"but torch's is {'None' if want_g is None else 'set'}")
            if got_g is not None:
                same(got_g, want_g, f"gradient of {name} differs from torch's")
        if not hasattr(self.optimizer, "state_dict"):
            return  # buffers are compared only through a state_dict
        got_state = self.optimizer.state_dict()["state"]
        want_state = self.twin.buffers()
        if set(got_state) != set(want_state):
            mismatch(f"optimizer has state for parameters {sorted(got_state)}, "
                 f"torch for {sorted(want_state)}")
        for i, buffers in want_state.items():
            for name, value in buffers.items():
                if name not in got_state[i]:
                    mismatch(f"optimizer state of parameter {i} lacks {name!r}")
                same(np.asarray(got_state[i][name], dtype=np.float64),
                     np.asarray(value, dtype=np.float64),
                     f"optimizer buffer {name!r} of parameter {i} differs from torch's")


def machine_for(kind: str) -> type[LockstepMachine]:
    """The lockstep machine of one optimizer: it starts from drawn weights."""

    class Machine(LockstepMachine):
        @initialize(weights=mlp_weights(WIDTHS))
        def start(self, weights: Weights) -> None:
            self.setup(kind, weights)

    Machine.__name__ = Machine.__qualname__ = f"Lockstep{kind}"
    return Machine
