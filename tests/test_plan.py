"""The seed plan's matrix (properties/plan.py) is complete: every module x category cell the
plan requires is covered by at least one test's ``plan`` marker, or declared not applicable
with the plan's reason. ``pytest --collect-only -q --plan-matrix`` prints it."""

from pathlib import Path

import pytest

from plugins.plan_matrix import session_matrix
from properties import plan

TESTS = Path(__file__).resolve().parent


def test_every_required_cell_of_the_plan_is_covered(request):
    items = request.session.items
    collected = {Path(str(item.path)).name for item in items}
    every = {p.name for p in TESTS.glob("test_*.py")}
    if collected != every:
        pytest.skip(f"the matrix needs the whole suite collected ({len(collected)} of "
                    f"{len(every)} test files in this run)")
    empty = plan.empty_cells(session_matrix(items))
    assert not empty, "plan cells no test covers (mark a test with @pytest.mark.plan, or " \
        "declare the cell not applicable in properties/plan.py):\n  " + "\n  ".join(
            f"{m} {plan.MODULES[m]} x {plan.CATEGORIES[c]}" for m, c in empty)


def test_plan_markers_name_known_cells():
    with pytest.raises(ValueError, match="unknown category"):
        plan.parse("05:gradients")
    with pytest.raises(ValueError, match="unknown module"):
        plan.parse("21:core")
    assert plan.parse("core", ["02"]) == [("02", "core")]


def test_an_uncovered_cell_is_reported_empty_and_a_not_applicable_one_is_not():
    covered = {(m, c): ["t"] for m in plan.MODULES for c in plan.CATEGORIES}
    del covered[("05", "gradient_flow")], covered[("01", "gradient_flow")]
    assert plan.empty_cells(covered) == [("05", "gradient_flow")]
