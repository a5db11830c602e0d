"""Memory (plan category 7): no growth across iterations, activation memory linear in the
batch, the graph freed after backward (tracemalloc and weak references, never timings)."""

from properties import memory


def test_repeated_forward_backward_does_not_grow_memory():
    memory.check_no_growth_across_iterations()


def test_activation_memory_is_linear_in_batch_size():
    memory.check_activation_memory_linear_in_batch()


def test_graph_is_freed_after_backward_and_dropping_the_loss():
    memory.check_graph_freed_after_backward()
