"""The capstone (module 20): real workloads learn what they should on the target, their first
steps equal a torch twin's, and compression and inference keep what was learned.

Scenarios, not properties: fixed data, fixed initial weights (properties.capstone). Every
bound below was measured on the bundled tinytorch and is stated with its margin; a correct
target starts from the same weights and walks the same trajectory up to rounding.
"""

import numpy as np
import pytest

from properties import capstone as C
from properties import memoization, target
from properties.report import expect_close
from properties.tolerances import tolerance_for

pytestmark = pytest.mark.plan(
    "20:core", "20:real_world", "20:integration", "20:gradient_flow", "20:numerical_stability",
    "08:real_world", "09:real_world", "10:real_world", "13:real_world", "15:real_world",
    "16:real_world", "15:integration", "16:integration", "20:shapes")

TWIN_STEPS = 20


def _accuracy(name):
    run, got = C.scenario(name), C.trained(name)
    return run, got.accuracy, f"{name}: test accuracy {got.accuracy:.3f}"


def test_xor_mlp_classifies_all_four_points():
    """2-8-2 tanh MLP, Adam, 150 full-batch steps (bundled: 1.000, loss 0.0003)."""
    run, accuracy, said = _accuracy("xor")
    assert accuracy == 1.0, f"{said} < required 1.0 after {run.steps} steps"


def test_binary_digits_3_vs_8_with_binary_cross_entropy():
    """64-8-1 tanh MLP with a sigmoid head and BinaryCrossEntropyLoss, 100 full-batch Adam
    steps; 71 held-out digits (bundled: 1.000)."""
    run, accuracy, said = _accuracy("digits 3 vs 8")
    assert accuracy >= 0.95, f"{said} < required 0.95 after {run.steps} steps"


def test_digits_mlp_reaches_its_test_accuracy():
    """64-32-10 tanh MLP, Adam lr 0.01, 120 batches of 128; 359 held-out digits (bundled:
    0.975)."""
    run, accuracy, said = _accuracy("digits MLP")
    assert accuracy >= 0.93, f"{said} < required 0.93 after {run.steps} steps"


def test_digits_cnn_reaches_its_test_accuracy():
    """conv 3x3 (8 channels) -> tanh -> avg-pool 2 -> flatten -> linear on 1x8x8, Adam lr
    0.02, 150 batches of 64; 359 held-out digits (bundled: 0.953)."""
    run, accuracy, said = _accuracy("digits CNN")
    assert accuracy >= 0.90, f"{said} < required 0.90 after {run.steps} steps"


@pytest.mark.plan("17:real_world")
def test_tinygpt_learns_the_corpus_and_samples_deterministically():
    """A 2-layer, 2-head, 32-wide GPT over the corpus's characters, 200 Adam steps of 16
    windows of 32: the loss on 64 other windows falls below half of ln(vocab) (bundled: 1.60
    against ln 40 = 3.69, i.e. 0.43; untrained 3.80). Sampling after np.random.seed is the
    same for the same seed, keeps the prompt, gives vocabulary ids only, and its character
    pairs are the corpus's (bundled: all 24 at temperature 0.5, for seeds 0-7; untrained
    0.17-0.38)."""
    run = C.scenario("tinygpt")
    model, _ = run.fit(np.float32)
    loss, bound = C.eval_loss(model), 0.5 * np.log(run.net.vocab)
    assert loss < bound, f"tinygpt: loss {loss:.3f} >= required {bound:.3f} (0.5 ln " \
                         f"{run.net.vocab}) after {run.steps} steps"
    prompt = C.text().ids[:8]
    first, again = (C.generate(model, prompt, 24, temperature=0.5, seed=7) for _ in range(2))
    assert np.array_equal(first, again), f"tinygpt: same seed, different samples: " \
                                         f"{first.tolist()} and {again.tolist()}"
    assert first.shape == (1, 32) and np.array_equal(first[0, :8], prompt), \
        f"tinygpt: generate gave {first.tolist()}, not the prompt {prompt.tolist()} + 24 ids"
    assert np.all((first >= 0) & (first < run.net.vocab)), \
        f"tinygpt: ids outside the vocabulary of {run.net.vocab}: {first.tolist()}"
    # the trained model generates the same greedy tokens with a KV cache as without
    memoization.check_cache_keeps_tokens(model, prompt[None, :], 24, None)
    known = C.known_bigrams(first[0, 7:])
    assert known >= 0.8, f"tinygpt: {known:.2f} of the sampled character pairs occur in the " \
                         f"corpus < required 0.80: {C.text().decode(first[0])!r}"


