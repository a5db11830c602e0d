"""Upstream's home of the data-loading classes (module 08); they are defined in
``tinytorch.core.dataloader``."""

from tinytorch.core.dataloader import DataLoader, Dataset, TensorDataset

__all__ = ["DataLoader", "Dataset", "TensorDataset"]
