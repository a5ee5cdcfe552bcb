"""Benchmarks of the hot paths (filled in by the benchmarks issue)."""
