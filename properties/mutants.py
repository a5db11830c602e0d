"""The mutant catalog: every named, documented bug the suite must catch.

A test that cannot fail is a defect. Importing this module registers every catalog
(``mutants_attention``, ``mutants_ops``, ``mutants_edges``, ``mutants_clipping``,
``mutants_data``, ``mutants_optimizers``, ``mutants_schedules``, ``mutants_spatial``,
``mutants_systems``, ``mutants_text``, ``mutants_training``, ``mutants_tokenizers``) in
:data:`CATALOG`; the machinery lives in :mod:`properties.mutation`. The runner is
``python -m properties.mutate``.
"""

from __future__ import annotations

from properties import (  # noqa: F401  (each registers its mutants on import)
    mutants_attention,
    mutants_clipping,
    mutants_data,
    mutants_edges,
    mutants_ops,
    mutants_optimizers,
    mutants_schedules,
    mutants_spatial,
    mutants_systems,
    mutants_text,
    mutants_tokenizers,
    mutants_training,
)
from properties.mutation import (  # noqa: F401  (the public names)
    CATALOG,
    MUTANT_ENV,
    Mutant,
    _resolve,
    activate,
    active,
    applied,
    mutant,
)
