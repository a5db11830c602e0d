"""The Trainer (Module 07) against a hand-written torch loop, and its own invariants:
checkpoint resume, evaluate purity, gradient accumulation, the learning rate applied."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import resume
from properties import training as T

pytestmark = pytest.mark.plan("07:core", "07:integration", "07:gradient_flow", "07:api_consistency")


@given(case=T.training_cases())
def test_trainer_matches_torch_loop(case):
    T.check_trainer_matches_torch_loop(case)


@given(case=T.training_cases(), data=st.data())
def test_checkpoint_resume_equals_uninterrupted_training(case, data):
    split = data.draw(st.integers(0, case.epochs), label="epochs before the checkpoint")
    T.check_resume_equals_uninterrupted(case, split)


@given(case=T.training_cases(schedules=False, accumulation=(1, 1)))
def test_evaluate_changes_nothing(case):
    T.check_evaluate_changes_nothing(case)


@given(case=T.training_cases(schedules=False, clipping=False, accumulation=(2, 3)))
def test_accumulated_micro_batches_equal_one_large_batch(case):
    T.check_accumulation_equals_large_batch(case)


@given(case=T.training_cases())
def test_learning_rate_applied_at_each_step_is_the_schedules(case):
    T.check_applied_lr_follows_schedule(case)


@given(case=resume.resume_cases())
def test_resume_restores_dropout_shuffling_moments_and_warmup(case):
    resume.check_resume_restores_every_stream(case)
