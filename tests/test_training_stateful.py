"""TinyTorch and torch in lockstep under any sequence of training calls (stateful tests, one
machine per optimizer so that each gets its share of examples)."""

import pytest
from hypothesis import settings

from properties.stateful import HYPER, machine_for

# seconds each: started first (see conftest)
pytestmark = [pytest.mark.slow,
              pytest.mark.plan("06:integration", "07:integration", "06:core", "07:core")]

for _kind in sorted(HYPER):
    _machine = machine_for(_kind)
    _machine.TestCase.settings = settings(settings.default, stateful_step_count=25)
    globals()[f"TestLockstep{_kind}"] = _machine.TestCase
