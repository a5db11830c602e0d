"""Mutation runner: every catalog mutant must be killed, and the kill matrix says by what.

    python -m properties.mutate [--profile P] [--jobs N] [--out DIR] [NAME ...]

Each mutant runs in its own pytest process (``TINYTORCH_MUTANT=name``), ``--jobs`` at a time, on
its component's tests only (:data:`COMPONENT_TESTS`), all of them, so the matrix records every
property that kills it and how many examples each needed. A mutant that survives its component is
run against the whole suite (``-x``) to confirm: if something else kills it, its component is
misdeclared and the table says so. Then every test that killed a mutant is run once more without
one: a kill counts only if the test passes unmutated (a test that fails anyway proves nothing),
and this is cheaper than running all the component tests unmutated first. The table is printed;
``kill-matrix.md`` and ``kill-matrix.json`` are written to ``--out``; the exit status is non-zero
if any mutant survived or a killer fails unmutated.

Why it is fast: mutants run in processes forked from a server that already imported torch,
NumPy, Hypothesis and pytest (and what they import late: sympy, libcst), and pytest runs lean
there (plain asserts: no rewriting to compile; no end-of-session garbage collection; no
unrelated plugins; Python's tracebacks, not pytest's), so a mutant costs its tests.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from properties.mutants import CATALOG, MUTANT_ENV
from properties.mutation import EXAMPLES_LOG_ENV as LOG_ENV

ROOT = Path(__file__).resolve().parent.parent
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)
OP_TESTS = ["tests/test_ops.py", "tests/test_autograd_laws.py"]

# Which tests guard each component. ``op:EXPR`` is the registry entries whose test ids match the
# pytest ``-k`` expression EXPR (``op:div`` selects div, rdiv and div_near_zero).
COMPONENT_TESTS: dict[str, list[str]] = {
    # The engine's laws over a spread of ops (broadcasting, matmul, a kink, a loss, indexing,
    # a quotient), not all sixty: an engine bug shows on any op.
    "autograd": ["tests/test_autograd_laws.py", "tests/test_graph.py",
                 "tests/test_gradient_flow.py", "-k",
                 "test_graph or test_gradient_flow or [add] or [matmul] or [relu] "
                 "or [mse_loss] or [getitem] or [div]"],
    "layers": ["tests/test_layers.py"],
    "spatial": ["tests/test_spatial.py"],
    "models": ["tests/test_models.py", "tests/test_text_laws.py"],
    "tokenizers": ["tests/test_tokenizers.py"],
    "quantization": ["tests/test_quantization.py"],
    "compression": ["tests/test_compression.py"],
    "memoization": ["tests/test_kv_cache.py"],
    "profiling": ["tests/test_profiling.py"],
    "benchmarking": ["tests/test_benchmarking.py"],
    "memory": ["tests/test_memory.py"],
    "acceleration": ["tests/test_ops.py", "tests/test_acceleration.py", "-k",
                     "vectorized or tiled or fused or acceleration"],
    "conformance": ["tests/test_conformance.py"],
    "tensor": ["tests/test_tensor_api.py"],
    "errors": ["tests/test_errors.py"],
    "dtypes": ["tests/test_dtypes.py"],
    "data": ["tests/test_dataloader.py"],
    "optimizers": ["tests/test_optimizers.py"],
    "atomic": ["tests/test_atomic.py"],  # a step or load that raises changes nothing
    "stateful": ["tests/test_training_stateful.py"],  # the lockstep machine against torch
    "clipping": ["tests/test_clipping.py"],
    "schedules": ["tests/test_schedules.py"],
    "trainer": ["tests/test_trainer.py", "tests/test_convergence.py"],
    "checkpoint": ["tests/test_checkpoint.py", "tests/test_trainer.py", "-k",
                   "checkpoint or resume"],
}


def component_tests(component: str) -> list[str]:
    """The pytest arguments for a component: ``op:EXPR`` is the registry entries matching
    EXPR; ``NAME:EXPR`` is NAME's files narrowed to the tests matching EXPR (a trainer bug
    in evaluate() need not run the whole training loop's properties)."""
    if component.startswith("op:"):
        return [*OP_TESTS, "-k", op_selection(component[3:])]
    name, _, expr = component.partition(":")
    tests = COMPONENT_TESTS[name]
    if not expr:
        return tests
    if "-k" in tests:
        raise ValueError(f"component {name} already narrows with -k: no {component!r}")
    return [*tests, "-k", expr]


