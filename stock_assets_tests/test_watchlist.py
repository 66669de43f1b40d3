"""Only well-formed ticker symbols become partitions, requests, object keys or SQL values."""

import pytest

from stock_assets.exchanges import SUFFIXES
from stock_assets.settings import Settings
from stock_assets.watchlist import (
    SAMPLE_SYMBOLS,
    InvalidSymbolError,
    build_symbol_partitions,
    parse_watchlist,
    validate_symbol,
)

VALID = [
    "AAPL", "BRK.B", "BF-B", "RDS-A", "A", "X1", "0700", "ABCDEFGHIJ",
    "TSCO.LON", "SHOP.TRT", "GPV.TRV", "MBG.DEX", "TCS.BSE", "600104.SHH", "000002.SHZ",
]
UNKNOWN_SUFFIX = ["SHOP.TSX", "VOD.LSE", "AIR.PAR", "ABC.1234"]
INVALID = [
    "aapl",
    "Aapl",
    "ABCDEFGHIJK",
    "../x",
    "..",
    ".",
    "-A",
    "A/B",
    "A\\B",
    "",
    " ",
    "A B",
    "A;DROP",
    "AAPL\n",
    "\nAAPL",
    "A'B",
    "ÄAPL",
    "AAPL\x00",
]


@pytest.mark.parametrize("symbol", VALID)
def test_valid_symbols_are_returned_unchanged(symbol):
    assert validate_symbol(symbol) == symbol


@pytest.mark.parametrize("symbol", INVALID)
def test_invalid_symbols_are_refused_naming_the_symbol(symbol):
    with pytest.raises(InvalidSymbolError) as caught:
        validate_symbol(symbol)
    assert repr(symbol) in str(caught.value)
    assert "e.g. AAPL, BRK.B, BF-B, SHOP.TRT" in str(caught.value)


@pytest.mark.parametrize("symbol", UNKNOWN_SUFFIX)
def test_an_unknown_exchange_suffix_is_refused_in_one_line_listing_the_known_ones(symbol):
    with pytest.raises(InvalidSymbolError) as caught:
        validate_symbol(symbol)
    message = str(caught.value)
    assert "\n" not in message
    assert repr(symbol) in message and f"unknown exchange suffix .{symbol.split('.')[1]}" in message
    assert all(f".{suffix} ({exchange.name})" in message for suffix, exchange in SUFFIXES.items())


def test_an_unknown_suffix_in_the_watchlist_stops_the_definitions_loading(monkeypatch):
    """`Settings.from_env` is what the definitions (and their partitions) are built from."""
    monkeypatch.setenv("STOCK_ASSETS_SYMBOLS", "AAPL,SHOP.TRT,VOD.LSE")
    with pytest.raises(InvalidSymbolError,
                       match=r"^STOCK_ASSETS_SYMBOLS: ticker symbol 'VOD.LSE': unknown exchange"):
        Settings.from_env()
    monkeypatch.setenv("STOCK_ASSETS_SYMBOLS", "AAPL,SHOP.TRT,GPV.TRV,BRK.B,RDS-A")
    assert Settings.from_env().symbols == ["AAPL", "SHOP.TRT", "GPV.TRV", "BRK.B", "RDS-A"]


@pytest.mark.parametrize("value", [None, 123, b"AAPL", ["AAPL"]])
def test_non_strings_are_refused(value):
    with pytest.raises(InvalidSymbolError):
        validate_symbol(value)


def test_invalid_symbol_is_a_value_error():
    assert issubclass(InvalidSymbolError, ValueError)


@pytest.mark.parametrize("text", [None, "", "  ", "\n"])
def test_empty_watchlist_means_the_sample_symbols(text):
    assert parse_watchlist(text) == list(SAMPLE_SYMBOLS)


def test_watchlist_splits_on_commas_and_whitespace_and_drops_repeats():
    assert parse_watchlist(" AAPL, MSFT  IBM,\nBRK.B,,AAPL\tBF-B ") == [
        "AAPL",
        "MSFT",
        "IBM",
        "BRK.B",
        "BF-B",
    ]


@pytest.mark.parametrize("text", ["AAPL, msft", "AAPL,../etc", "AAPL;DROP TABLE x"])
def test_watchlist_with_an_invalid_symbol_is_refused(text):
    with pytest.raises(InvalidSymbolError):
        parse_watchlist(text)


def test_partitions_are_the_symbols_in_order():
    partitions = build_symbol_partitions(["MSFT", "BRK.B", "AAPL"])
    assert partitions.get_partition_keys() == ["MSFT", "BRK.B", "AAPL"]


def test_partitions_refuse_an_invalid_symbol():
    with pytest.raises(InvalidSymbolError):
        build_symbol_partitions(["AAPL", "a b"])


@pytest.mark.parametrize("text", [",", " , ,", ",\n,"])
def test_a_watchlist_of_separators_only_is_refused_not_run_empty(text):
    """Issue 16: `STOCK_ASSETS_SYMBOLS=","` ran "0 of 0 symbols materialized" and exited 0."""
    with pytest.raises(InvalidSymbolError, match="STOCK_ASSETS_SYMBOLS names no symbol"):
        parse_watchlist(text)


def test_the_watchlist_error_names_the_variable(monkeypatch):
    monkeypatch.setenv("STOCK_ASSETS_SYMBOLS", "AAPL;DROP")
    with pytest.raises(InvalidSymbolError, match=r"^STOCK_ASSETS_SYMBOLS: invalid ticker symbol"):
        Settings.from_env()
