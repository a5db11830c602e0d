"""Mutation runner: run the suite once per catalog mutant and demand that each one is killed.

    python -m properties.mutate [--profile P] [--jobs N] [NAME ...]

First the unmutated suite must pass (otherwise every mutant would look killed). Then each
mutant runs in its own pytest process (``TINYTORCH_MUTANT=name``, stop at the first failure),
``--jobs`` at a time. The table gives each mutant's fate and the first test that failed; the
last line reads ``killed K of N mutants`` and the exit status is non-zero if any survived.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from properties.mutants import CATALOG, MUTANT_ENV

ROOT = Path(__file__).resolve().parent.parent
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass
class Outcome:
    name: str
    status: str  # killed | SURVIVED | error
    first_failure: str
    seconds: float


def run_suite(mutant: str | None, profile: str, extra: list[str], timeout: float) -> Outcome:
    env = dict(os.environ, TINYTORCH_PROFILE=profile, PYTHONHASHSEED="0")
    env.pop(MUTANT_ENV, None)
    if mutant:
        env[MUTANT_ENV] = mutant
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider",
           "--hypothesis-profile", profile, *extra]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(mutant or "(none)", "error", f"timed out after {timeout:.0f}s",
                       time.perf_counter() - start)
    seconds = time.perf_counter() - start
    found = FAILED.search(proc.stdout)
    first = found.group(1) if found else ""
    if proc.returncode == 0:
        return Outcome(mutant or "(none)", "SURVIVED" if mutant else "passed", "", seconds)
    if proc.returncode == 1:
        return Outcome(mutant or "(none)", "killed" if mutant else "FAILED", first, seconds)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
    return Outcome(mutant or "(none)", "error", f"pytest exit {proc.returncode}: {tail[0]}",
                   seconds)


def suite_in_kill_order() -> list[str]:
    """Every test file, the op properties first: under -x they kill most mutants in seconds."""
    first = ["tests/test_ops.py", "tests/test_autograd_laws.py"]
    rest = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py"))
    return first + [p for p in rest if p not in first]


def print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.name) for o in outcomes)
    print(f"{'mutant':<{width}}  {'result':<8}  {'secs':>5}  first failing test")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 5}  {'-' * 18}")
    for o in outcomes:
        print(f"{o.name:<{width}}  {o.status:<8}  {o.seconds:5.1f}  {o.first_failure}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: the whole catalog)")
    parser.add_argument("--profile", default="mutants",
                        help="Hypothesis profile (default: mutants = ci without shrinking)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per suite run")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run (only when you just ran it)")
    parser.add_argument("--list", action="store_true", help="print the catalog and exit")
    parser.add_argument("--pytest-args", default="",
                        help="extra pytest arguments, e.g. '-k ops' or a test path")
    args = parser.parse_args(argv)

    if args.list:
        for m in CATALOG.values():
            print(f"{m.name}: {m.bug}")
        return 0
    unknown = [n for n in args.names if n not in CATALOG]
    if unknown:
        parser.error(f"unknown mutants: {', '.join(unknown)}")
    names = args.names or list(CATALOG)
    extra = args.pytest_args.split() or suite_in_kill_order()

    if not args.no_baseline:
        base = run_suite(None, args.profile, ["-n", str(args.jobs), *extra], args.timeout)
        print(f"baseline (no mutant): {base.status} in {base.seconds:.1f}s {base.first_failure}")
        if base.status != "passed":
            print("the unmutated implementation fails the suite: fix that first")
            return 2

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda n: run_suite(n, args.profile, extra, args.timeout),
                                 names))
    print_table(outcomes)
    killed = sum(o.status == "killed" for o in outcomes)
    print(f"killed {killed} of {len(outcomes)} mutants")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
