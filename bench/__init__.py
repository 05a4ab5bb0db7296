"""Benchmarks at the size of a whole country: `python -m bench --scale 1.0` (see RESULTS.md).

Nothing here is imported by the app; everything here imports the app as an operator would run it.
"""
