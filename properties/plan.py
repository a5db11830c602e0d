"""The seed plan's matrix, made executable: TinyTorch's twenty modules x the ten test
categories of ``comprehensive_module_testing_plan.md``.

Tests say which cells they cover with a marker, ``@pytest.mark.plan("05:gradient_flow",
"09:shapes")`` (module number, category). Registry tests name only the category
(``@pytest.mark.plan("core")``): the module is the op's, from :func:`op_module`. The plugin
``plugins/plan_matrix.py`` builds the matrix from the collected items; a cell the plan marks
not applicable is declared here with the plan's reason; a required cell that no test covers
fails ``tests/test_plan.py``. Print it with ``pytest --collect-only -q --plan-matrix``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

MODULES: dict[str, str] = {
    "01": "tensor", "02": "activations", "03": "layers", "04": "losses", "05": "autograd",
    "06": "optimizers", "07": "training", "08": "dataloader", "09": "spatial",
    "10": "tokenization", "11": "embeddings", "12": "attention", "13": "transformers",
    "14": "profiling", "15": "quantization", "16": "compression", "17": "memoization",
    "18": "acceleration", "19": "benchmarking", "20": "capstone",
}

CATEGORIES: dict[str, str] = {
    "core": "core functionality", "gradient_flow": "gradient flow",
    "integration": "integration", "shapes": "shapes", "edge_cases": "edge cases",
    "numerical_stability": "numerical stability", "memory_performance": "memory & perf.",
    "real_world": "real-world use", "export_import": "export/import",
    "api_consistency": "API consistency",
}

_NO_GRAD = "the plan: no gradients pass through it"
_NO_SHAPES = "the plan: shapes not applicable (analysis, caching or runners)"
_NO_NUMERICS = "the plan: no numerical computation of its own"
_SPEED = ("speed is measured by benchmarks (python -m properties.benchmarks), never asserted "
          "in a test (rule 5)")

# (module, category) -> why the plan marks the cell not applicable.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("01", "gradient_flow"): "the plan: the foundation, no gradients yet",
    ("01", "integration"): "the plan: no previous module",
    ("08", "gradient_flow"): "the plan: data only",
    ("08", "numerical_stability"): _NO_NUMERICS,
    ("10", "gradient_flow"): "the plan: text processing",
    ("10", "numerical_stability"): _NO_NUMERICS,
    ("10", "memory_performance"): _SPEED,
    ("02", "memory_performance"): _SPEED,
    ("04", "memory_performance"): _SPEED,
    ("06", "memory_performance"): _SPEED,
    ("11", "memory_performance"): _SPEED,
    ("14", "gradient_flow"): _NO_GRAD, ("14", "shapes"): _NO_SHAPES,
    ("14", "numerical_stability"): _NO_NUMERICS,
    ("15", "gradient_flow"): "the plan: post-training (no quantization-aware training here)",
    ("16", "gradient_flow"): "the plan: post-training (the mask's effect on training is "
                             "covered under integration)",
    ("17", "gradient_flow"): _NO_GRAD, ("17", "shapes"): _NO_SHAPES,
    ("17", "numerical_stability"): _NO_NUMERICS,
    ("18", "gradient_flow"): _NO_GRAD, ("18", "shapes"): _NO_SHAPES,
    ("18", "memory_performance"): _SPEED, ("19", "memory_performance"): _SPEED,
    ("18", "numerical_stability"): _NO_NUMERICS,
    ("19", "gradient_flow"): _NO_GRAD, ("19", "shapes"): _NO_SHAPES,
    ("19", "numerical_stability"): _NO_NUMERICS,
}

# Upstream's home module of each public name (properties/api.py) -> plan module.
API_MODULES: dict[str, str] = {
    "core.tensor": "01", "core.activations": "02", "core.layers": "03", "core.losses": "04",
    "core.autograd": "05", "core.optimizers": "06", "core.training": "07", "data.loader": "08",
    "core.spatial": "09", "core.tokenization": "10", "core.embeddings": "11",
    "core.attention": "12", "core.transformer": "13", "perf.profiling": "14",
    "perf.quantization": "15", "perf.compression": "16", "perf.memoization": "17",
    "perf.acceleration": "18", "bench": "19", "capstone": "20",
}

# Registry families -> module; a few entries belong elsewhere by name.
_FAMILY_MODULE = {"tensor": "01", "activation": "02", "layer": "03", "loss": "04",
                  "attention": "12", "kernel": "18"}
_NAME_MODULE = (("conv", "09"), ("pool", "09"), ("flatten", "09"), ("batch_norm", "09"),
                ("embedding", "11"), ("positional", "11"), ("layer_norm", "13"),
                ("mlp", "13"), ("dropout", "03"), ("linear", "03"))


def op_module(name: str, family: str) -> str:
    """The plan module of a registry entry."""
    for fragment, module in _NAME_MODULE:
        if fragment in name and family != "kernel":
            return module
    return _FAMILY_MODULE.get(family, "01")


def parse(cell: str, op_modules: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``"05:gradient_flow"`` -> [("05", "gradient_flow")]; a bare category applies to the
    modules of the item's registry ops."""
    module, _, category = cell.rpartition(":")
    modules = [module] if module else list(op_modules)
    if category not in CATEGORIES:
        raise ValueError(f"plan marker: unknown category {category!r} (known: "
                         f"{', '.join(CATEGORIES)})")
    for m in modules:
        if m not in MODULES:
            raise ValueError(f"plan marker: unknown module {m!r}")
    if not modules:
        raise ValueError(f"plan marker: bare category {category!r} on a test with no "
                         "registry op")
    return [(m, category) for m in modules]


def matrix(covered: Iterable[tuple[str, tuple[str, str]]]) -> dict[tuple[str, str], list[str]]:
    """(module, category) -> the tests (by function name) that cover it."""
    cells: dict[tuple[str, str], set[str]] = defaultdict(set)
    for test, cell in covered:
        cells[cell].add(test)
    return {cell: sorted(tests) for cell, tests in cells.items()}


def empty_cells(cells: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    return [(m, c) for m in MODULES for c in CATEGORIES
            if (m, c) not in NOT_APPLICABLE and not cells.get((m, c))]


def markdown(cells: dict[tuple[str, str], list[str]], detail: bool = True) -> str:
    """The matrix (counts, ``n/a``, or ``EMPTY``), then each cell's tests."""
    head = "| module | " + " | ".join(CATEGORIES.values()) + " |"
    lines = [head, "|" + "---|" * (len(CATEGORIES) + 1)]
    for m, name in MODULES.items():
        row = []
        for c in CATEGORIES:
            if (m, c) in NOT_APPLICABLE:
                row.append("n/a")
            else:
                row.append(str(len(cells.get((m, c), []))) or "EMPTY")
        lines.append(f"| {m} {name} | " + " | ".join(r if r != "0" else "**EMPTY**"
                                                      for r in row) + " |")
    if detail:
        lines.append("")
        for m, name in MODULES.items():
            lines.append(f"### {m} {name}")
            for c, label in CATEGORIES.items():
                if (m, c) in NOT_APPLICABLE:
                    lines.append(f"- {label}: n/a ({NOT_APPLICABLE[(m, c)]})")
                else:
                    tests = cells.get((m, c), [])
                    lines.append(f"- {label}: " + (", ".join(tests) if tests else "**EMPTY**"))
    return "\n".join(lines)
