"""The JSON, CSV and Parquet codecs: exact round trips, files any reader opens, and refusals."""

import io

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from stock_assets.definitions import validate_formats
from stock_assets.storage.formats import (
    FORMATS,
    UnknownFormatError,
    UnreadableObjectError,
    get_format,
)
from stock_assets_tests.storage.sample_frames import PLAIN_READERS, comparable, daily_prices


@pytest.mark.parametrize("name", FORMATS)
def test_frame_round_trips_exactly(name: str):
    frame = daily_prices("IBM")
    fmt = get_format(name)

    decoded = fmt.decode(fmt.encode(frame), as_frame=True)

    pd.testing.assert_frame_equal(comparable(decoded), comparable(frame), check_exact=True)


@pytest.mark.parametrize("name", FORMATS)
def test_encoded_frame_is_read_by_plain_pandas(name: str):
    frame = daily_prices("IBM")

    read = PLAIN_READERS[name](get_format(name).encode(frame))

    pd.testing.assert_frame_equal(comparable(read), comparable(frame), check_exact=True)


def test_parquet_keeps_every_dtype_and_is_deterministic():
    frame = daily_prices("IBM")
    fmt = get_format("parquet")

    data = fmt.encode(frame)

    pd.testing.assert_frame_equal(fmt.decode(data, as_frame=True), frame, check_exact=True)
    assert fmt.encode(frame.copy()) == data
    assert pq.read_metadata(io.BytesIO(data)).num_rows == len(frame)


def test_json_carries_floats_with_all_their_digits_and_missing_values_as_null():
    frame = pd.DataFrame({"close": [0.1 + 0.2, 1e-7 / 3, np.nan, np.inf], "n": [1, 2, 3, 4]})

    lines = get_format("json").encode(frame).decode().splitlines()

    assert lines == [
        '{"close":0.30000000000000004,"n":1}',
        '{"close":3.3333333333333334e-08,"n":2}',
        '{"close":null,"n":3}',
        '{"close":null,"n":4}',
    ]


def test_json_stores_other_values_as_one_document():
    answer = {"Meta Data": {"2. Symbol": "IBM"}, "Time Series (Daily)": {"2024-01-02": {}}}
    fmt = get_format("json")

    assert fmt.decode(fmt.encode(answer), as_frame=False) == answer


@pytest.mark.parametrize("name", ["csv", "parquet"])
def test_table_formats_refuse_non_tables(name: str):
    with pytest.raises(TypeError, match=f"{name} stores tables; got dict"):
        get_format(name).encode({"a": 1})


@pytest.mark.parametrize("name", FORMATS)
def test_garbage_is_unreadable_naming_the_format(name: str):
    with pytest.raises(UnreadableObjectError, match=f"not valid {name}"):
        get_format(name).decode(b'PAR1\x00{"half": "a record', as_frame=True)


def test_unknown_format_names_the_known_ones():
    with pytest.raises(UnknownFormatError, match="'xml'; choose one of json, csv, parquet"):
        get_format("xml")


def test_definitions_refuse_an_asset_with_an_unknown_format():
    @dg.asset(metadata={"format": "xml"})
    def quotes_as_xml() -> None: ...

    @dg.asset(metadata={"format": "csv"})
    def quotes_as_csv() -> None: ...

    validate_formats([quotes_as_csv], "parquet")
    with pytest.raises(ValueError, match="asset quotes_as_xml: unknown storage format 'xml'") as e:
        validate_formats([quotes_as_csv, quotes_as_xml], "parquet")
    assert "json, csv, parquet" in str(e.value)


@pytest.mark.parametrize("name", FORMATS)
def test_missing_text_stays_null_and_empty_text_empty(name: str):
    """A cleaned history's adjustment source is NULL on days stored before it was known."""
    frame = daily_prices("IBM", days=3).assign(
        adjustment_source=pd.array(["none", "", None], dtype="string[pyarrow]")
    )
    fmt = get_format(name)

    decoded = fmt.decode(fmt.encode(frame), as_frame=True)

    assert decoded["adjustment_source"].tolist()[:2] == ["none", ""]
    assert pd.isna(decoded["adjustment_source"].iloc[2])
