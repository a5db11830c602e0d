"""Helpers that bind registry entries to tests (shared by the op test files)."""

import pytest

from properties.registry import OPS


def each_op_where(prop: str) -> pytest.MarkDecorator:
    """Every registry entry as the ``op`` parameter; the entries that opt out of ``prop``
    (``OpInfo.skips``) are skipped, saying why."""
    return pytest.mark.parametrize("op", [
        op if op.applies(prop) else pytest.param(op, marks=pytest.mark.skip(reason=op.skips[prop]))
        for op in OPS], ids=str)
