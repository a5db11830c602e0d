"""Whole models against torch twins built from the same weights: a GPT (embeddings, causal
blocks, final norm, head) and a CNN (conv, batch norm, ReLU, pools, flatten, linear). A
mismatch names the first module that differs, forward or backward."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles import models as twins
from properties import models, mutation, samples, target

pytestmark = pytest.mark.plan(
    "09:integration", "11:integration", "12:integration", "13:core", "13:gradient_flow",
    "13:integration", "13:shapes", "13:numerical_stability", "11:gradient_flow",
    "12:gradient_flow", "09:gradient_flow")


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


def _prompt(case, new):
    """The first row of the case's ids as a prompt, and a number of new tokens, such that the
    whole sequence fits max_seq_len (upstream's generate does not cut the context)."""
    new = max(1, min(new, case.max_seq_len - 1))
    length = max(1, min(case.ids.shape[1], case.max_seq_len - new))
    return case.ids[:1, :length], min(new, case.max_seq_len - length)


@given(case=models.gpt_cases(max_layers=2), new=st.integers(1, 3))
def test_generate_extends_the_prompt_and_is_deterministic_given_the_seed(case, new):
    """generate(prompt, n) returns the prompt followed by n in-vocabulary ids; sampling with
    NumPy's generator seeded alike gives the same tokens twice."""
    tt = target.get()
    model = models.build_gpt(case, tt.compute_dtype())
    prompt, new = _prompt(case, new)
    runs = []
    for _ in range(2):
        np.random.seed(1234)
        runs.append(tt.array(model.generate(tt.tensor(prompt.astype(np.float32)),
                                            max_new_tokens=new)).astype(np.int64))
    first = runs[0]
    assert first.shape == (1, prompt.shape[1] + new), f"generate gave shape {first.shape}"
    assert np.array_equal(first[:, : prompt.shape[1]], prompt), "the prompt was not kept"
    assert np.all((first >= 0) & (first < case.vocab)), f"ids outside the vocabulary: {first}"
    assert np.array_equal(runs[0], runs[1]), f"same seed, different tokens: {runs}"


@given(case=models.gpt_cases(max_layers=2, distinct_logits=True), new=st.integers(1, 3))
def test_greedy_generation_appends_the_arg_max_of_the_last_position(case, new):
    """With temperature 0 each new token is the arg-max of the logits at the last position
    of the sequence so far (the target's own forward is the closed form)."""
    tt = target.get()
    model = models.build_gpt(case, tt.compute_dtype())
    prompt, new = _prompt(case, new)
    try:
        out = tt.array(model.generate(tt.tensor(prompt.astype(np.float32)), max_new_tokens=new,
                                      temperature=0.0)).astype(np.int64)
    except (ZeroDivisionError, ValueError, FloatingPointError) as e:
        raise tt.lacking(f"core.transformer.GPT.generate(temperature=0) (greedy): {e}") from e
    ids = prompt
    for _ in range(new):
        logits = tt.array(model(tt.tensor(ids.astype(np.float32))))[:, -1]
        ids = np.concatenate([ids, logits.argmax(axis=-1)[:, None]], axis=1)
    assert np.array_equal(out, ids), f"greedy generate gave {out.tolist()}, the arg-max " \
                                     f"chain {ids.tolist()}"
