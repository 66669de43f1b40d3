"""Ingest: fetching daily prices from Alpha Vantage (or its offline sample), keeping raw answers."""
