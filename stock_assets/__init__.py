"""Dagster assets for daily stock prices: Alpha Vantage answers, cleaned prices, a SQL table."""

import os
import warnings

import dagster as dg

# Single-run backfills and partition-aware checks are central here; say so once, not per use.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

# A batch of symbols records its materializations and planned steps in writes of up to 100
# events (Dagster's `store_event_batch`) instead of one write per partition: on the SQLite
# instance a batch's Dagster cost per symbol fell from 727 to 393 ms (`python -m
# bench.dagster_floor`). Every process that runs the project's steps imports this package (the
# main command, `dagster asset materialize`, run workers, pods); a deployment may choose another
# size, or 0 for none. A run killed mid-batch loses only the record of its last events: the
# objects and rows are stored, and the next run records them again.
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "100")
