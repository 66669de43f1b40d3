"""Dagster assets for daily stock prices: Alpha Vantage answers, cleaned prices, a Postgres table."""
