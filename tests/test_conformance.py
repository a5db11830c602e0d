"""The conformance report reads signatures against upstream's declared ones."""

import importlib

import pytest

from properties import api, conformance, plan, target


def upstream_like(params, lr=0.01, momentum=0.0):
    pass


def renamed(parameters, lr=0.01, momentum=0.0):
    pass


def other_default(params, lr=0.1, momentum=0.0):
    pass


def richer(params, lr=0.01, momentum=0.0, nesterov=False):
    pass


@pytest.mark.parametrize(("fn", "status", "detail"), [
    (upstream_like, "ok", ""),
    (richer, "extends", "adds nesterov"),
    (renamed, "differs", "no parameter 'params'"),
    (other_default, "differs", "lr defaults to 0.1, upstream 0.01"),
])
def test_compare_classifies_signatures(fn, status, detail):
    got_status, got_detail = conformance.compare(fn, "(params, lr=0.01, momentum=0.0)")
    assert got_status == status
    assert detail in got_detail


@pytest.mark.bundled_only
def test_report_of_the_bundled_package():
    rows = {row.name: row for row in conformance.report(target.get())}
    assert rows["Tensor"].status == "extends" and "dtype" in rows["Tensor"].detail
    assert rows["Linear"].status == "ok"
    assert rows["Conv2d"].status == "extends" and "dilation" in rows["Conv2d"].detail
    assert rows["GPT"].status == "ok" and rows["Layer"].status == "ok"
    assert "in core.clipping" in rows["clip_grad_norm"].detail  # not upstream's core.training
    text = conformance.render(list(rows.values()), "the bundled tinytorch")
    assert "core.spatial\n  extends  Conv2d" in text


def _module_names(number):
    return [d for d in api.DECLARED
            if d.upstream and plan.API_MODULES.get(d.modules[0]) == number]


@pytest.mark.parametrize("number", [
    pytest.param(n, marks=pytest.mark.plan(f"{n}:export_import", f"{n}:api_consistency"))
    for n in plan.MODULES], ids=[f"{n}_{name}" for n, name in plan.MODULES.items()])
def test_module_exports_upstream_names_with_upstream_signatures(number):
    """Every public name of upstream's module NN: with upstream's parameters and defaults
    (more optional ones allowed). The bundled package must also export each one at
    upstream's path (``tinytorch.perf.quantization.quantize_int8``); another target may keep
    a name in an older layout, and a name it lacks skips (its tests skip too)."""
    tt = target.get()
    declared = _module_names(number)
    assert declared, f"no upstream name of module {number} is declared in properties/api.py"
    rows = {row.name: row for row in conformance.report(tt)}
    differs = [f"{d.name}: {rows[d.name].detail}" for d in declared
               if rows[d.name].status == "differs"]
    assert not differs, f"module {number}: signatures differ from upstream's:\n  " + \
        "\n  ".join(differs)
    if target.is_reference():
        for d in declared:
            module = importlib.import_module(f"{tt.name}.{d.modules[0]}")
            assert hasattr(module, d.name), f"{tt.name}.{d.modules[0]} does not export {d.name}"
    lacking = [d.home for d in declared if rows[d.name].status == "lacks"]
    if lacking:
        pytest.skip("target lacks " + ", ".join(lacking))
