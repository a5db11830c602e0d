"""Compression (module 16): pruning masks equal torch.nn.utils.prune's, pruned weights stay
zero while the model trains (in lockstep with torch's pruned twin), sparsity is reported,
and a low-rank approximation is the Eckart-Young optimum."""

import pytest
from hypothesis import given

from properties import compression as C

pytestmark = pytest.mark.plan(
    "16:core", "16:integration", "16:shapes", "16:numerical_stability", "16:edge_cases")


@pytest.mark.plan("16:memory_performance")  # the requested sparsity is what is achieved
@given(case=C.prune_cases())
def test_pruning_masks_equal_torch_prune_and_sparsity_is_reported(case):
    C.check_masks_match_torch(case)


@given(case=C.train_pruned_cases())
def test_pruned_weights_stay_zero_while_training_in_lockstep_with_torch(case):
    C.check_pruned_weights_stay_pruned_while_training(case)


@given(case=C.low_rank_cases())
def test_low_rank_approximation_is_the_eckart_young_optimum(case):
    C.check_low_rank_is_optimal(case)