def op_selection(expr: str) -> str:
    """A ``-k`` expression selecting exactly the op tests of the registry entries whose names
    match EXPR (each word a substring of the name: ``div`` is div, rdiv and div_near_zero).

    Matched against the entry names, not against whole test ids: there ``sum`` also matched
    ``test_two_backward_calls_sum_and_zero_grad_resets`` of every entry, and ``max`` every
    softmax, so a mutant of one op ran the laws of all sixty. An entry's tests end in
    ``[dtype-name]`` or ``[name]``; the ``-k`` words say exactly that."""
    from _pytest.mark.expression import Expression

    from properties.registry import OPS

    wanted = Expression.compile(expr)
    names = [op.name for op in OPS
             if wanted.evaluate(lambda word, op=op, **_: word.lower() in op.name.lower())]
    if not names:
        raise ValueError(f"op:{expr} matches no registry entry")
    return " or ".join(f"[{name}] or -{name}]" for name in names)


@dataclass
class Outcome:
    name: str
    status: str  # killed | SURVIVED | error | passed | FAILED (baseline)
    first_failure: str
    seconds: float
    kills: dict[str, int | None] = field(default_factory=dict)  # test id -> examples needed
    note: str = ""


def _pytest(mutant: str | None, profile: str, args: list[str], timeout: float,
            log: Path | None = None) -> tuple[int | None, str, float]:
    env = dict(os.environ, TINYTORCH_PROFILE=profile, PYTHONHASHSEED="0", **CHILD_ENV)
    env.pop(MUTANT_ENV, None)
    env.pop(LOG_ENV, None)
    if mutant:
        env[MUTANT_ENV] = mutant
    if log:
        env[LOG_ENV] = str(log)
    cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
           "--hypothesis-profile", profile, *args]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f}s", time.perf_counter() - start
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def _kills(log: Path) -> dict[str, int | None]:
    if not log.exists():
        return {}
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return {r["test"]: r["examples"] for r in rows if r["outcome"] == "failed"}


# Imported once by the forkserver, inherited by every mutant's process. Library modules only,
# never the harness's own (the registry must be imported after the mutant is planted), and
# only ones a mutant's process would import anyway: imported here, they are the same modules,
# not imported again each time. The last two were 1.3 s of every op mutant's process: sympy,
# which torch imports at the first ``torch.autograd.grad``, and libcst, which Hypothesis's
# pytest plugin imports to report a failing test (every kill).
HEAVY = ["torch", "numpy", "hypothesis", "hypothesis.extra.numpy", "pytest",
         "torch.fx.experimental.symbolic_shapes", "hypothesis.extra._patching"]
# pytest as the forked children run it: pass/fail is all they report, so no assertion rewriting
# (0.4 s of compiling a run), no gc.collect() x 5 at exit over torch's heap (0.35 s), no anyio,
# and a failure's traceback as Python prints it: pytest's own parses the source file of every
# frame, whatever --tb says (0.05 s a failing test, and a mutant fails up to 50; the FAILED
# lines the runner reads are the same). A mutant's failure reports and repro scripts are
# scratch: they go here, not into the user's harness-report/ and .repro/.
SCRATCH = Path(tempfile.gettempdir()) / "tinytorch-harness-mutants"
LEAN = ["--assert=plain", "-p", "no:unraisableexception", "-p", "no:anyio", "--tb=native",
        f"--report-dir={SCRATCH / 'report'}"]
