"""Mutants of the Trainer (Module 07): the integration bugs the seed audit found untested."""

from __future__ import annotations

import sys
from typing import Any

from properties.mutation import mutant


def _step_without_zero_grad(orig: Any) -> Any:
    def step(self: Any) -> None:
        if self.grad_clip_norm is not None:
            training = sys.modules[type(self).__module__]
            training.clip_grad_norm(self.model.parameters(), self.grad_clip_norm)
        self.optimizer.step()
        self.step += 1

    return step


mutant("trainer_missing_zero_grad", "trainer:matches_torch_loop",
       "Trainer steps without zero_grad: every step uses the sum of all past gradients",
       training__Trainer___optimizer_step=_step_without_zero_grad)

mutant("trainer_accumulation_not_divided", "trainer:accumulated",
       "gradient accumulation sums k micro-batch gradients without dividing by k",
       training__Trainer___backward=lambda orig: staticmethod(
           lambda loss, accumulation_steps: loss.backward()))


def _schedule_not_applied(orig: Any) -> Any:
    def apply(self: Any, optimizer: Any, epoch: int) -> float:
        return self.get_lr(epoch)

    return apply


mutant("scheduler_computed_not_applied",
       "trainer:learning_rate_applied or scheduler_changes",
       "the schedule's learning rate is computed but never set on the optimizer",
       schedules___Schedule__apply=_schedule_not_applied)


def _evaluate_in_train_mode(orig: Any) -> Any:
    def evaluate(self: Any, dataloader: Any) -> Any:
        eval_ = self.model.eval
        self.model.eval = lambda: self.model
        try:
            return orig(self, dataloader)
        finally:
            self.model.eval = eval_

    return evaluate


mutant("evaluate_leaves_training_mode", "trainer:evaluate",
       "evaluate() never switches the model to eval mode",
       training__Trainer__evaluate=_evaluate_in_train_mode)


def _evaluate_steps(orig: Any) -> Any:
    def evaluate(self: Any, dataloader: Any) -> Any:
        result = orig(self, dataloader)
        self.optimizer.step()
        return result

    return evaluate


mutant("evaluate_steps_optimizer", "trainer:evaluate",
       "evaluate() calls optimizer.step() on leftover gradients",
       training__Trainer__evaluate=_evaluate_steps)


def _save_without_buffers(orig: Any) -> Any:
    def save(self: Any, path: Any) -> None:
        real = self.optimizer.state_dict

        def hollow() -> dict:
            state = real()
            state["state"] = {}
            return state

        self.optimizer.state_dict = hollow
        try:
            orig(self, path)
        finally:
            del self.optimizer.state_dict

    return save


mutant("checkpoint_missing_optimizer_buffers", "checkpoint",
       "save_checkpoint writes the weights but not the optimizer's momentum/Adam buffers",
       training__Trainer__save_checkpoint=_save_without_buffers)


def _restores_float64(orig: Any) -> Any:
    def load_checkpoint(self: Any, path: Any) -> None:
        orig(self, path)
        for p in self.model.parameters():
            p.data = p.data.astype("float64")

    return load_checkpoint


mutant("checkpoint_restores_float64", "dtypes",
       "load_checkpoint restores float32 parameters as float64 (the values are exact, the dtype "
       "is not)",
       training__Trainer__load_checkpoint=_restores_float64)


def _forgets_stream(orig: Any) -> Any:
    def load_checkpoint(self: Any, path: Any) -> None:
        orig(self, path)
        import numpy as np

        np.random.seed(0)  # as if the random stream were not part of the checkpoint

    return load_checkpoint


mutant("checkpoint_forgets_random_stream", "checkpoint",
       "the checkpoint does not restore the global random stream: Dropout's masks after a "
       "resume differ from an uninterrupted run's",
       training__Trainer__load_checkpoint=_forgets_stream)


class _NoSetEpoch:
    """A loader seen without its ``set_epoch``: it runs on its own epoch counter."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __iter__(self) -> Any:
        return iter(self._loader)

    def __len__(self) -> int:
        return len(self._loader)


def _never_sets_epoch(orig: Any) -> Any:
    def train_epoch(self: Any, dataloader: Any, accumulation_steps: int = 1) -> float:
        return orig(self, _NoSetEpoch(dataloader), accumulation_steps)

    return train_epoch


mutant("trainer_never_sets_loader_epoch", "checkpoint",
       "train_epoch does not tell the loader its epoch: after a resume a fresh loader replays "
       "epoch 0's shuffle",
       training__Trainer__train_epoch=_never_sets_epoch)


def _step_not_counted(orig: Any) -> Any:
    def _optimizer_step(self: Any) -> None:
        orig(self)
        self.step -= 1

    return _optimizer_step


mutant("trainer_step_not_counted", "trainer:matches_torch_loop",
       "trainer.step stays at 0: optimizer steps are taken but not counted",
       training__Trainer___optimizer_step=_step_not_counted)

mutant("evaluate_last_batch_only", "trainer:evaluate",
       "evaluate() reports the last batch's loss and accuracy, not the whole loader's",
       training__Trainer__evaluate=lambda orig: lambda self, dataloader: orig(
           self, list(dataloader)[-1:]))

mutant("train_epoch_default_accumulates_two", "trainer:matches_torch_loop",
       "train_epoch(loader) accumulates 2 micro-batches by default instead of 1",
       training__Trainer__train_epoch=lambda orig: lambda self, dataloader,
       accumulation_steps=2: orig(self, dataloader, accumulation_steps))


def _keeps_live_schedule(orig: Any) -> Any:
    def load_checkpoint(self: Any, path: Any) -> None:
        live = None if self.scheduler is None else self.scheduler.state_dict()
        orig(self, path)
        if live is not None:
            self.scheduler.load_state_dict(live)

    return load_checkpoint


mutant("checkpoint_keeps_live_schedule", "checkpoint",
       "load_checkpoint restores model, optimizer and counters but keeps the live trainer's "
       "schedule, not the saved one",
       training__Trainer__load_checkpoint=_keeps_live_schedule)
