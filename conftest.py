"""Root pytest configuration: Hypothesis profiles, the target under test, and mutants.

Profiles (pick with ``--hypothesis-profile NAME`` or ``TINYTORCH_PROFILE=NAME``):

* ``dev``      few examples, for the edit-test loop; the default on a workstation.
* ``ci``       the default when ``CI`` is set. Enough examples to kill every catalog mutant, and
               deterministic: every Hypothesis test's seed is pinned to its name (same
               examples on every run and every xdist worker) unless a ``--hypothesis-seed``
               is given. It first replays what the hunts found: the shared example database
               ``hunts/examples/`` (committed; read-only here). It *replaces* the ``ci``
               profile Hypothesis registers for itself under ``CI``.
* ``thorough`` 10x the ci examples, randomized, for nightly runs.
* ``hunt``     ``thorough`` writing what fails into ``hunts/examples/``: for long hunts with
               pytest or HypoFuzz (``TINYTORCH_PROFILE=hunt hypothesis fuzz -- tests/``);
               commit the directory and the next CI run replays the findings first.

The implementation under test is ``--target=MODULE_OR_DIR`` (alias ``--tinytorch-target``) or
``TINYTORCH_TARGET`` (default: the bundled ``tinytorch``), see ``properties.locate``; a mutant
from ``properties.mutants`` is applied when ``TINYTORCH_MUTANT`` names one (the mutation runner
sets it; several, comma-separated, are planted together). Shapes are never drawn at collection
time: parametrization is over fixed registry entries, so every xdist worker collects identical
tests.
"""

from __future__ import annotations

import os

# One math thread per xdist worker: with -n auto there is already a worker per core, and a
# BLAS or OpenMP pool per worker on top oversubscribes the cores (threads spin-waiting on
# each other made a CNN fit 8x slower on a loaded 2-core machine). Set before NumPy and
# torch start their pools; an explicit setting in the environment wins.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import signal  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ReadOnlyDatabase

# examples per test (for the mutation runner); JSON per failure and the run summary; under
# mutmut, a mutant's tests fastest first; the seed plan's module x category matrix
pytest_plugins = ["plugins.examples_log", "plugins.failure_reports", "plugins.mutmut_order",
                  "plugins.plan_matrix"]

TARGET_KEY = pytest.StashKey()

CI_EXAMPLES = 30
HUNT_DB = Path(os.environ.get("TINYTORCH_HUNT_DB")
               or Path(__file__).resolve().parent / "hunts" / "examples")
# Profiles whose runs are reproducible: each test's seed is pinned to its name (see
# ``_pin_seeds``). Not ``derandomize``, which would also switch the database off.
PINNED = {"ci", "contract", "mutants"}

