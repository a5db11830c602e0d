"""Under mutmut, run a mutant's tests fastest first.

mutmut hands each mutant the tests that reach the mutated function, as a set (in no useful
order), with ``-x``: a killed mutant costs every test run before its first failure. Most
mutants die on a cheap op property, so running the tests in the order of the durations mutmut
itself measured (``mutmut-stats.json``, in the ``mutants/`` directory it runs in) makes a kill
cost about one fast test instead of a random share of the slow ones. Survivors run everything
either way. Outside mutmut (no ``MUTANT_UNDER_TEST``) this plugin does nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not os.environ.get("MUTANT_UNDER_TEST") or not STATS.exists():
        return
    durations = json.loads(STATS.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
