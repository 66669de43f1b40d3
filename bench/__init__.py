"""Benchmarks (not tests), run as `python -m bench.<script>` from the repository root."""
