"""``python -m bench``: the benchmark suite arrives with its own issue."""

print("No benchmarks yet: they arrive with the benchmarks issue.")
