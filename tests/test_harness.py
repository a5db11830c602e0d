"""The harness itself: failure reports, repro scripts, the mutant catalog, the profiles, the
registry's coverage, and the one-direction import rule between the four layers."""

import ast
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings
from hypothesis.database import ReadOnlyDatabase
from replaying import replay_scripts

from properties import checks, laws, mutants, records, report
from properties.registry import OPS, op_named
from properties.strategies import Sample
from properties.tolerances import Tolerance

ROOT = Path(__file__).resolve().parent.parent
# Tests of the harness itself: they run against the bundled tinytorch only.
pytestmark = pytest.mark.bundled_only


# ----------------------------------------------------------------------------- reports


def test_mismatch_names_worst_elements_and_both_values():
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    actual = expected.copy()
    actual[1, 2] = 7.5  # the largest absolute difference
    actual[0, 0] = 1.5  # the largest relative difference
    m = report.Mismatch(actual, expected, Tolerance(1e-7, 1e-7))
    text = m.describe()
    assert not m.ok
    assert "mismatched elements: 2 / 6" in text
    assert "greatest absolute difference: 1.5 at index (1, 2): target=7.5, reference=6.0" in text
    assert "greatest relative difference: 0.5 at index (0, 0): target=1.5, reference=1.0" in text


def test_mismatch_treats_equal_nonfinite_values_as_equal_and_nan_as_different():
    tol = Tolerance(1e-7, 1e-7)
    assert report.Mismatch(np.array([np.inf, np.nan]), np.array([np.inf, np.nan]), tol).ok
    assert not report.Mismatch(np.array([np.nan]), np.array([1.0]), tol).ok
    # a finite value where the reference is NaN or inf is a mismatch too (rtol * inf is inf)
    assert not report.Mismatch(np.array([0.0]), np.array([np.nan]), tol).ok
    assert not report.Mismatch(np.array([1.0]), np.array([np.inf]), tol).ok
    assert not report.Mismatch(np.array([-np.inf]), np.array([np.inf]), tol).ok


@pytest.mark.parametrize("value", [
    np.array([[0.1, -2.5e-8], [np.nan, np.inf]], dtype=np.float64),
    np.array([1 / 3, 7.0], dtype=np.float32),
    np.array([True, False]),
    np.array([3, -1, 3], dtype=np.int64),
    np.array(2.5),
    (slice(0, 3, 2), np.array([1, 1])),
])
def test_literal_rebuilds_values_exactly(value):
    rebuilt = eval(report.literal(value), {"np": np})  # noqa: S307 - our own output
    if isinstance(value, tuple):
        assert rebuilt[0] == value[0] and np.array_equal(rebuilt[1], value[1])
    else:
        assert rebuilt.dtype == value.dtype
        np.testing.assert_array_equal(rebuilt, value)


def test_failure_report_and_repro_script_pinpoint_a_real_bug(tmp_path, monkeypatch):
    """Under a mutant, a backward check fails with a report naming op, input, shapes and the
    worst element; the repro script it writes replays the mismatch outside pytest."""
    monkeypatch.setattr(report, "REPRO_DIR", tmp_path)
    op = op_named("relu")
    sample = Sample((np.array([[-1.0, 2.0, -3.0]]),))
    upstream = np.array([[1.0, 1.0, 1.0]])
    with mutants.applied("relu_backward_unmasked"), pytest.raises(AssertionError) as failure:
        checks.check_vjp(op, sample, upstream)
    message = str(failure.value)
    assert message.startswith("[relu] backward: gradient of input 0 differs from torch")
    assert "inputs 0: float64 (1, 3)" in message
    assert "mismatched elements: 2 / 3" in message
    assert "target=1.0, reference=0.0" in message
    assert not list(tmp_path.iterdir()), "formatting a failure must write no file"
    noted = records.take_last()
    assert noted.component == "relu" and noted.property == "backward"
    assert noted.worst["mismatched"] == 2 and noted.worst["absolute"]["target"] == 1.0
    script = report.write_repro(noted.script_key, noted.script)
    assert f"python {script}" in message

    broken, fixed = replay_scripts([(script, ["relu_backward_unmasked"]), (script, [])])
    assert "MISMATCH" in broken.stdout and broken.returncode == 1, broken.stdout
    assert "all match" in fixed.stdout and fixed.returncode == 0, fixed.stdout
    assert fixed.stdout.startswith("replaying against tinytorch at ")


def test_a_broken_chain_is_named_at_the_first_parameter_it_fails_to_reach():
    """Walking back from the loss, the gradient-flow law names the first parameter that torch's
    twin gives a gradient and the target none (here: the Linear before a detached Tanh)."""
    weights = [(np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(-0.5, 0.5, 3)),
               (np.linspace(1, -1, 6).reshape(3, 2), np.array([0.1, -0.2]))]
    x, y = np.array([[0.3, -0.7]]), np.array([[0.5, -0.5]])
    with mutants.applied("tanh_module_off_the_graph"), pytest.raises(AssertionError) as failure:
        laws.check_mlp_gradients_match_torch([2, 3, 2], "tanh", x, y, weights)
    assert str(failure.value).startswith(
        "[mlp] gradient flow: layers.0.bias received no gradient (torch's is non-zero): "
        "the chain is broken here")
    laws.check_mlp_gradients_match_torch([2, 3, 2], "tanh", x, y, weights)  # and unmutated


