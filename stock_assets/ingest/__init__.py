"""Ingest: fetching daily prices from Alpha Vantage (or its offline sample) and keeping the raw answers."""
