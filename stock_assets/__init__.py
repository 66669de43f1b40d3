"""Dagster assets for daily stock prices: Alpha Vantage answers, cleaned prices, a SQL table."""

import warnings

import dagster as dg

# Single-run backfills and partition-aware checks are central here; say so once, not per use.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
