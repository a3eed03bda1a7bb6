"""Benchmarks: audit speed against ruff, runtime overhead (run them as scripts)."""
