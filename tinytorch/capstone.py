"""Capstone (upstream module 20, ``tinytorch.capstone``): a model, its benchmark report, and a
submission file that compares a baseline with an optimised model.

The submission is JSON, written atomically (a temporary file in the same directory, flushed,
then renamed), so an interrupted save never leaves half a file.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from typing import Any

import numpy as np

from tinytorch.bench import measure
from tinytorch.core.activations import ReLU
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor

__version__ = "0.1.0"


class SimpleMLP(Module):
    """``fc2(relu(fc1(x)))``."""

    def __init__(self, input_size: int = 10, hidden_size: int = 20, output_size: int = 3) -> None:
        self.fc1 = Linear(input_size, hidden_size)
        self.relu = ReLU()
        self.fc2 = Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.relu(self.fc1(x)))

    def count_parameters(self) -> int:
        return sum(p.data.size for p in self.parameters())


class BenchmarkReport:
    """Accuracy, size and latency of one model on a test set."""

    def __init__(self, model_name: str = "model") -> None:
        self.model_name = model_name
        self.metrics: dict[str, Any] = {}
        self.system_info = {"platform": platform.platform(),
                            "python_version": platform.python_version(),
                            "numpy_version": np.__version__}
        self.timestamp = time.strftime("%Y-%m-%d %H:%M:%S")

    def benchmark_model(self, model: Any, X_test: Tensor, y_test: Any,
                        num_runs: int = 100) -> dict[str, Any]:
        labels = np.asarray(y_test.data if isinstance(y_test, Tensor) else y_test).astype(int)
        if len(labels) != len(X_test.data):
            raise ValueError(f"benchmark_model: {len(X_test.data)} inputs but {len(labels)} "
                             "labels")
        with no_grad():
            predictions = model(X_test).data.argmax(axis=1)
            one = Tensor(X_test.data[:1])
            latency = measure(lambda: model(one), warmup=min(5, num_runs), repeats=num_runs)
        params = sum(p.data.size for p in model.parameters())
        self.metrics = {"parameter_count": int(params),
                        "model_size_mb": params * 4 / (1024 * 1024),
                        "accuracy": float(np.mean(predictions == labels)),
                        "latency_ms_mean": latency.mean, "latency_ms_std": latency.std,
                        "throughput_samples_per_sec": 1000.0 / latency.mean
                        if latency.mean > 0 else float("inf")}
        return self.metrics


def generate_submission(baseline_report: BenchmarkReport,
                        optimized_report: BenchmarkReport | None = None,
                        student_name: str | None = None,
                        techniques_applied: list[str] | None = None) -> dict[str, Any]:
    submission: dict[str, Any] = {
        "tinytorch_version": __version__, "submission_type": "capstone_benchmark",
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%S"),
        "system_info": baseline_report.system_info,
        "baseline": {"model_name": baseline_report.model_name,
                     "metrics": baseline_report.metrics}}
    if student_name is not None:
        submission["student_name"] = student_name
    if optimized_report is not None:
        base, opt = baseline_report.metrics, optimized_report.metrics
        submission["optimized"] = {"model_name": optimized_report.model_name,
                                   "metrics": opt,
                                   "techniques_applied": list(techniques_applied or [])}
        submission["improvements"] = {
            "speedup": base["latency_ms_mean"] / opt["latency_ms_mean"],
            "compression_ratio": base["model_size_mb"] / opt["model_size_mb"],
            "accuracy_delta": opt["accuracy"] - base["accuracy"]}
    return submission


def save_submission(submission: dict[str, Any], filepath: str = "submission.json") -> str:
    """Write ``submission`` as JSON atomically; returns ``filepath``."""
    try:
        text = json.dumps(submission, indent=2, allow_nan=False)
    except ValueError:
        raise ValueError("save_submission: the submission holds NaN or infinity, which JSON "
                         "cannot store") from None
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".submission-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return filepath
