"""Benchmarks of issue 12: the floor, the harness (run.py) and what each measures; see bench/README.md."""