# ----------------------------------------------------------------------------- mutants


def test_catalog_has_documented_mutants():
    assert len(mutants.CATALOG) >= 15
    for m in mutants.CATALOG.values():
        assert m.bug and m.patches, m.name


def test_every_mutant_component_resolves_to_tests():
    """A component names test files, or registry entries matched by name (never by the rest
    of a test id: ``sum`` must not pull in every entry's ``..._sum_and_zero_grad`` law)."""
    from properties import mutate

    for m in mutants.CATALOG.values():
        assert mutate.component_tests(m.component), m.name  # raises on an unknown component
    assert mutate.op_selection("sum") == "[sum] or -sum] or [sum_empty] or -sum_empty]"
    with pytest.raises(ValueError, match="matches no registry entry"):
        mutate.op_selection("no_such_op")


@pytest.mark.parametrize("name", list(mutants.CATALOG))
def test_mutant_applies_and_restores_the_original(name):
    if name in mutants.active():
        pytest.skip("this mutant is the one under test in this run")
    before = {}
    for path in mutants.CATALOG[name].patches:
        owner, attr = mutants._resolve(path)
        before[path] = owner.__dict__[attr]
    with mutants.applied(name):
        for path in before:
            owner, attr = mutants._resolve(path)
            assert owner.__dict__[attr] is not before[path], f"{path} was not patched"
    for path, original in before.items():
        owner, attr = mutants._resolve(path)
        assert owner.__dict__[attr] is original, f"{path} was not restored"


def test_a_kill_by_a_test_that_fails_unmutated_is_void(monkeypatch):
    """The runner re-runs every killing test without a mutant: a kill by a test that fails
    anyway must not count (else a broken suite would 'kill' every mutant)."""
    from properties import mutate

    broken, sound = "tests/test_x.py::test_broken", "tests/test_x.py::test_sound"
    outcomes = [mutate.Outcome("a", "killed", broken, 1.0, {broken: 3}),
                mutate.Outcome("b", "killed", broken, 1.0, {broken: 2, sound: 5})]
    monkeypatch.setattr(mutate, "_run_unmutated",
                        lambda chunk, *_: (1, "".join(f"FAILED {t}\n" for t in chunk
                                                     if t == broken)))
    problems = mutate.check_killers(outcomes, "mutants", 60.0, 2, None)
    assert problems == [f"fails without a mutant: {broken}"]
    assert outcomes[0].status == "error" and broken in outcomes[0].note
    assert outcomes[1].status == "killed" and outcomes[1].kills == {sound: 5}
    assert outcomes[1].first_failure == sound


# ----------------------------------------------------------------------------- profiles


def test_profiles_exist_with_the_promised_budgets():
    ci, thorough = settings.get_profile("ci"), settings.get_profile("thorough")
    assert settings.get_profile("dev").max_examples < ci.max_examples
    assert thorough.max_examples >= 10 * ci.max_examples
    assert ci.deadline is None
    # ci replays the hunts' findings (read-only); the hunt profile writes them, same place
    hunt = settings.get_profile("hunt")
    assert isinstance(ci.database, ReadOnlyDatabase)
    assert hunt.database == ci.database._wrapped and hunt.max_examples == thorough.max_examples


def test_pinned_profiles_give_every_hypothesis_test_a_seed_from_its_name(request):
    """Under ci (and contract, mutants) runs repeat exactly: each test's seed is its name's."""
    if settings.get_current_profile_name() not in ("ci", "contract", "mutants"):
        pytest.skip("the seeds are pinned only under the ci, contract and mutants profiles")
    tests = [item.obj for item in request.session.items if hasattr(item.obj, "hypothesis")]
    if not tests:
        pytest.skip("no Hypothesis test is selected in this run")
    for test in tests:
        name = f"{test.__module__}.{test.__qualname__}".encode()
        assert test._hypothesis_internal_use_seed == zlib.crc32(name), name


# ----------------------------------------------------------------------------- registry


def test_registry_covers_the_core_api():
    required = {
        "add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv", "neg", "pow", "matmul",
        "sum", "mean", "max", "min", "reshape", "view", "transpose", "permute", "getitem",
        "getitem_repeats", "exp", "log", "sqrt", "abs", "clip", "where", "concatenate",
        "stack", "maximum", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "gelu_tanh",
        "softmax", "log_softmax", "linear", "dropout_eval", "mse_loss", "cross_entropy",
        "binary_cross_entropy", "bce_with_logits",
    }
    assert required <= {op.name for op in OPS}


# ----------------------------------------------------------------------------- architecture

