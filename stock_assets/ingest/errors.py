"""Moved to `stock_assets.alphavantage.errors`; this name remains only for `ingest/budget.py`'s
import until that file imports the library directly. Import from the library instead."""

from stock_assets.alphavantage.errors import QuotaExhausted

__all__ = ["QuotaExhausted"]
