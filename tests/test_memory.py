"""Memory (plan category 7): no growth across training steps, activation memory linear in the
batch, the graph freed after backward, for an MLP, a CNN and a GPT; a DataLoader that streams
(tracemalloc and weak references, never timings)."""

import pytest

from properties import memory

MODELS = [pytest.param("mlp", marks=pytest.mark.plan("01:memory_performance",
                                                     "03:memory_performance",
                                                     "05:memory_performance",
                                                     "07:memory_performance")),
          pytest.param("cnn", marks=pytest.mark.plan("09:memory_performance")),
          pytest.param("gpt", marks=pytest.mark.plan("12:memory_performance",
                                                     "13:memory_performance",
                                                     "20:memory_performance"))]


@pytest.mark.parametrize("model", MODELS)
def test_repeated_training_steps_do_not_grow_memory(model):
    memory.check_no_growth_across_steps(model)


@pytest.mark.parametrize("model", MODELS)
def test_activation_memory_is_linear_in_batch_size(model):
    memory.check_activation_memory_linear_in_batch(model)


@pytest.mark.parametrize("model", MODELS)
def test_graph_is_freed_after_backward_and_dropping_the_loss(model):
    memory.check_graph_freed_after_backward(model)


@pytest.mark.plan("08:memory_performance")
def test_data_loader_streams_batches_without_copying_the_dataset():
    memory.check_data_loader_streams()
