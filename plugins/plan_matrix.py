"""The plan matrix from ``plan`` markers (see ``properties/plan.py``).

Every collected item's cells are computed at collection (``item.stash``); ``--plan-matrix``
prints the Markdown matrix at the end of the session and writes it to
``harness-report/plan-matrix.md``. ``tests/test_plan.py`` reads the same cells from the session
to fail on an empty required cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from properties import plan

CELLS = pytest.StashKey[list[tuple[str, str]]]()
ITEMS = pytest.StashKey[list[pytest.Item]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("tinytorch-harness").addoption(
        "--plan-matrix", action="store_true",
        help="print the seed plan's module x category matrix (from plan markers) as Markdown")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "plan(*cells): the plan cells a test covers, 'NN:category', or a bare "
        "category for the module of the test's registry op")


def item_cells(item: pytest.Item) -> list[tuple[str, str]]:
    op = getattr(item, "callspec", None) and item.callspec.params.get("op")
    op_modules = [plan.op_module(op.name, op.family)] if op is not None else []
    cells: list[tuple[str, str]] = []
    for marker in item.iter_markers("plan"):
        for cell in marker.args:
            cells.extend(plan.parse(cell, op_modules))
    return cells


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.stash[CELLS] = item_cells(item)
    config.stash[ITEMS] = list(items)


def session_matrix(items: list[pytest.Item]) -> dict[tuple[str, str], list[str]]:
    covered = [(_test_name(item), cell) for item in items for cell in item.stash.get(CELLS, [])]
    return plan.matrix(covered)


def _test_name(item: pytest.Item) -> str:
    """The test function with its file, without parameters (one name per property)."""
    name = getattr(item, "originalname", None) or item.name
    return f"{Path(str(item.path)).stem}::{name}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("plan_matrix"):
        return
    text = plan.markdown(session_matrix(config.stash.get(ITEMS, [])))
    out = Path(config.rootpath) / "harness-report" / "plan-matrix.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")
    terminalreporter.write_line("")
    terminalreporter.write_line(text)
