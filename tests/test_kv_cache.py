"""Memoization (module 17): a KV cache changes the cost of generation, not its tokens."""

import pytest
from hypothesis import given

from properties import memoization as M

pytestmark = pytest.mark.plan("17:core", "17:integration", "17:memory_performance", "17:edge_cases")


@given(case=M.cache_cases())
def test_cached_greedy_generation_equals_uncached_and_feeds_one_row_per_step(case):
    M.check_cached_generation_equals_uncached(case)


@given(case=M.protocol_cases())
def test_kv_cache_get_returns_exactly_the_stored_positions(case):
    M.check_cache_returns_what_was_stored(case)
