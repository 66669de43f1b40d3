"""The watchlist: which ticker symbols exist as partitions, and what a valid symbol is."""

import re

import dagster as dg

from stock_assets.exchanges import UnknownExchangeSuffix, exchange_of

SAMPLE_SYMBOLS = ("AAPL", "MSFT", "IBM", "GOOG", "FB")

# A first character that is a letter or digit keeps "." and ".." (path traversal) out.
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,9}")


class InvalidSymbolError(ValueError):
    """A ticker symbol that must never reach a request, an object key or SQL."""


def validate_symbol(symbol: str) -> str:
    """Return the symbol unchanged if it is upper-case letters, digits, '.' or '-', 1-10 long,
    with no exchange suffix or one `exchanges.SUFFIXES` knows (SHOP.TRT)."""
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
        raise InvalidSymbolError(
            f"invalid ticker symbol {symbol!r}: use 1-10 upper-case letters, digits, '.' or '-', "
            "starting with a letter or digit (e.g. AAPL, BRK.B, BF-B, SHOP.TRT)"
        )
    try:
        exchange_of(symbol)
    except UnknownExchangeSuffix as error:
        raise InvalidSymbolError(str(error)) from None
    return symbol


def parse_watchlist(text: str | None) -> list[str]:
    """Parse `STOCK_ASSETS_SYMBOLS` (comma- or space-separated), validating each symbol and
    dropping repeats; unset or blank is the sample's symbols. An error names the variable, so
    the message alone says what to fix."""
    if text is None or not text.strip():
        return list(SAMPLE_SYMBOLS)
    symbols = [s.strip() for s in re.split(r"[,\s]+", text) if s.strip()]
    if not symbols:
        raise InvalidSymbolError(
            f"STOCK_ASSETS_SYMBOLS names no symbol ({text!r}); list some, e.g. AAPL,MSFT, or "
            "unset it for the offline sample's"
        )
    try:
        return list(dict.fromkeys(validate_symbol(s) for s in symbols))
    except InvalidSymbolError as error:
        raise InvalidSymbolError(f"STOCK_ASSETS_SYMBOLS: {error}") from None


def build_symbol_partitions(symbols: list[str]) -> dg.StaticPartitionsDefinition:
    """One partition per watchlist symbol, shared by every asset."""
    return dg.StaticPartitionsDefinition([validate_symbol(s) for s in symbols])
