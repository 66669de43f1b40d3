"""The atomic IO manager through Dagster itself, on a local folder and on S3 (moto's server).

Over 300 lines: each behaviour is run through Dagster on both backends, with the assets that
exercise it defined beside it.
"""

import json

import dagster as dg
import pandas as pd
import pytest
from dagster_aws.s3 import S3Resource

from stock_assets.storage.history_store import PREVIEW_ROWS, HistoryStore, Update
from stock_assets.storage.io_manager import StoredPartitions
from stock_assets.storage.objects import sha256_hex
from stock_assets.storage.resources import ObjectStoreResource
from stock_assets_tests.storage.backends import Backend
from stock_assets_tests.storage.sample_frames import PLAIN_READERS, comparable, daily_prices

pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")  # backfill_policy

SYMBOLS = dg.StaticPartitionsDefinition(["AAPL", "IBM", "MSFT", "NVDA"])
RUNS = {
    "unpartitioned": ({}, [None]),
    "one partition": ({"partition_key": "IBM"}, ["IBM"]),
    "several partitions": (
        {
            "tags": {
                "dagster/asset_partition_range_start": "AAPL",
                "dagster/asset_partition_range_end": "MSFT",
            }
        },
        ["AAPL", "IBM", "MSFT"],
    ),
}
OBJECT_FIELDS = {"uri", "bytes", "sha256", "etag", "rows"}


