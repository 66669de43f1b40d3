"""What the ingest stage needs of what is stored, as an interface: the storage stage's
`HistoryStore` provides it and the definitions wire it, so ingest imports no later stage."""

from datetime import date
from typing import Any, Protocol

import dagster as dg
import pandas as pd

from stock_assets.asset_keys import CLEANED_KEY


class StoredAssets(Protocol):
    def read_table(
        self, asset_key: dg.AssetKey, partition: str | None, *, columns: list[str] | None = None
    ) -> pd.DataFrame | None:
        """An asset's stored table for a partition, only `columns` if given; None if absent."""

    def write_partitions(
        self, context: dg.AssetExecutionContext, values: dict[str, Any]
    ) -> dict[str, dict]:
        """Store some partitions of the step's asset now; return each one's metadata."""

    def keep_rejected(self, asset_key: dg.AssetKey, partition: str, record: dict) -> str:
        """Keep a refused answer's record as evidence, apart from the partition's value and its
        archive; return its URI."""


def last_stored_trade_date(stored: StoredAssets, symbol: str) -> date | None:
    """The last trading day of the symbol's stored cleaned history (None if none is stored),
    from the stored object's `trade_date` column: the data, not the event log, says."""
    history = stored.read_table(CLEANED_KEY, symbol, columns=["trade_date"])
    if history is None or history.empty:
        return None
    return pd.Timestamp(history["trade_date"].max()).date()
