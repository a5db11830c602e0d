"""The conformance report reads signatures against upstream's declared ones."""

import pytest

from properties import conformance, target


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
    assert rows["GPT"].status == "ok" and rows["Layer"].status == "lacks"
    assert "in core.clipping" in rows["clip_grad_norm"].detail  # not upstream's core.training
    text = conformance.render(list(rows.values()), "the bundled tinytorch")
    assert "core.spatial\n  extends  Conv2d" in text
