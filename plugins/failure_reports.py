"""Write every failing property as JSON, and a Markdown summary of the run, to ``--report-dir``.

Per failed test (in whichever process ran it): the repro script goes to ``.repro/`` and one JSON
file to ``REPORT_DIR/failures/`` (schema in the README: the structured failure noted by
:mod:`properties.report`, plus the test id, Hypothesis's reproduce blob, the seed and profile,
and the pytest command that replays it). Per process at the end: the accuracy profile
(``accuracy-<worker>.json``). In the controller at the end: ``summary.md``, the failures grouped
by component and by root cause (component x property) and the accuracy profile, and a short
section of it in the terminal.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from properties import records, report

BLOB = re.compile(r"@reproduce_failure\('([^']+)', (b'[^']*')\)")
SHOWN = 5  # accuracy lines printed in the terminal (summary.md has them all)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--report-dir", default="harness-report", type=Path,
                     help="where failing properties write JSON and the run its summary.md "
                          "(default: harness-report/)")


def _dir(config: pytest.Config) -> Path:
    return Path(config.getoption("report_dir"))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """The controller (or a single process) starts from an empty report."""
    if _is_worker(config):
        return
    base = _dir(config)
    for old in [*base.glob("failures/*.json"), *base.glob("accuracy-*.json")]:
        old.unlink(missing_ok=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    records.take_last()  # a failure noted by an earlier test is not this one's
    records.begin_test(item.path.stem.removeprefix("test_"))


def _replay_command(item: pytest.Item) -> str:
    config = item.config
    parts = ["pytest", item.nodeid, "-p", "no:xdist",
             f"--hypothesis-profile={settings.get_current_profile_name()}"]
    seed = config.getoption("hypothesis_seed", None)
    if seed is not None:
        parts.append(f"--hypothesis-seed={seed}")
    target = config.getoption("tinytorch_target", None)
    if target:
        parts.append(f"--target={target}")
    return shlex.join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    rep = yield
    if rep.when != "call" or not rep.failed:
        return rep
    failure = records.take_last()
    if failure is None:
        return rep
    script = report.write_repro(failure.script_key, failure.script)
    blob = BLOB.search(rep.longreprtext)
    record = failure.as_json(
        test=item.nodeid, reproduce_blob=blob.group(2) if blob else None,
        hypothesis_version=blob.group(1) if blob else None,
        seed=item.config.getoption("hypothesis_seed", None),
        profile=settings.get_current_profile_name(),
        replay_command=_replay_command(item), repro_script=str(script) if script else None)
    path = _dir(item.config) / "failures" / f"{report.slug(item.nodeid)[-150:]}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if failure.curve and _plot(failure.curve, path.with_suffix(".png"), item.nodeid):
            record["plot"] = str(path.with_suffix(".png"))
        path.write_text(json.dumps(record, indent=1, default=str) + "\n")
        rep.sections.append(("harness report", f"repro script: python {script}\n"
                                               f"JSON report: {path}"))
    except OSError:
        pass
    return rep


def _plot(curve: dict[str, Any], path: Path, title: str) -> bool:
    """Target against torch along the series, as a PNG; False without matplotlib (the
    ``plots`` extra) or if drawing fails."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return False
    try:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        nan = float("nan")
        for key, style in (("reference", "-"), ("target", "--")):
            values = [nan if v is None else v for v in curve[key]]
            ax.plot(range(len(values)), values, style, marker="o", markersize=3,
                    label="torch" if key == "reference" else "target")
        ax.set_xlabel(curve["label"].split(" by ")[-1] if " by " in curve["label"] else "index")
        ax.set_ylabel(curve["label"].split(" by ")[0])
        ax.set_title(title[-70:], fontsize=8)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return True
    except Exception:  # noqa: BLE001 - a plot is a convenience; the JSON says it all
        return False


def pytest_sessionfinish(session: pytest.Session) -> None:
    worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
    base = _dir(session.config)
    try:
        base.mkdir(parents=True, exist_ok=True)
        records.dump_accuracy(base / f"accuracy-{worker}.json")
    except OSError:
        pass


def _image(failure: dict[str, Any], base: Path) -> str:
    """The failure's curve as a Markdown image, if one was drawn."""
    plot = failure.get("plot")
    return f" ![curve]({Path(plot).relative_to(base)})" if plot else ""


def _summary(base: Path) -> tuple[str, list[str]]:
    """The Markdown summary and the terminal lines."""
    failures = [json.loads(p.read_text()) for p in sorted(base.glob("failures/*.json"))]
    accuracy = records.merge_accuracy(sorted(base.glob("accuracy-*.json")))
    by_cause: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for f in failures:
        by_cause[(f["component"], f["property"])].append(f)
    md = ["# Harness report", ""]
    if failures:
        md += [f"target: {failures[0]['target']}", ""]
    md += [f"## Failures: {len(failures)} tests, {len(by_cause)} root causes "
           "(component x property)", ""]
    terminal = [f"{len(failures)} failing tests in {len(by_cause)} root causes "
                f"(component x property); details in {base / 'summary.md'}"] if failures else []
    components = sorted({c for c, _ in by_cause})
    for component in components:
        md += [f"### {component}", "", "| property | tests | what | worst error / tolerance |",
               "|---|---|---|---|"]
        for (c, prop), group in sorted(by_cause.items()):
            if c != component:
                continue
            ratios = [g["worst"].get("ratio") for g in group if g["worst"]]
            worst = f"{max(ratios):.3g}" if ratios else "-"
            tests = "<br>".join(f"`{g['test']}`" + _image(g, base) for g in group)
            md.append(f"| {prop} | {tests} | {group[0]['what']} | {worst} |")
            terminal.append(f"  {component} x {prop}: {len(group)} tests "
                            f"(worst error / tolerance {worst}): {group[0]['what'][:80]}")
        md.append("")
    md += ["## Accuracy profile", "",
           "Worst |target - torch| / (atol + rtol |torch|) seen per op, dtype and check "
           "(1 is the edge of the tolerance).", "",
           "| component | dtype | check | worst error / tolerance |", "|---|---|---|---|"]
    md += [f"| {a['component']} | {a['dtype']} | {a['check']} | {a['worst_ratio']:.3g} |"
           for a in accuracy]
    if accuracy:
        terminal.append(f"accuracy profile: {len(accuracy)} (op, dtype, check); closest to "
                        "their tolerance:")
        terminal += [f"  {a['component']} {a['dtype']} {a['check']}: "
                     f"{a['worst_ratio']:.3g} of the tolerance" for a in accuracy[:SHOWN]]
    return "\n".join(md) + "\n", terminal


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    base = _dir(config)
    if not base.exists():
        return
    markdown, lines = _summary(base)
    try:
        (base / "summary.md").write_text(markdown)
    except OSError:
        return
    if lines:
        terminalreporter.section("harness report")
        for line in lines:
            terminalreporter.write_line(line)
