"""Run repro scripts as a person would (``python script.py``: exit 1 while the bug is there,
0 once fixed), several in one fresh process, each under the mutants it names.

One process for all of them, because each new Python process spends two seconds importing
torch; a script runs as ``__main__`` (``runpy``), and the exit code is what ``python script.py``
would return: the code of a ``SystemExit``, 1 for any other uncaught exception, else 0.
Fixtures only: nothing here ships.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_DRIVER = r"""
import contextlib, io, json, runpy, sys, traceback
from properties import mutants

results = []
for script, names in json.loads(sys.argv[1]):
    out, code = io.StringIO(), 0
    with contextlib.ExitStack() as planted:
        for name in names:
            planted.enter_context(mutants.applied(name))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                runpy.run_path(script, run_name="__main__")
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                traceback.print_exc(file=out)
                code = 1
    results.append([code, out.getvalue()])
print(json.dumps(results))
"""


@dataclass(frozen=True)
class Replay:
    returncode: int
    stdout: str  # stdout and stderr together, as a terminal shows them


def replay_scripts(cases: Sequence[tuple[Path, Sequence[str]]]) -> list[Replay]:
    """``[(script, mutants to plant while it runs), ...]`` -> how each run ended."""
    env = {k: v for k, v in os.environ.items() if k not in ("TINYTORCH_MUTANT", "CI")}
    env["PYTHONPATH"] = str(ROOT)
    payload = json.dumps([[str(script), list(names)] for script, names in cases])
    run = subprocess.run([sys.executable, "-c", _DRIVER, payload], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return [Replay(code, out) for code, out in json.loads(run.stdout.splitlines()[-1])]