# Every child, forked or spawned: one torch thread (fork-safe), repro scripts to scratch.
CHILD_ENV = {"OMP_NUM_THREADS": "1", "TINYTORCH_REPRO_DIR": str(SCRATCH / "repro")}


def _pytest_in_this_process(name: str | None, profile: str, log: str, limit: float,
                            tests: list[str]) -> tuple[int | None, str, float]:
    """Run ``tests`` (with mutant ``name`` applied, if any) as ``python -m pytest`` would,
    inside this (fresh, forked) process: the laws never import pytest, the runner only runs
    it."""
    import contextlib
    import io
    import runpy

    os.environ.update({"TINYTORCH_PROFILE": profile, LOG_ENV: log, **CHILD_ENV})
    if name:
        os.environ[MUTANT_ENV] = name
    else:
        os.environ.pop(MUTANT_ENV, None)
    os.chdir(ROOT)
    sys.argv = ["pytest", "-q", "-rfE", "-p", "no:cacheprovider", "-p", "no:xdist", *LEAN,
                "--hypothesis-profile", profile, f"--test-timeout={limit:g}", *tests]
    out = io.StringIO()
    start = time.perf_counter()
    code: Any = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            runpy.run_module("pytest", run_name="__main__", alter_sys=True)
        except SystemExit as done:
            code = done.code
    return (int(code) if code is not None else 0), out.getvalue(), time.perf_counter() - start


def run_component(name: str, profile: str, timeout: float,
                  pool: Any | None) -> tuple[int | None, str, float, dict[str, int | None]]:
    """A mutant's component tests: in a process forked from one that already imported torch
    and Hypothesis (``pool``, saving ~1.5 s a mutant), or in a plain subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "examples.jsonl"
        if pool is not None:
            try:
                code, out, secs = pool.submit(
                    _pytest_in_this_process, name, profile, str(log), timeout,
                    component_tests(CATALOG[name].component)).result(timeout=timeout * 3)
            except Exception as e:  # noqa: BLE001 - a crashed or hung child is an error row
                code, out, secs = None, f"{type(e).__name__}: {e}", timeout
        else:
            code, out, secs = _pytest(name, profile, ["-p", "no:xdist", *LEAN,
                                                      *component_tests(CATALOG[name].component)],
                                      timeout, log)
        return code, out, secs, _kills(log)


def run_mutant(name: str, profile: str, timeout: float, pool: Any | None = None) -> Outcome:
    """The component's tests in full; the whole suite only to confirm a survivor."""
    code, out, secs, kills = run_component(name, profile, timeout, pool)
    if code is None or code not in (0, 1):
        tail = out.strip().splitlines()[-1:] or ["?"]
        return Outcome(name, "error", f"pytest exit {code}: {tail[0]}", secs)
    if code == 1:
        first = FAILED.search(out)
        return Outcome(name, "killed", first.group(1) if first else "", secs, kills)
    code, out, more = _pytest(name, profile, ["-x", "-n", "0", *LEAN, *suite_in_kill_order()],
                              timeout)
    if code == 1:
        first = FAILED.search(out)
        return Outcome(name, "killed", first.group(1) if first else "", secs + more,
                       note="killed outside its component: fix its component")
    return Outcome(name, "SURVIVED" if code == 0 else "error", "", secs + more)


def _run_unmutated(chunk: list[str], profile: str, timeout: float,
                   pool: Any | None) -> tuple[int | None, str]:
    if pool is None:
        code, out, _ = _pytest(None, profile, ["-p", "no:xdist", *LEAN, *chunk], timeout)
        return code, out
    try:
        code, out, _ = pool.submit(_pytest_in_this_process, None, profile, os.devnull, timeout,
                                   chunk).result(timeout=timeout * 3)
    except Exception as e:  # noqa: BLE001 - a crashed child is reported, not raised
        return None, f"{type(e).__name__}: {e}"
    return code, out


