"""The contract with other TinyTorch copies, checked on fake targets (``tests/fakes.py``) by
running the suite in a subprocess, as a student would, at the small derandomized ``contract``
profile:

(a) an upstream-shaped, correct copy: zero failures, only skips for what it lacks;
(b) the same with planted behavioural bugs: each one is found by the property meant for it;
(c) a hang, an exception and a NaN: the run ends in bounded time with a clear failure for each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fakes
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.bundled_only  # fakes are built from the bundled package


def run_suite(target: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The suite against ``target``; its reports stay beside the fake, out of this run's."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TINYTORCH_MUTANT")}
    env.update(TINYTORCH_PROFILE="contract", TINYTORCH_REPRO_DIR=str(target / "repro"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-rfEs", f"--target={target}", f"--report-dir={target / 'report'}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def failed_ids(result: subprocess.CompletedProcess) -> set[str]:
    return {line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")}


@pytest.mark.slow
def test_upstream_shaped_correct_target_has_no_failures_only_skips(tmp_path):
    result = run_suite(fakes.build(tmp_path / "a"))
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "failed" not in summary and "skipped" in summary, summary
    assert "unsupported by the target" in result.stdout
    for lacking in ("core.layers.Sequential", "core.autograd.no_grad", "float64 tensors"):
        assert lacking in result.stdout, lacking

    conformance = subprocess.run(
        [sys.executable, "-m", "properties.conformance", f"--target={tmp_path / 'a'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert conformance.returncode == 0, conformance.stderr
    assert "core.tensor\n  ok       Tensor\n" in conformance.stdout  # float32-only, as upstream
    assert "  ok       Layer" in conformance.stdout  # the Module base, by upstream's name
    assert "core.attention\n  ok       scaled_dot_product_attention" in conformance.stdout


PLANTED = {  # bug -> a test that must fail because of it
    "no_rsub": "tests/test_ops.py::test_forward_matches_torch[float32-rsub]",
    "tanh_grad": "tests/test_ops.py::test_backward_matches_torch[float32-tanh]",
    "sum_ignores_keepdims": "tests/test_ops.py::test_forward_matches_torch[float32-sum]",
    "dropout_unscaled":
        "tests/test_layers.py::test_dropout_in_training_zeroes_or_scales_each_element",
    "accumulation_unscaled":
        "tests/test_trainer.py::test_accumulated_micro_batches_equal_one_large_batch",
    "adamw_coupled_decay": "tests/test_optimizers.py::test_every_step_matches_torch[AdamW]",
}


@pytest.mark.slow
def test_every_planted_bug_is_found(tmp_path):
    target = fakes.build(tmp_path / "b", bugs=list(PLANTED))
    result = run_suite(target, *PLANTED.values())  # the bugs are together: each test sees all
    missed = {bug: test for bug, test in PLANTED.items() if test not in failed_ids(result)}
    assert not missed, f"planted bugs not found: {missed}\n{result.stdout[-3000:]}"


@pytest.mark.slow
def test_hang_exception_and_nan_end_in_bounded_time_with_clear_failures(tmp_path):
    target = fakes.build(tmp_path / "c", bugs=["exp_hangs", "log_raises", "sqrt_nan"])
    result = run_suite(target, "tests/test_ops.py", "-k",
                       "forward and float32 and (exp or log or sqrt)", "--test-timeout=2",
                       timeout=300)
    failed = failed_ids(result) | {line.split()[1] for line in result.stdout.splitlines()
                                   if line.startswith("ERROR ")}
    for op in ("exp", "log", "sqrt"):
        assert f"tests/test_ops.py::test_forward_matches_torch[float32-{op}]" in failed, op
    assert "Timeout" in result.stdout  # the hang is cut by the per-test limit
    assert "planted: log is broken" in result.stdout  # the exception is shown as raised
    assert "forward value differs from torch" in result.stdout  # the NaN is a mismatch


@pytest.mark.slow
def test_known_failures_file_marks_xfail_and_reports_fixes(tmp_path):
    target = fakes.build(tmp_path / "b", bugs=["no_rsub"])
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("rsub  # 1 - x raises: the op name covers all its tests\n"
                      "test_ops.py::test_forward_matches_torch[float32-add]  # fixed already\n")
    result = run_suite(target, "tests/test_ops.py", "-k", "float32 and (rsub or add)",
                       f"--xfails={xfails}", "-rxX")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "xfailed" in result.stdout.splitlines()[-1]
    assert "but now passing" in result.stdout
    assert "XPASS tests/test_ops.py::test_forward_matches_torch[float32-add]" in result.stdout


@pytest.mark.parametrize(("where", "message"), [
    (lambda tmp: ROOT, "a file of this repository"),
    (lambda tmp: tmp, "holds no package named 'tinytorch'"),
    (lambda tmp: tmp / "missing", "no such directory"),
])
def test_a_target_that_is_not_what_it_says_stops_the_run_at_start(tmp_path, where, message):
    result = run_suite(where(tmp_path), "tests/test_ops.py", timeout=120)
    assert result.returncode != 0 and message in result.stderr, result.stderr[-2000:]
