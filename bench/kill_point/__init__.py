"""Kill points for `bench.kill_campaign`: `sitecustomize.py` here, put on the PYTHONPATH of the
process to kill, arms `kill_hooks` in it (the product carries no test hooks)."""