def check_killers(outcomes: list[Outcome], profile: str, timeout: float, jobs: int,
                  pool: Any | None) -> list[str]:
    """Run every test that killed a mutant once more, unmutated. A kill by a test that fails
    anyway is void: it is dropped, and a mutant left with no valid kill becomes an error row.
    Returns the problems (failing killers, crashed runs) for the summary."""
    killers = sorted({t for o in outcomes if o.status == "killed"
                      for t in [*o.kills, o.first_failure] if t})
    if not killers:
        return []
    chunks = [killers[i::jobs] for i in range(min(jobs, len(killers)))]
    with ThreadPoolExecutor(max_workers=len(chunks)) as threads:
        runs = list(threads.map(lambda c: _run_unmutated(c, profile, timeout, pool), chunks))
    failing: set[str] = set()
    problems = []
    for chunk, (code, out) in zip(chunks, runs):
        if code not in (0, 1):
            failing.update(chunk)
            problems.append(f"unmutated run of {len(chunk)} killers ended with exit {code}: "
                            f"{(out.strip().splitlines() or ['?'])[-1]}")
        failing.update(FAILED.findall(out))
    problems += [f"fails without a mutant: {t}" for t in sorted(failing & set(killers))]
    for o in outcomes:
        void = failing & {*o.kills, o.first_failure}
        if o.status != "killed" or not void:
            continue
        o.kills = {t: n for t, n in o.kills.items() if t not in void}
        if o.first_failure in void:
            o.first_failure = next(iter(o.kills), "")
        if not o.first_failure:
            o.status = "error"
        o.note = f"void kills by tests that fail unmutated: {', '.join(sorted(void))}"
    return problems


# Seconds per mutant measured by a whole-catalog run on two cores: the start order until this
# checkout's own run has written ``<out>/mutant-seconds.json``.
SHIPPED_TIMINGS = Path(__file__).with_name("mutant_seconds.json")


def longest_first(names: list[str], timings: Path) -> list[str]:
    """The mutants in the order to start them: slowest first, by the seconds each took last
    time (``timings``, else the shipped measurements), never-timed ones before all. With N
    workers, a slow mutant started last runs alone at the end while the others idle; started
    first, it overlaps the many quick ones (longest-processing-time-first scheduling)."""
    seconds = {**_read_timings(SHIPPED_TIMINGS), **_read_timings(timings)}
    return sorted(names, key=lambda n: -seconds.get(n, float("inf")))


def _read_timings(timings: Path) -> dict[str, float]:
    try:
        data = json.loads(timings.read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))} \
        if isinstance(data, dict) else {}


def save_timings(outcomes: list[Outcome], timings: Path) -> None:
    """Merge this run's seconds per mutant into ``timings`` (a partial run keeps the rest)."""
    seconds = _read_timings(timings)
    seconds.update({o.name: round(o.seconds, 2) for o in outcomes})
    timings.write_text(json.dumps(dict(sorted(seconds.items())), indent=1) + "\n")


def suite_in_kill_order() -> list[str]:
    """Every test file, the op properties first: under -x they kill most mutants in seconds."""
    rest = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py"))
    return OP_TESTS + [p for p in rest if p not in OP_TESTS]


def _family(test_id: str) -> str:
    """``tests/test_ops.py::test_backward_matches_torch[float64-div]`` -> the property name
    and the registry entry (dtype dropped): ``backward_matches_torch[div]``."""
    name = test_id.split("::")[-1].removeprefix("test_")
    base, _, param = name.partition("[")
    param = re.sub(r"^float(32|64)-?", "", param.rstrip("]"))
    return f"{base}[{param}]" if param else base