def price_assets(fmt: str, partitioned: bool, received: dict) -> list[dg.AssetsDefinition]:
    """`market/prices` and `market/prices_copy`, which records what it was handed."""
    options = dict(key_prefix=["market"], metadata={"format": fmt})
    if partitioned:
        options.update(partitions_def=SYMBOLS, backfill_policy=dg.BackfillPolicy.single_run())

        @dg.asset(name="prices", **options)
        def partitioned_prices(context: dg.AssetExecutionContext) -> dict[str, pd.DataFrame]:
            return {symbol: daily_prices(symbol) for symbol in context.partition_keys}

        @dg.asset(name="prices_copy", ins={"prices": dg.AssetIn(["market", "prices"])}, **options)
        def partitioned_copy(prices: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
            received.update(prices)
            return prices

        return [partitioned_prices, partitioned_copy]

    @dg.asset(name="prices", **options)
    def prices() -> pd.DataFrame:
        return daily_prices("IBM")

    @dg.asset(name="prices_copy", ins={"prices": dg.AssetIn(["market", "prices"])}, **options)
    def prices_copy(prices: pd.DataFrame) -> pd.DataFrame:
        received[None] = prices
        return prices

    return [prices, prices_copy]


def object_key(asset: str, partition: str | None, fmt: str) -> str:
    return f"market/{asset}/{partition}.{fmt}" if partition else f"market/{asset}.{fmt}"


def materializations(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    return {
        event.materialization.partition: event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.materialization.asset_key == dg.AssetKey(["market", asset])
    }


def step_errors(result: dg.ExecuteInProcessResult) -> str:
    """Every error in the failed steps' chains of causes, one 'Class: message' per line."""
    lines = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            lines.append(f"{error.cls_name}: {error.message.strip()}")
            error = error.cause or error.context
    return "\n".join(lines)


def check_object_metadata(backend: Backend, fields: dict, key: str, rows: int) -> None:
    raw = backend.read_raw(key)
    assert fields["uri"] == backend.store.uri(key)
    assert fields["bytes"] == len(raw)
    assert fields["sha256"] == sha256_hex(raw)
    assert fields["etag"] == backend.store.head(key).etag
    assert fields["rows"] == rows


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_frames_round_trip_through_dagster(backend: Backend, io_manager, fmt: str, run: str):
    materialize_options, partitions = RUNS[run]
    received: dict = {}
    assets = price_assets(fmt, partitions != [None], received)

    result = dg.materialize(assets, resources={"io_manager": io_manager}, **materialize_options)

    assert result.success
    assert backend.raw_keys() == sorted(
        object_key(asset, partition, fmt)
        for asset in ("prices", "prices_copy")
        for partition in partitions
    )
    assert backend.leftovers() == []
    symbols = [partition or "IBM" for partition in partitions]
    for partition, symbol in zip(partitions, symbols, strict=True):
        expected = comparable(daily_prices(symbol))
        stored = PLAIN_READERS[fmt](backend.read_raw(object_key("prices", partition, fmt)))
        pd.testing.assert_frame_equal(comparable(stored), expected, check_exact=True)
        pd.testing.assert_frame_equal(comparable(received[partition]), expected, check_exact=True)
        if fmt == "parquet":
            pd.testing.assert_frame_equal(
                received[partition], daily_prices(symbol), check_exact=True
            )

    metadata = materializations(result, "prices")
    assert sorted(metadata, key=str) == sorted(partitions, key=str)
    for partition, meta in metadata.items():
        # one step may write several partitions: each event describes its own object
        assert meta["format"].value == fmt
        fields = {name: meta[name].value for name in OBJECT_FIELDS}
        fields["uri"] = meta["uri"].path
        check_object_metadata(backend, fields, object_key("prices", partition, fmt), rows=7)
        preview = meta["preview"]
        assert len(preview.records) == PREVIEW_ROWS
        assert [c.name for c in preview.schema.columns] == list(daily_prices("IBM").columns)
        assert {r.data["symbol"] for r in preview.records} == {partition or "IBM"}
    assert result.get_asset_observation_events() == []


@pytest.mark.parametrize("run", ["unpartitioned", "several partitions"])
def test_parquet_of_the_same_frames_is_byte_identical(backend: Backend, io_manager, run: str):
    materialize_options, partitions = RUNS[run]
    assets = price_assets("parquet", partitions != [None], {})

    dg.materialize(assets, resources={"io_manager": io_manager}, **materialize_options)
    first = {key: backend.read_raw(key) for key in backend.raw_keys()}
    again = dg.materialize(assets, resources={"io_manager": io_manager}, **materialize_options)

    assert {key: backend.read_raw(key) for key in backend.raw_keys()} == first
    assert len(first) == 2 * len(partitions)
    if partitions == [None]:
        assert materializations(again, "prices")[None]["sha256"].value == sha256_hex(
            first["market/prices.parquet"]
        )


def test_a_partitioned_asset_must_return_one_value_per_partition(backend, io_manager):
    @dg.asset(partitions_def=SYMBOLS)
    def prices(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return daily_prices(context.partition_key)

    result = dg.materialize(
        [prices], resources={"io_manager": io_manager}, partition_key="IBM", raise_on_error=False
    )

    assert not result.success
    assert "must return {partition_key: value} for ['IBM']; got DataFrame" in step_errors(result)
    assert backend.raw_keys() == []


def history_asset(competitor: ObjectStoreResource) -> dg.AssetsDefinition:
    """Appends a row to its stored partition; with the run tag `compete`, another writer
    replaces the partition between the read and the write."""

    @dg.asset(
        key_prefix=["market"], name="history", partitions_def=SYMBOLS, metadata={"format": "csv"}
    )
    def history(
        context: dg.AssetExecutionContext, history_store: HistoryStore
    ) -> dict[str, Update]:
        symbol = context.partition_key
        stored = history_store.read(context.asset_key, symbol, {"format": "csv"})
        row = pd.DataFrame({"run": [context.run_id[:8]]})
        if context.run.tags.get("compete"):
            competing = pd.DataFrame({"run": [f"competitor {context.run_id[:8]}"]})
            competing = competing.to_csv(index=False).encode()
            competitor.get_store().put(f"market/history/{symbol}.csv", competing)
        value = row if stored is None else pd.concat([stored.value, row], ignore_index=True)
        return {symbol: Update(value, base=stored)}

    return history


def test_an_update_of_the_version_read_fails_the_step_if_another_writer_came_first(
    backend: Backend, io_manager, history_store
):
    history = history_asset(ObjectStoreResource(url=backend.url, s3=S3Resource()))
    resources = {"io_manager": io_manager, "history_store": history_store}
    key = "market/history/IBM.csv"

    def run(**tags: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [history], resources=resources, partition_key="IBM", tags=tags, raise_on_error=False
        )

    for attempt in ("first write", "rewrite"):
        failed = run(compete="yes")
        assert not failed.success, attempt
        errors = step_errors(failed)
        assert "ConcurrentUpdateError: concurrent update" in errors and key in errors
        competitor = f"competitor {failed.run_id[:8]}"
        assert PLAIN_READERS["csv"](backend.read_raw(key)).run.tolist() == [competitor]

    first, second = run(), run()

    assert first.success and second.success
    runs = PLAIN_READERS["csv"](backend.read_raw(key)).run.tolist()
    assert runs == [competitor, first.run_id[:8], second.run_id[:8]]


def test_loading_a_missing_partition_names_its_key(backend: Backend, io_manager):
    assets = price_assets("parquet", True, {})
    dg.materialize(assets, resources={"io_manager": io_manager}, partition_key="IBM")

    result = dg.materialize(
        assets,
        selection=["market/prices_copy"],
        partition_key="NVDA",
        resources={"io_manager": io_manager},
        raise_on_error=False,
    )

    assert not result.success
    missing = backend.store.uri("market/prices/NVDA.parquet")
    assert f"ObjectNotFound: no object at {missing}" in step_errors(result)


@pytest.mark.parametrize("damage", ["truncated", "changed behind the store"])
def test_damaged_parquet_fails_loading_as_corrupt(backend: Backend, io_manager, damage: str):
    assets = price_assets("parquet", True, {})
    dg.materialize(assets, resources={"io_manager": io_manager}, partition_key="IBM")
    key = "market/prices/IBM.parquet"
    raw = backend.read_raw(key)
    if damage == "truncated":
        backend.store.put(key, raw[: len(raw) // 2])  # a consistent checksum, half a file
    else:
        backend.overwrite_raw(key, raw[: len(raw) // 2])

    result = dg.materialize(
        assets,
        selection=["market/prices_copy"],
        partition_key="IBM",
        resources={"io_manager": io_manager},
        raise_on_error=False,
    )

    assert not result.success
    expected = "is unreadable: not valid parquet" if damage == "truncated" else "is corrupt"
    assert f"CorruptObject: {backend.store.uri(key)} {expected}" in step_errors(result)


def test_archive_keeps_every_write_under_history(backend: Backend, io_manager):
    @dg.asset(
        key_prefix=["market"],
        name="quotes",
        partitions_def=SYMBOLS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"format": "json", "archive": True},
    )
    def quotes(context: dg.AssetExecutionContext) -> dict[str, dict]:
        return {
            symbol: {"symbol": symbol, "run": context.run_id} for symbol in context.partition_keys
        }

    results = [
        dg.materialize([quotes], resources={"io_manager": io_manager}, partition_key="IBM")
        for _ in range(3)
    ]

    archived = [key for key in backend.raw_keys() if "/_history/" in key]
    assert len(archived) == 3
    assert all(key.startswith("market/quotes/_history/IBM/") for key in archived)
    archived_runs = {json.loads(backend.read_raw(key))["run"] for key in archived}
    assert archived_runs == {result.run_id for result in results}
    latest = materializations(results[-1], "quotes")["IBM"]
    archived_uri = latest["archived_uri"].path
    assert archived_uri in {backend.store.uri(key) for key in archived}
    assert sha256_hex(backend.read_raw("market/quotes/IBM.json")) in archived_uri
    assert latest["uri"].path == backend.store.uri("market/quotes/IBM.json")
    assert backend.store.get("market/quotes/IBM.json").data == backend.read_raw(
        next(key for key in archived if backend.store.uri(key) == archived_uri)
    )


def answers_asset(bodies: list[str]) -> dg.AssetsDefinition:
    """`market/quotes`: each run stores the next body, in a record that differs every time."""

    @dg.asset(key_prefix=["market"], name="quotes", partitions_def=SYMBOLS,
              metadata={"format": "json", "archive": True})
    def quotes(context: dg.AssetExecutionContext) -> dict[str, dict]:
        body = bodies.pop(0)
        record = {"fetched_at": context.run_id, "body": body,
                  "body_sha256": sha256_hex(body.encode())}
        return {context.partition_key: record}

    return quotes


def test_an_answer_already_archived_is_not_archived_again(backend: Backend, io_manager):
    bodies = ['{"close": 1}', '{"close": 1}', '{"close": 1}', '{"close": 2}', '{"close": 1}']
    quotes = answers_asset(list(bodies))

    results = [
        dg.materialize([quotes], resources={"io_manager": io_manager}, partition_key="IBM")
        for _ in bodies
    ]

    archived = backend.store.list("market/quotes/_history/IBM/")
    assert archived == [key for key in backend.raw_keys() if "/_history/" in key]
    assert [json.loads(backend.read_raw(key))["body"] for key in archived] == [
        '{"close": 1}', '{"close": 2}'
    ]
    assert [key.rsplit("_", 1)[1] for key in archived] == [
        f"{sha256_hex(body.encode())}.json" for body in ('{"close": 1}', '{"close": 2}')
    ]
    uris = [materializations(r, "quotes")["IBM"]["archived_uri"].path for r in results]
    first, second = (backend.store.uri(key) for key in archived)
    assert uris == [first, first, first, second, first]
    assert json.loads(backend.read_raw("market/quotes/IBM.json"))["fetched_at"] == (
        results[-1].run_id
    )


def test_a_value_without_an_answer_body_is_archived_once_per_content(backend, io_manager):
    @dg.asset(key_prefix=["market"], name="quotes", metadata={"format": "json", "archive": True})
    def quotes() -> dict:
        return {"symbol": "IBM"}

    for _ in range(3):
        dg.materialize([quotes], resources={"io_manager": io_manager})

    stored = backend.read_raw("market/quotes.json")
    assert [key for key in backend.raw_keys() if "/_history/" in key] == [
        backend.store.list("market/quotes/_history/_/")[0]
    ]
    assert backend.store.list("market/quotes/_history/")[0].endswith(f"_{sha256_hex(stored)}.json")


def test_a_stored_partitions_input_reads_each_partition_only_when_asked(backend, io_manager):
    """An input annotated `StoredPartitions` holds no partition until one is read, and reads
    the stored object on every access (nothing is kept)."""
    seen = {}

    @dg.asset(name="prices", key_prefix=["market"], metadata={"format": "json"},
              partitions_def=SYMBOLS, backfill_policy=dg.BackfillPolicy.single_run())
    def prices(context: dg.AssetExecutionContext) -> dict[str, dict]:
        return {symbol: {"symbol": symbol} for symbol in context.partition_keys}

    @dg.asset(key_prefix=["market"], ins={"prices": dg.AssetIn(["market", "prices"])},
              partitions_def=SYMBOLS, backfill_policy=dg.BackfillPolicy.single_run())
    def walked(prices: StoredPartitions) -> None:
        seen["type"] = type(prices)
        seen["keys"] = list(prices)
        first = prices["AAPL"]
        first["symbol"] = "changed in memory"
        seen["again"] = prices["AAPL"]
        seen["items"] = dict(prices.items())
        seen["missing"] = "NVDA" in prices

    result = dg.materialize([prices, walked], resources={"io_manager": io_manager},
                            **RUNS["several partitions"][0])
    assert result.success
    assert seen["type"] is StoredPartitions
    assert sorted(seen["keys"]) == ["AAPL", "IBM", "MSFT"]
    assert seen["again"] == {"symbol": "AAPL"}
    assert seen["items"] == {s: {"symbol": s} for s in ["AAPL", "IBM", "MSFT"]}
    assert seen["missing"] is False


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_a_stored_table_can_be_read_column_by_column_without_a_step(
    backend: Backend, io_manager, history_store, fmt: str
):
    assets = price_assets(fmt, True, {})
    dg.materialize(assets, resources={"io_manager": io_manager}, partition_key="IBM")
    key = dg.AssetKey(["market", "prices"])

    days = history_store.read_table(key, "IBM", columns=["trade_date"])
    assert list(days.columns) == ["trade_date"]
    assert pd.to_datetime(days["trade_date"]).tolist() == pd.to_datetime(
        daily_prices("IBM")["trade_date"]
    ).tolist()
    whole = history_store.read_table(key, "IBM")
    assert list(whole.columns) == list(daily_prices("IBM").columns)
    assert history_store.read_table(key, "NVDA") is None