ALLOWED = {
    "tinytorch": {"tinytorch", "numpy"},
    "oracles": {"oracles", "torch", "numpy"},
    "properties": {"properties", "oracles", "numpy", "hypothesis"},
    "tests": {"properties", "oracles", "numpy", "torch", "hypothesis", "pytest"},
}
THIRD_PARTY = {"tinytorch", "oracles", "properties", "tests", "numpy", "torch", "hypothesis",
               "pytest"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & THIRD_PARTY


@pytest.mark.parametrize("layer", list(ALLOWED))
def test_imports_point_one_way(layer):
    """tinytorch <- (adapter) properties -> oracles; tests bind properties. Nothing upward."""
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) - ALLOWED[layer])
        for p in (ROOT / layer).rglob("*.py")
        if _imports(p) - ALLOWED[layer]
    }
    assert not offenders, f"imports across the layers: {offenders}"


@pytest.mark.parametrize("name", list(mutants.CATALOG))
def test_the_adapter_resolves_names_to_what_a_mutant_patched(name):
    """A declared name re-exported by another module (``core.training.clip_grad_norm``) must
    resolve to its defining module's current binding, or a patch there goes untested."""
    from properties import api, target

    if name in mutants.active():
        pytest.skip("this mutant is the one under test in this run")
    defined_here = set()
    for path in mutants.CATALOG[name].patches:  # patches of a name where it is defined
        module, *attrs = path.split(".")
        if len(attrs) == 1 and attrs[0] in api.BY_NAME:
            owner, attr = mutants._resolve(path)
            if getattr(getattr(owner, attr), "__module__", None) == owner.__name__:
                defined_here.add(path)
    with mutants.applied(name):
        for path in defined_here:
            owner, attr = mutants._resolve(path)
            assert target.get().find(attr) is getattr(owner, attr), path


# ----------------------------------------------------------------------------- reports


# Bugs planted together, one per property family, and the test each must make fail.
PLANTED = {
    "trainer": ("trainer_accumulation_not_divided",
                "tests/test_trainer.py::test_accumulated_micro_batches_equal_one_large_batch"),
    "optimizer": ("adam_without_bias_correction",
                  "tests/test_optimizers.py::test_every_step_matches_torch[Adam]"),
    "stateful": ("adam_without_bias_correction",
                 "tests/test_training_stateful.py::TestLockstepAdam::runTest"),
    "schedule": ("cosine_off_by_one_epoch",
                 "tests/test_schedules.py::test_cosine_matches_torch_and_its_laws"),
}


@pytest.mark.slow
def test_a_failing_run_leaves_json_records_a_summary_and_repro_scripts_that_replay(tmp_path):
    """Under planted bugs, each failing property (Trainer, optimizer, stateful machine,
    schedule) leaves one JSON record with the documented fields, the run a summary.md grouped
    by root cause, and each record a script that exits 1 while the bug is there and 0 without
    it (what ``git bisect run`` needs). One pytest run and one replay process: each new
    process costs seconds of imports."""
    planted = sorted({mutant for mutant, _ in PLANTED.values()})
    env = dict(os.environ, TINYTORCH_MUTANT=",".join(planted),
               TINYTORCH_REPRO_DIR=str(tmp_path / "repro"), TINYTORCH_PROFILE="mutants")
    env.pop("CI", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist", f"--report-dir={tmp_path / 'report'}",
                          *(test for _, test in PLANTED.values())],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout[-3000:]
    records_by_test = {}
    for path in (tmp_path / "report" / "failures").glob("*.json"):
        record = json.loads(path.read_text())
        records_by_test[record["test"]] = record
    assert set(records_by_test) == {test for _, test in PLANTED.values()}, run.stdout[-3000:]
    for record in records_by_test.values():
        assert record["schema"] == "tinytorch-harness/failure/1"
        assert record["replay_command"].startswith("pytest ") and record["reproduce_blob"]
        assert Path(record["repro_script"]).exists()

    cosine = records_by_test[PLANTED["schedule"][1]]
    assert cosine["component"] == "CosineSchedule" and cosine["property"] == "torch"
    assert cosine["worst"]["ratio"] > 1 and cosine["worst"]["absolute"]["index"] is not None
    assert cosine["curve"]["label"] == "learning rate by epoch"
    assert len(cosine["curve"]["target"]) == len(cosine["curve"]["reference"]) >= 2
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "### CosineSchedule" in summary and "| torch |" in summary
    assert "harness report" in run.stdout and f"{len(PLANTED)} failing tests in " in run.stdout

    scripts = [Path(records_by_test[test]["repro_script"]) for _, test in PLANTED.values()]
    replays = replay_scripts([(script, planted) for script in scripts]
                             + [(script, []) for script in scripts])
    for family, script, broken, fixed in zip(PLANTED, scripts, replays, replays[len(scripts):]):
        assert broken.stdout.startswith("replaying against tinytorch at "), broken.stdout
        assert broken.returncode == 1, f"{family}: {broken.stdout}"
        assert fixed.returncode == 0, f"{family}: {script.read_text()}{fixed.stdout}"