def kill_matrix(outcomes: list[Outcome]) -> tuple[str, dict]:
    """Markdown and JSON: for each mutant, every property family that killed it and the
    fewest examples any of its tests needed."""
    data = {}
    lines = ["| mutant | component | status | killed by (examples needed) |",
             "|---|---|---|---|"]
    for o in outcomes:
        families: dict[str, int | None] = {}
        for test, n in o.kills.items():
            f = _family(test)
            if f not in families or (n is not None and (families[f] or 10**9) > n):
                families[f] = n
        data[o.name] = {"component": CATALOG[o.name].component, "status": o.status,
                        "seconds": round(o.seconds, 1), "killed_by": families,
                        "first_failure": o.first_failure, "note": o.note}
        cell = ", ".join(f"{f} ({n})" for f, n in sorted(families.items())) or o.first_failure
        lines.append(f"| {o.name} | {CATALOG[o.name].component} | {o.status} | {cell} |")
    return "\n".join(lines) + "\n", data


def print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.name) for o in outcomes)
    print(f"{'mutant':<{width}}  {'result':<8}  {'secs':>5}  killers  first failing test")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 5}  {'-' * 7}  {'-' * 18}")
    for o in outcomes:
        print(f"{o.name:<{width}}  {o.status:<8}  {o.seconds:5.1f}  {len(o.kills):>7}  "
              f"{o.first_failure} {o.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: the whole catalog)")
    parser.add_argument("--profile", default="mutants",
                        help="Hypothesis profile (default: mutants = ci without shrinking)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per pytest run")
    parser.add_argument("--out", type=Path, default=ROOT / "harness-report",
                        help="where kill-matrix.md and kill-matrix.json go")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip re-running the killing tests unmutated (only when the "
                             "suite just passed)")
    parser.add_argument("--list", action="store_true", help="print the catalog and exit")
    parser.add_argument("--subprocess", action="store_true",
                        help="run each mutant in a plain subprocess (default: forked from a "
                             "process that already imported torch and Hypothesis)")
    args = parser.parse_args(argv)

    if args.list:
        for m in CATALOG.values():
            print(f"{m.name} [{m.component}]: {m.bug}")
        return 0
    unknown = [n for n in args.names if n not in CATALOG]
    if unknown:
        parser.error(f"unknown mutants: {', '.join(unknown)}")
    names = args.names or list(CATALOG)
    timings = args.out / "mutant-seconds.json"
    start = time.perf_counter()

    os.environ["OMP_NUM_THREADS"] = "1"  # before any fork: torch's threads and fork do not mix
    forks = None
    if not args.subprocess:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(HEAVY)
        forks = ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=context,
                                    max_tasks_per_child=1)
    jobs = max(1, args.jobs)
    problems: list[str] = []
    try:
        order = longest_first(names, timings)
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            ran = threads.map(lambda n: run_mutant(n, args.profile, args.timeout, forks), order)
            by_name = dict(zip(order, ran))
        outcomes = [by_name[n] for n in names]  # reported in catalog order
        mutants_done = time.perf_counter()
        if not args.no_baseline:
            problems = check_killers(outcomes, args.profile, args.timeout, jobs, forks)
            print(f"unmutated check of the killing tests: {len(problems)} problems in "
                  f"{time.perf_counter() - mutants_done:.1f}s")
    finally:
        if forks is not None:
            forks.shutdown()
    print_table(outcomes)
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print("a test that kills a mutant fails without one: fix the implementation or the "
              "test first")
    markdown, data = kill_matrix(outcomes)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kill-matrix.md").write_text(markdown)
    (args.out / "kill-matrix.json").write_text(json.dumps(data, indent=1) + "\n")
    save_timings(outcomes, timings)
    killed = sum(o.status == "killed" for o in outcomes)
    print(f"killed {killed} of {len(outcomes)} mutants in {time.perf_counter() - start:.0f}s; "
          f"kill matrix in {args.out / 'kill-matrix.md'}")
    return 0 if killed == len(outcomes) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
