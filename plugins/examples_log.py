"""Count the examples each Hypothesis test ran, and log every outcome (for the mutation runner).

When ``TINYTORCH_EXAMPLES_LOG=FILE`` is set, every test appends one JSON line ``{"test", "when",
"outcome", "examples"}`` to FILE. For a failing test under the shrink-free ``mutants`` profile,
``examples`` is how many inputs were drawn until the bug showed (plus Hypothesis's final replay
of the failing one): the "examples needed to kill" of the kill matrix. Counted by wrapping
``test.hypothesis.inner_test``, the hook Hypothesis documents for wrappers, during the call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from properties.mutation import EXAMPLES_LOG_ENV

_COUNT = pytest.StashKey[list[int]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    if handle is None or not os.environ.get(EXAMPLES_LOG_ENV):
        yield
        return
    inner = handle.inner_test
    count = item.stash.setdefault(_COUNT, [0])

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return inner(*args, **kwargs)

    handle.inner_test = counted
    try:
        yield
    finally:
        handle.inner_test = inner


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    if call.when == "call" and _COUNT in item.stash:
        outcome.get_result().user_properties.append(("examples", item.stash[_COUNT][0]))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """One line per test: its call outcome, or a setup/teardown error or skip."""
    path = os.environ.get(EXAMPLES_LOG_ENV)
    if not path or hasattr(report, "node"):  # no path, or an xdist controller's copy
        return
    if report.when != "call" and report.outcome == "passed":
        return
    line = json.dumps({"test": report.nodeid, "when": report.when, "outcome": report.outcome,
                       "examples": dict(report.user_properties).get("examples")})
    with open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")
