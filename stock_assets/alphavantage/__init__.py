"""The Alpha Vantage client library: API facts, answers and errors, a live and an offline client.

It knows nothing of Dagster or of the rest of `stock_assets`; the ingest stage wires it in.
"""
