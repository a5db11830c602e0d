"""TinyTorch core: tensor and autograd, activations, layers, losses (upstream module paths)."""
