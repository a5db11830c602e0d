"""The laws: strategies, the op registry, property checks, the target adapter, reports, mutants.

This package reaches the implementation under test only through :mod:`properties.target`.
"""
