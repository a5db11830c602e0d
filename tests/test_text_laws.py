"""Metamorphic laws of the text stack (no oracle needed): causality, permutation
equivariance, LayerNorm's invariance to shift and scale, a GPT's logits ignoring later
tokens. Inputs are drawn; each law is checked on the target alone."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from oracles import attention as oatt
from properties import metamorphic as law
from properties import models, target
from properties import strategies as S
from properties.report import expect_close
from properties.tolerances import tolerance_for

pytestmark = pytest.mark.plan(
    "11:core", "11:shapes", "12:core", "12:shapes", "12:edge_cases", "13:edge_cases",
    "13:numerical_stability")


@st.composite
def attention_inputs(draw):
    tt = target.get()
    dtype = tt.compute_dtype()
    heads, head_dim = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    batch, seq = draw(st.integers(1, 2)), draw(st.integers(2, 5))
    shape = (batch, seq, heads * head_dim)
    return heads, draw(S.values(dtype, shape), label="x"), draw(S.values(dtype, shape))


@given(inputs=attention_inputs(), data=st.data())
def test_causal_attention_output_ignores_later_positions(inputs, data):
    heads, x, other = inputs
    t = data.draw(st.integers(0, x.shape[1] - 2), label="t")
    mha = law.attention_module(x.shape[-1], heads)
    law.check_causal_attention_ignores_the_future(mha, x, other, t)


@given(inputs=attention_inputs(), data=st.data())
def test_unmasked_attention_is_permutation_equivariant(inputs, data):
    heads, x, _ = inputs
    order = np.asarray(data.draw(st.permutations(range(x.shape[1])), label="order"))
    law.check_attention_commutes_with_permutations(law.attention_module(x.shape[-1], heads),
                                                   x, order)


@given(data=st.data(), scale=st.sampled_from([0.25, 0.5, 2.0, 4.0]))
def test_layer_norm_is_invariant_to_shifting_and_scaling_each_row(data, scale):
    dtype = target.get().compute_dtype()
    rows, width = data.draw(st.integers(1, 3)), data.draw(st.integers(2, 5))
    x = data.draw(S.distinct(dtype, (rows, width), 0.5), label="x")  # no near-constant row
    shift = data.draw(hnp.arrays(dtype, (rows,), elements=st.integers(-8, 8).map(
        lambda k: k / 4)), label="shift")  # multiples of 1/4: shifting x rounds nothing
    law.check_layer_norm_ignores_shift_and_scale(x, shift, scale)


@given(case=models.gpt_cases(max_layers=2), data=st.data())
def test_gpt_logits_at_t_ignore_tokens_after_t(case, data):
    seq = case.ids.shape[1]
    if seq < 2:
        return
    t = data.draw(st.integers(0, seq - 2), label="t")
    other = data.draw(hnp.arrays(np.int64, case.ids.shape,
                                 elements=st.integers(0, case.vocab - 1)), label="later tokens")
    model = models.build_gpt(case, target.get().compute_dtype())
    law.check_gpt_ignores_later_tokens(model, case.ids, other, t)


@given(max_len=st.integers(1, 12), dim=st.integers(1, 9))
def test_sinusoidal_encodings_equal_the_closed_form(max_len, dim):
    """sin on even dims, cos on odd dims, of p / 10000 ** (2i / dim) (torch has no twin:
    the formula, evaluated by torch in float64, is the oracle)."""
    tt = target.get()
    table = tt.array(tt.need("create_sinusoidal_embeddings")(max_len, dim))
    expect_close(table, oatt.sinusoidal(max_len, dim), tolerance_for(table.dtype),
                 component="positions", check="closed form",
                 what=f"create_sinusoidal_embeddings({max_len}, {dim}) differs from the formula")
