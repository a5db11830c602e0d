"""Conformance report: which of upstream TinyTorch's public names a target provides, per module.

    python -m properties.conformance --target=~/TinyTorch      # or a module name
    python -m properties.conformance --all                    # also the harness's extras

For every name declared in :mod:`properties.api` (upstream's, or all with ``--all``) it prints
one line: ``ok`` (same parameters as upstream), ``extends`` (upstream's parameters plus optional
ones), ``differs`` (a parameter of upstream's is missing or renamed, or a default changed),
``lacks`` (not found in any of its known modules), and where the name was found when that is not
upstream's module. It reads signatures only; behaviour is what the test suite judges.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import sys
from dataclasses import dataclass
from typing import Any

from properties import api, locate, target


@dataclass(frozen=True)
class Row:
    module: str
    name: str
    status: str  # ok | extends | differs | lacks | unknown
    detail: str = ""


def _declared_parameters(signature: str) -> list[inspect.Parameter]:
    namespace: dict[str, Any] = {}
    exec(f"def f{signature}: pass", namespace)  # noqa: S102 - our own declarations
    return list(inspect.signature(namespace["f"]).parameters.values())


def _parameters(obj: Any) -> list[inspect.Parameter] | None:
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return None
    return params


def _effective_default(found: Any, name: str, default: Any) -> Any:
    """A dataclass field's ``default_factory`` shows as ``<factory>`` in its signature: the
    value it makes is the default a caller gets."""
    field = getattr(found, "__dataclass_fields__", {}).get(name)
    if field is not None and field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return default


def _plain(params: list[inspect.Parameter]) -> str:
    """A signature without annotations: ``(params, lr, momentum=0.0)``."""
    return "(" + ", ".join(str(p.replace(annotation=inspect.Parameter.empty)) for p in params) + ")"


def compare(found: Any, signature: str | None) -> tuple[str, str]:
    """(status, detail) of a found object against upstream's signature."""
    if signature is None:
        return "ok", ""
    have = _parameters(found)
    if have is None:
        return "unknown", "signature not inspectable"
    want = _declared_parameters(signature)
    by_name = {p.name: p for p in have}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in have)
    problems = []
    for p in want:
        got = by_name.get(p.name)
        if got is None:
            if not takes_kwargs:
                problems.append(f"no parameter {p.name!r}")
            continue
        default = _effective_default(found, p.name, got.default)
        if p.default is not inspect.Parameter.empty and default != p.default:
            has = ("has no default" if default is inspect.Parameter.empty
                   else f"defaults to {default!r}")
            problems.append(f"{p.name} {has}, upstream {p.default!r}")
    if problems:
        return "differs", "; ".join(problems) + f"; has {_plain(have)}"
    extra = [p.name for p in have if p.name not in {w.name for w in want}
             and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if extra:
        return "extends", "adds " + ", ".join(extra)
    return "ok", ""


def report(tt: target.Target, include_all: bool = False) -> list[Row]:
    rows = []
    for d in api.DECLARED:
        if not (d.upstream or include_all):
            continue
        found = tt.find(d.name)
        if found is None:
            rows.append(Row(d.modules[0], d.name, "lacks",
                            "also looked in " + ", ".join(d.modules[1:]) if d.modules[1:] else ""))
            continue
        status, detail = compare(found, d.signature)
        home = getattr(found, "__module__", "") or ""
        if home and not home.endswith(d.modules[0]) and home.startswith(tt.name + "."):
            where = home[len(tt.name) + 1:]
            detail = (f"in {where}; " + detail).rstrip("; ")
        rows.append(Row(d.modules[0], d.name, status, detail))
    return rows


def render(rows: list[Row], description: str) -> str:
    lines = [f"conformance of {description} to upstream TinyTorch's public API", ""]
    modules = list(dict.fromkeys(row.module for row in rows))
    for module in modules:
        lines.append(module)
        lines += [f"  {row.status:8} {row.name}" + (f"  ({row.detail})" if row.detail else "")
                  for row in rows if row.module == module]
    counts = {s: sum(r.status == s for r in rows) for s in ("ok", "extends", "differs", "lacks")}
    lines += ["", ", ".join(f"{n} {s}" for s, n in counts.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get(locate.TARGET_ENV),
                        help="module name or directory holding a tinytorch package")
    parser.add_argument("--all", action="store_true",
                        help="also the names the harness uses beyond upstream's API")
    args = parser.parse_args(argv)
    try:
        tt = target.load(args.target)
    except locate.TargetError as e:
        print(e, file=sys.stderr)
        return 2
    print(render(report(tt, args.all), tt.describe()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
