"""The seed integration suites for the CNN and the NLP pipeline, end to end on the target:
every GPT parameter receives a gradient; tokenize, embed, attend, predict, lose, step lowers
the loss; a small CNN learns to tell bars apart. Scenarios, not properties: the target's own
initialisation is part of what is tested, so NumPy's global generator is seeded."""

import numpy as np
import pytest

from properties import target

pytestmark = pytest.mark.plan(
    "09:real_world", "10:integration", "10:real_world", "11:real_world", "12:real_world",
    "13:real_world", "11:integration", "12:gradient_flow")


def _next_token_loss(tt, model, ids):
    logits = model(tt.tensor(ids[:, :-1].astype(np.float32)))
    batch, seq, vocab = tt.array(logits).shape
    targets = tt.tensor(ids[:, 1:].reshape(-1).astype(np.float32))
    return tt.make("CrossEntropyLoss")(logits.reshape(batch * seq, vocab), targets)


def _parameters(model):
    return list(model.parameters())


def test_every_gpt_parameter_receives_a_gradient():
    tt = target.get()
    np.random.seed(0)
    model = tt.make("GPT", 7, 8, 2, 2, max_seq_len=8)
    ids = np.random.randint(0, 7, (2, 6))
    tt.backward(_next_token_loss(tt, model, ids))
    silent = [i for i, p in enumerate(_parameters(model))
              if tt.grad(p) is None or not np.any(tt.grad(p))]
    assert not silent, (f"GPT parameters {silent} (in parameters() order) received no "
                        f"gradient from the next-token loss")


def test_embedding_receives_gradients_and_repeated_tokens_accumulate():
    """The seed's NLP list: a token used twice gets twice the gradient of one used once, a
    token not used gets none (upstream gradient of ones through a sum)."""
    tt = target.get()
    np.random.seed(0)
    table = tt.make("Embedding", 4, 3)
    out = table(tt.tensor(np.array([[1.0, 2.0, 1.0]])))
    tt.backward(out, np.ones((1, 3, 3)))
    grad = tt.grad(tt.param(table, "weight"))
    assert grad is not None, "the embedding table received no gradient"
    np.testing.assert_array_equal(grad, [[0, 0, 0], [2, 2, 2], [1, 1, 1], [0, 0, 0]],
                                  err_msg="rows are not the count of each token's uses")


def test_every_attention_projection_and_the_input_receive_gradients():
    """The seed's known failure (the attention input got no gradient): every projection's
    weight and bias, and the input, receive non-zero gradients."""
    tt = target.get()
    np.random.seed(0)
    mha = tt.make("MultiHeadAttention", 4, 2)
    x = tt.tensor(np.random.randn(2, 3, 4).astype(np.float32), requires_grad=True)
    tt.backward(mha(x), np.random.randn(2, 3, 4))
    grads = {f"{name}.{w}": tt.grad(tt.param(getattr(mha, name), w))
             for name in ("q_proj", "k_proj", "v_proj", "out_proj") for w in ("weight", "bias")}
    silent = [name for name, g in grads.items() if g is None or not np.any(g)]
    assert tt.grad(x) is not None and np.any(tt.grad(x)), "the attention input got no gradient"
    assert not silent, f"attention parameters without a gradient: {silent}"


def test_nlp_pipeline_tokenize_embed_attend_predict_step_lowers_the_loss():
    tt = target.get()
    np.random.seed(0)
    corpus = "the cat sat on the mat. " * 3
    tokenizer = tt.make("CharTokenizer")
    if hasattr(tokenizer, "build_vocab"):
        tokenizer.build_vocab([corpus])
    else:
        tokenizer = tt.make("CharTokenizer", sorted(set(corpus)))
    ids = np.asarray(tokenizer.encode(corpus))
    vocab = max(len(getattr(tokenizer, "vocab", [])), int(ids.max()) + 1)
    windows = np.stack([ids[i:i + 9] for i in range(0, len(ids) - 9, 3)])
    model = tt.make("GPT", vocab, 16, 1, 2, max_seq_len=8)
    optimizer = tt.make("Adam", _parameters(model), lr=0.02)
    losses = []
    for _ in range(30):
        loss = _next_token_loss(tt, model, windows)
        losses.append(float(tt.array(loss)))
        tt.zero_grads(optimizer)
        tt.backward(loss)
        optimizer.step()
    assert losses[-1] < 0.5 * losses[0], f"the loss went from {losses[0]:.3f} to " \
                                         f"{losses[-1]:.3f} in 30 Adam steps"


def _bars(n):
    """n images 1x6x6: a horizontal bar (class 0) or a vertical bar (class 1) at a random
    row or column, plus a little noise."""
    images = np.random.uniform(0, 0.1, (n, 1, 6, 6)).astype(np.float32)
    labels = np.arange(n) % 2
    for i, (label, where) in enumerate(zip(labels, np.random.randint(0, 6, n))):
        if label == 0:
            images[i, 0, where, :] += 1.0
        else:
            images[i, 0, :, where] += 1.0
    return images, labels


def test_cnn_pipeline_learns_to_tell_horizontal_from_vertical_bars():
    tt = target.get()
    np.random.seed(0)
    model = [tt.shortest("Conv2d", 1, 4, 3, padding=1), tt.make("ReLU"),
             tt.make("MaxPool2d", 2), tt.make("Flatten"), tt.make("Linear", 36, 2)]
    params = [p for layer in model for p in (layer.parameters() if hasattr(layer, "parameters")
                                             else [])]
    optimizer = tt.make("Adam", params, lr=0.05)
    images, labels = _bars(32)

    def forward(x):
        for layer in model:
            x = layer(x)
        return x

    for _ in range(40):
        loss = tt.make("CrossEntropyLoss")(forward(tt.tensor(images)),
                                          tt.tensor(labels.astype(np.float32)))
        tt.zero_grads(optimizer)
        tt.backward(loss)
        optimizer.step()
    test_images, test_labels = _bars(32)
    predicted = tt.array(forward(tt.tensor(test_images))).argmax(axis=1)
    accuracy = float(np.mean(predicted == test_labels))
    assert accuracy == 1.0, f"the CNN tells {accuracy:.0%} of new bar images apart"
