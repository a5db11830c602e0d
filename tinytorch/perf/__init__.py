"""Systems modules (upstream modules 14-18): profiling, quantization, compression,
memoization (KV cache) and acceleration. Each module imports ``tinytorch.core`` only."""
