"""TinyTorch and torch in lockstep under any sequence of training calls (stateful test)."""

from hypothesis import settings

from properties.stateful import LockstepMachine

LockstepMachine.TestCase.settings = settings(settings.default, stateful_step_count=25)
TestTrainingLockstep = LockstepMachine.TestCase
