"""PyTorch references ("oracles") for every TinyTorch component.

Oracles import torch and NumPy only. They take NumPy arrays and parameter dicts and return NumPy
arrays, and they never import the code under test, so any TinyTorch-API implementation can be
compared against them. Everything runs on the CPU in float64 unless a dtype is asked for.
"""
