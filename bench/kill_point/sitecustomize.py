"""Arms the kill campaign's kill point in this process when ``STOCK_ASSETS_KILL_AT`` is set.

Python imports `sitecustomize` at start-up from the first folder of its path that holds one, so
putting this folder on the PYTHONPATH of one process (the `stock-assets` command the campaign
kills) arms that process alone; every other process runs untouched.
"""

import os

if os.environ.get("STOCK_ASSETS_KILL_AT"):
    import kill_hooks

    kill_hooks.arm()
