"""Benchmarks for `make bench`: each metric measured beside its baseline, medians of repeats."""
