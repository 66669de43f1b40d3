"""The raw-quotes asset: each symbol's Alpha Vantage answer, verbatim, with how it was fetched."""

from datetime import UTC, date, datetime

import dagster as dg

from stock_assets.ingest.errors import AlphaVantageError
from stock_assets.ingest.fetch_plan import choose_outputsize
from stock_assets.ingest.resources import AlphaVantageResource
from stock_assets.partitions import symbols_partitions

CLEANED_KEY = dg.AssetKey("cleaned_daily_prices")


def last_stored_trade_date(instance: dg.DagsterInstance, symbol: str) -> date | None:
    """The last trading day the cleaned history holds, from its latest materialization.

    A single-run backfill records one metadata set for all its symbols, keyed by symbol.
    """
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=CLEANED_KEY, asset_partitions=[symbol]), limit=1
    )
    materialization = result.records[0].asset_materialization if result.records else None
    if materialization is None:
        return None
    metadata = materialization.metadata
    if "last_trade_date" in metadata:
        return date.fromisoformat(metadata["last_trade_date"].value)
    per_symbol = metadata["merge"].value.get(symbol, {}) if "merge" in metadata else {}
    last = per_symbol.get("last_trade_date")
    return date.fromisoformat(last) if last else None


@dg.asset(
    partitions_def=symbols_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"format": "json", "archive": True},
    group_name="ingest",
    kinds={"python", "json"},
    owners=["team:data-engineering"],
    code_version="1",
)
def raw_quotes(
    context: dg.AssetExecutionContext, alphavantage: AlphaVantageResource
) -> dict[str, dict]:
    """Alpha Vantage's daily-series answer for each symbol, kept byte for byte.

    Every answer is also archived under an immutable key, so no fetched answer is ever lost;
    `compact` is requested when the stored history already reaches the last 100 trading days.
    """
    context.log.info(alphavantage.describe())
    client = alphavantage.get_client()
    today = datetime.now(UTC).date()
    symbols = context.partition_keys
    answers = {}
    for number, symbol in enumerate(symbols, start=1):
        outputsize = choose_outputsize(
            last_stored_trade_date(context.instance, symbol), today,
            full_allowed=alphavantage.full_history or alphavantage.premium or alphavantage.offline,
        )
        try:
            answer = client.fetch_daily(
                symbol, adjusted=alphavantage.premium, outputsize=outputsize
            )
        except AlphaVantageError as error:
            raise dg.Failure(
                description=str(error),
                metadata={"symbol": error.symbol, "error_kind": error.kind},
            ) from None
        context.log.info(
            f"{symbol} ({number} of {len(symbols)}): {len(answer.body)} bytes, "
            f"{answer.function} outputsize={outputsize}, from {answer.source}"
        )
        answers[symbol] = answer.to_record()
    return answers
