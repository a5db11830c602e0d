"""Whole models against torch twins built from the same weights: a GPT (embeddings, causal
blocks, final norm, head) and a CNN (conv, batch norm, ReLU, pools, flatten, linear). A
mismatch names the first module that differs, forward or backward."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles import models as twins
from properties import models, mutation, samples, target


@given(case=models.gpt_cases())
def test_gpt_logits_and_every_gradient_match_torch(case):
    models.check_gpt_matches_twin(case)


@given(case=models.cnn_cases())
def test_cnn_output_and_every_gradient_match_torch(case):
    models.check_cnn_matches_twin(case)


def _three_block_case():
    """A fixed 3-block GPT: weights from a generator (a unit test of the report, not a
    property: the values only need to be generic)."""
    rng = np.random.default_rng(7)
    shapes = twins.gpt_parameter_shapes(vocab=5, embed=4, num_layers=3, max_seq_len=4)
    params = {name: rng.uniform(-1, 1, shape) for name, shape in shapes.items()}
    return models.GPTCase(5, 4, 3, 2, 4, params, rng.integers(0, 5, (2, 4)),
                          rng.uniform(-1, 1, (2, 4, 5)))


def _report_under(mutant):
    with mutation.applied(mutant), pytest.raises(AssertionError) as failure:
        models.check_gpt_matches_twin(_three_block_case())
    return str(failure.value)


@pytest.mark.bundled_only  # the report's wording, on mutants of the bundled package
def test_a_bug_in_one_layer_norm_of_block_2_is_reported_as_that_layer_norm():
    """The divergence report names the module, the direction and the item, not "parameter
    37 differs": every other module (ln1 of blocks 1 and 3 included) agrees on its own."""
    message = _report_under("layer_norm_backward_bug_in_block_2")
    assert "first differing module: blocks.1.ln1 (LayerNorm), backward: its input gradient" \
        in message, message


@pytest.mark.bundled_only
def test_a_wiring_bug_is_reported_as_the_composite_that_holds_it():
    """Heads merged in the wrong order: each projection agrees alone, the attention does not."""
    message = _report_under("heads_split_and_merged_differently")
    assert "first differing module: blocks.0.attention (MultiHeadAttention), forward" \
        in message, message


@given(data=st.data())
def test_transformer_block_output_and_every_gradient_match_torch(data):
    dtype = target.get().compute_dtype()
    sample = data.draw(samples.multi_head_attention(block=True)(dtype), label="block")
    models.check_block_matches_twin(sample)
