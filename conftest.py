"""Root pytest configuration: Hypothesis profiles, the target under test, and mutants.

Profiles (pick with ``--hypothesis-profile NAME`` or ``TINYTORCH_PROFILE=NAME``):

* ``dev``      few examples, for the edit-test loop; the default on a workstation.
* ``ci``       the default when ``CI`` is set. Enough examples to kill every catalog mutant,
               derandomized (same examples on every run and every xdist worker) unless a
               ``--hypothesis-seed`` is given, in which case that seed drives generation.
               It *replaces* the ``ci`` profile Hypothesis registers for itself under ``CI``
               (also derandomized, no database), keeping those choices and setting our count.
* ``thorough`` 10x the ci examples, randomized, for nightly hunts.

The implementation under test is ``--tinytorch-target PKG`` or ``TINYTORCH_TARGET`` (default
``tinytorch``); a mutant from ``properties.mutants`` is applied when ``TINYTORCH_MUTANT`` names
one (the mutation runner sets it). Shapes are never drawn at collection time: parametrization
is over fixed registry entries, so every xdist worker collects identical tests.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

CI_EXAMPLES = 60

settings.register_profile(
    "dev", max_examples=15, deadline=None, print_blob=True,
)
settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
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
# Mutation runs: ci's examples, and no shrinking (a kill needs one failure, not a minimal one).
settings.register_profile(
    "mutants", parent=settings.get_profile("ci"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _default_profile() -> str:
    if os.environ.get("TINYTORCH_PROFILE"):
        return os.environ["TINYTORCH_PROFILE"]
    return "ci" if os.environ.get("CI", "").lower() not in ("", "0", "false") else "dev"


settings.load_profile(_default_profile())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tinytorch-target", default=None,
        help="import name of the TinyTorch-API package under test (default: tinytorch)",
    )


@pytest.hookimpl(trylast=True)  # after Hypothesis's plugin has applied its own options
def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--tinytorch-target")
    if target:
        os.environ["TINYTORCH_TARGET"] = target
    if config.getoption("hypothesis_seed", None) is not None and settings.default.derandomize:
        # An explicit seed must win over derandomization (which Hypothesis checks first).
        name = settings.get_current_profile_name()
        settings.register_profile(f"{name}-seeded", parent=settings.get_profile(name),
                                  derandomize=False)
        settings.load_profile(f"{name}-seeded")
    mutant = os.environ.get("TINYTORCH_MUTANT")
    if mutant:
        from properties import mutants

        mutants.activate(mutant)


def pytest_report_header(config: pytest.Config) -> str:
    mutant = os.environ.get("TINYTORCH_MUTANT")
    return (
        f"tinytorch-harness: target={os.environ.get('TINYTORCH_TARGET', 'tinytorch')}, "
        f"hypothesis profile={settings.get_current_profile_name()}"
        + (f", MUTANT={mutant}" if mutant else "")
    )