settings.register_profile(
    "dev", max_examples=15, deadline=None, print_blob=True,
)
settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=False,
    database=ReadOnlyDatabase(DirectoryBasedExampleDatabase(HUNT_DB)),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=10 * CI_EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "hunt", parent=settings.get_profile("thorough"),
    database=DirectoryBasedExampleDatabase(HUNT_DB),
)
# Contract runs of the suite against fake targets (tests/test_targets.py): few examples,
# the same ones every time, so "every planted bug is found" is a fact, not a probability.
# They ask which tests fail, not for minimal examples: no shrinking (it was most of their time).
CONTRACT_EXAMPLES = 5
settings.register_profile(
    "contract", max_examples=CONTRACT_EXAMPLES, deadline=None, derandomize=False,
    database=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
# Mutation runs: derandomized, no database, no shrinking (a kill needs one failure, not a
# minimal one), and fewer examples than ci: the kill matrix shows every catalog mutant dies
# within a handful of examples, and the runner's budget is the whole catalog in minutes.
MUTANT_EXAMPLES = 25
settings.register_profile(
    "mutants", parent=settings.get_profile("ci"), max_examples=MUTANT_EXAMPLES,
    database=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _default_profile() -> str:
    if os.environ.get("TINYTORCH_PROFILE"):
        return os.environ["TINYTORCH_PROFILE"]
    return "ci" if os.environ.get("CI", "").lower() not in ("", "0", "false") else "dev"


settings.load_profile(_default_profile())


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinytorch-harness")
    group.addoption(
        "--target", "--tinytorch-target", dest="tinytorch_target", default=None,
        help="the TinyTorch under test: a module name, or a directory holding a package named "
             "tinytorch (a checkout). Default: $TINYTORCH_TARGET, else the bundled tinytorch",
    )
    group.addoption(
        "--test-timeout", dest="tinytorch_timeout", type=float, default=600.0,
        metavar="SECONDS", help="per-test time limit (default 600): a test over it fails, "
        "and the run goes on (an endless loop or an exponential backward in the target)",
    )
    group.addoption(
        "--xfails", dest="tinytorch_xfails", default=None, metavar="FILE",
        help="test ids or op names (one per line) known to fail in this target: reported as "
             "XFAIL, and listed at the end if they now pass",
    )


@pytest.hookimpl(trylast=True)  # after Hypothesis's plugin has applied its own options
def pytest_configure(config: pytest.Config) -> None:
    from properties import locate, target

    chosen = config.getoption("tinytorch_target")
    if chosen:
        os.environ[locate.TARGET_ENV] = chosen
    try:
        tt = target.get()
    except (locate.TargetError, ImportError) as e:
        raise pytest.UsageError(str(e)) from e
    config.stash[TARGET_KEY] = tt
    config.addinivalue_line("markers", "bundled_only: tests of the harness and the bundled "
                            "tinytorch itself (mutants, its error wording)")
    from properties import mutants

    for name in mutants.active():
        mutants.activate(name)
    config.pluginmanager.register(Outcomes(config), "tinytorch-outcomes")


def _pin_seeds(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under a pinned profile, give every Hypothesis test a seed made from its name (as
    ``derandomize`` would), so runs repeat exactly, while the database stays on: the reuse
    phase replays the hunts' findings first. ``--hypothesis-seed`` overrides the pins."""
    if (settings.get_current_profile_name() not in PINNED
            or config.getoption("hypothesis_seed", None) is not None):
        return
    for item in items:
        test = getattr(item, "obj", None)
        machine = getattr(item, "cls", None)
        if hasattr(test, "hypothesis") and getattr(test, "_hypothesis_internal_use_seed",
                                                   None) is None:
            seed(zlib.crc32(f"{test.__module__}.{test.__qualname__}".encode()))(test)
        elif machine is not None and machine.__module__ == "hypothesis.stateful":
            # A state machine takes no @seed: derandomize it (no database for it, then).
            machine.settings = settings(machine.settings, derandomize=True, database=None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _pin_seeds(config, items)
    # The long tests (``slow``: whole-suite runs in a subprocess) start first: under -n auto a
    # worker that drew one last would run it alone while the other idles. A stable sort, the
    # same in every worker, as xdist requires.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config: pytest.Config) -> str:
    mutant = os.environ.get("TINYTORCH_MUTANT")
    tt = config.stash[TARGET_KEY]
    return (
        f"tinytorch-harness: target={tt.spec.raw} ({tt.describe()}), "
        f"hypothesis profile={settings.get_current_profile_name()}"
        + (f", MUTANT={mutant}" if mutant else "")
    )


@pytest.fixture(autouse=True)
def _call_each_op_once(request: pytest.FixtureRequest) -> None:
    """For tests parametrized by a registry op: call it once on its simplest input before
    Hypothesis starts (cached per process), so that ``checks.fail_fast`` can fail an op that
    cannot be called at once, instead of shrinking the same TypeError on every example."""
    params = getattr(request.node, "callspec", None)
    op = params.params.get("op") if params else None
    if op is None or not hasattr(op, "sample"):
        return
    from properties import checks

    dtype = params.params.get("dtype") or checks.compute_dtype()
    checks.call_error(op.name, np.dtype(dtype))


# ----------------------------------------------------------------------------- time limit


class TestTimeLimit(BaseException):  # noqa: N818 - reads as the failure it reports
    """Raised by SIGALRM in the test's thread. A BaseException on purpose: Hypothesis retries
    and shrinks on Exception (and on pytest's Failed), which would re-enter the hang."""


def _time_limited(item: pytest.Item, phase: str) -> Any:
    limit = item.config.getoption("tinytorch_timeout")
    if not limit or not hasattr(signal, "setitimer"):
        return (yield)

    def expire(signum: int, frame: Any) -> None:
        raise TestTimeLimit(f"Timeout: {item.nodeid} ran over --test-timeout={limit:g}s in "
                            f"{phase} (a hang or an exponential-time backward in the target?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    return (yield from _time_limited(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    return (yield from _time_limited(item, "the test"))


# ----------------------------------------------------------------------------- outcomes

LACKS = "target lacks "


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def _xfail_entries(path: str) -> list[str]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise pytest.UsageError(f"--xfails {path}: {e.strerror}") from e
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def _xfail_match(item: pytest.Item, entry: str) -> bool:
    """A node id (or its tail, ``test_ops.py::test_x[add-float32]``), or an op name: the
    parametrization ids of the test include it (``add`` matches ``[add-float32]``)."""
    if "::" in entry or entry.startswith("test_"):
        return item.nodeid.endswith(entry) or entry in item.nodeid
    callspec = getattr(item, "callspec", None)
    return callspec is not None and entry in callspec.id.split("-")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """A skip for something the target lacks is raised deep in the adapter (a
    ``unittest.SkipTest``): report it at the test, not at unittest's own file."""
    report = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and LACKS in str(longrepr[2]):
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, longrepr[2])
    return report


class Outcomes:
    """The end-of-run tables: what the target lacks (one line per missing feature, with the
    number of tests it skipped) and which known failures (``--xfails``) now pass."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.lacking: dict[str, int] = {}
        self.now_passing: list[str] = []
        path = config.getoption("tinytorch_xfails")
        self.xfails = _xfail_entries(path) if path else []
        self.xfails_path = path

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        bundled = self.config.stash[TARGET_KEY].spec.is_bundled
        for item in items:
            if not bundled and item.get_closest_marker("bundled_only"):
                item.add_marker(pytest.mark.skip(
                    reason="tests the harness and the bundled tinytorch, not the target"))
            hits = [e for e in self.xfails if _xfail_match(item, e)]
            if hits:
                item.add_marker(pytest.mark.xfail(
                    reason=f"listed in {self.xfails_path}: {hits[0]}", strict=False))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and report.when in ("setup", "call"):
            reason = _skip_reason(report)
            if reason.startswith(LACKS):
                key = reason[len(LACKS):].splitlines()[0]
                self.lacking[key] = self.lacking.get(key, 0) + 1
        if report.when == "call" and report.passed and hasattr(report, "wasxfail"):
            self.now_passing.append(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lacking:
            terminalreporter.section("unsupported by the target (tests skipped)")
            width = max(len(k) for k in self.lacking)
            for what, count in sorted(self.lacking.items(), key=lambda kv: (-kv[1], kv[0])):
                terminalreporter.write_line(f"{what.ljust(width)}  {count:4d} tests")
        if self.now_passing:
            terminalreporter.section(f"listed in {self.xfails_path} but now passing")
            for nodeid in sorted(self.now_passing):
                terminalreporter.write_line(f"XPASS {nodeid}")
