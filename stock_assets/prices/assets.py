"""The cleaned daily-prices asset: each symbol's typed history, merged with every new answer."""

import dagster as dg
import pandas as pd

from stock_assets.ingest.answers import Answer
from stock_assets.partitions import symbols_partitions
from stock_assets.prices.history import merge_history
from stock_assets.prices.parse import parse_answer
from stock_assets.settings import Settings
from stock_assets.storage.io_manager import AtomicIOManager


@dg.asset(
    partitions_def=symbols_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"format": Settings.from_env().prices_format},
    group_name="prices",
    kinds={"pandas", "parquet"},
    owners=["team:data-engineering"],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=1),
    code_version="1",
)
def cleaned_daily_prices(
    context: dg.AssetExecutionContext,
    raw_quotes: dict[str, dict],
    io_manager: dg.ResourceParam[AtomicIOManager],
) -> dict[str, pd.DataFrame]:
    """Typed daily prices per symbol (one row per trading day, sorted), history kept.

    The stored history is read and merged with the new answer: new days are added, revised
    days replaced and counted, and no day is ever dropped. The write is conditional on the
    version read, so two runs on one symbol cannot silently lose each other's rows.
    """
    histories, stats = {}, {}
    for symbol, record in raw_quotes.items():
        new = parse_answer(Answer.from_record(record))
        stored = io_manager.read_current(context, symbol)
        histories[symbol], merge = merge_history(stored, new)
        stats[symbol] = {
            **merge.as_metadata(),
            "first_trade_date": str(histories[symbol]["trade_date"].iloc[0]),
            "last_trade_date": str(histories[symbol]["trade_date"].iloc[-1]),
        }
    if len(stats) == 1:
        context.add_output_metadata(next(iter(stats.values())))
    else:
        context.add_output_metadata({"merge": dg.MetadataValue.json(stats)})
    return histories
