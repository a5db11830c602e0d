"""Data loading at upstream's path (module 08, ``tinytorch.data.loader``)."""
