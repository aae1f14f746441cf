"""Benchmarks of the extraction pipeline on generated corpora (``python -m bench.run``)."""
