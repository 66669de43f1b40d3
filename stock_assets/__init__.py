"""Dagster assets for daily stock prices: Alpha Vantage answers, cleaned prices, a SQL table."""

import warnings

import dagster as dg

# Single-run backfill policies are central here and stable in practice; say so once, not per asset.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