@pytest.mark.parametrize("name", ["xor", "digits MLP", "digits CNN", "tinygpt"])
def test_first_steps_equal_the_torch_twin(name):
    """The first 20 Adam steps from the same weights on the same batches: every loss equals
    the torch twin's (float64 where the target has it; TRAINING tolerance)."""
    C.check_curve_matches_twin(C.scenario(name), TWIN_STEPS)


@pytest.mark.plan("15:memory_performance")
def test_quantized_digits_mlp_keeps_its_accuracy_and_is_smaller():
    """quantize_model on the trained digits MLP: accuracy within 2 points of the float model's
    (bundled: no change, 0.975) and a compression ratio above 3 (float32 -> int8; bundled
    3.75)."""
    run, float_accuracy = C.scenario("digits MLP"), C.trained("digits MLP").accuracy
    model = C.rebuild("digits MLP")
    ratio = C.quantize(model, C.rebuild("digits MLP"))
    accuracy = run.accuracy(model)
    assert accuracy >= float_accuracy - 0.02, \
        f"quantized digits MLP: test accuracy {accuracy:.3f} < required " \
        f"{float_accuracy - 0.02:.3f} (float {float_accuracy:.3f} - 0.02)"
    assert ratio > 3, f"quantized digits MLP: compression ratio {ratio:.2f} <= required 3"


def test_pruned_digits_mlp_fine_tunes_keeps_its_zeros_and_quantizes():
    """magnitude_prune to 50 %, then 20 Adam steps: half of every weight matrix is zero, the
    pruned entries stay zero through the steps (the optimizers re-apply the masks), and
    accuracy is within 2 points of the float model's, pruned and then also quantized
    (bundled: 0.961 right after pruning, 0.978 fine-tuned, 0.978 quantized)."""
    name, float_accuracy = "digits MLP", C.trained("digits MLP").accuracy
    run, names = C.scenario(name), list(C.trained(name).params)
    model = C.rebuild(name)
    C.prune(model, 0.5)
    weights = C.weight_names(C.trained(name).params)
    pruned = {n: a == 0 for n, a in C.state(model, weights).items()}
    share = C.sparsity(C.state(model, weights))
    assert share >= 0.5, f"pruned digits MLP: sparsity {share:.3f} < required 0.5"
    C.fine_tune(name, model, steps=20, seed=1)
    after = C.state(model, weights)
    regrown = {n: int(np.sum(after[n][pruned[n]] != 0)) for n in weights}
    assert not any(regrown.values()), \
        f"pruned digits MLP: pruned weights became non-zero in fine-tuning: {regrown}"
    accuracy = run.accuracy(model)
    assert accuracy >= float_accuracy - 0.02, \
        f"pruned digits MLP: test accuracy {accuracy:.3f} < required " \
        f"{float_accuracy - 0.02:.3f} (float {float_accuracy:.3f} - 0.02) after 20 steps"
    both = C.rebuild(name, C.state(model, names))
    C.quantize(both, C.rebuild(name, C.state(model, names)))
    accuracy = run.accuracy(both)
    assert accuracy >= float_accuracy - 0.02, \
        f"pruned and quantized digits MLP: test accuracy {accuracy:.3f} < required " \
        f"{float_accuracy - 0.02:.3f} (float {float_accuracy:.3f} - 0.02)"


def test_inference_is_deterministic_and_independent_of_the_batch():
    """The trained digits MLP in eval mode under no_grad: two calls on the test set give the
    same outputs, and each sample alone (batch size 1) gives its row of the full batch (the
    same class; the same logits up to float32 rounding: BLAS may sum in another order)."""
    tt = target.get()
    run = C.scenario("digits MLP")
    model, x = C.rebuild("digits MLP"), run.data().x_test
    full = C.logits(model, run.net.inputs(x, np.float32))
    again = C.logits(model, run.net.inputs(x, np.float32))
    assert np.array_equal(full, again), "digits MLP: a second call gave other outputs"
    alone = np.concatenate([C.logits(model, run.net.inputs(x[i:i + 1], np.float32))
                            for i in range(len(x))])
    differ = np.flatnonzero(C.predictions(alone) != C.predictions(full))
    assert not differ.size, f"digits MLP: samples {differ.tolist()} are classified " \
                            f"differently alone than in the full batch"
    expect_close(alone, full, tolerance_for(np.float32), component="digits MLP",
                 check="batch independence",
                 what="the logits of a sample alone differ from its row of the full batch")
    if tt.has("no_grad"):
        with tt.no_grad():
            out = model(run.net.inputs(x, np.float32))
        assert not getattr(out, "requires_grad", False), "digits MLP: under no_grad the " \
                                                         "output still requires grad"
