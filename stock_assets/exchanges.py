"""Which exchange a symbol trades on, read from its Alpha Vantage suffix (TSCO.LON, SHOP.TRT).

The suffixes are those Alpha Vantage documents in its daily series' examples
(https://www.alphavantage.co/documentation/: TSCO.LON, SHOP.TRT, GPV.TRV, MBG.DEX, RELIANCE.BSE,
600104.SHH, 000002.SHZ); a symbol without one is a US listing. After the last dot, a known suffix
names the exchange, one or two characters are a US share class (BRK.B) and anything longer is an
unknown suffix, refused rather than judged on the wrong calendar.
"""

from dataclasses import dataclass

SHARE_CLASS_LENGTH = 2  # the longest tail after a dot read as a share class, not a suffix


@dataclass(frozen=True)
class Exchange:
    """An exchange as messages name it, and its exchange_calendars code."""

    name: str
    calendar: str
    article: str = "a"

    @property
    def session(self) -> str:
        """'an NYSE session', 'a Toronto Stock Exchange session'."""
        return f"{self.article} {self.name} session"


NYSE = Exchange("NYSE", "XNYS", article="an")  # US listings: NYSE, Nasdaq and the rest share it
SUFFIXES = {
    "LON": Exchange("London Stock Exchange", "XLON"),
    "TRT": Exchange("Toronto Stock Exchange", "XTSE"),
    # exchange_calendars' XTSX (TSX Venture) is an alias of XTSE: the two close on the same days.
    "TRV": Exchange("TSX Venture Exchange", "XTSX"),
    "DEX": Exchange("Xetra", "XETR"),
    "BSE": Exchange("Bombay Stock Exchange", "XBOM"),
    "SHH": Exchange("Shanghai Stock Exchange", "XSHG"),
    # exchange_calendars has no XSHE; both mainland exchanges keep the holidays the State
    # Council sets, so Shanghai's calendar is Shenzhen's too.
    "SHZ": Exchange("Shenzhen Stock Exchange", "XSHG"),
}


class UnknownExchangeSuffix(ValueError):
    """A symbol whose suffix names no exchange this project knows the calendar of."""


def exchange_of(symbol: str) -> Exchange:
    """The exchange `symbol` trades on: NYSE for AAPL, BRK.B and RDS-A, the Toronto Stock
    Exchange for SHOP.TRT. Raises `UnknownExchangeSuffix` for a suffix not in `SUFFIXES`."""
    _, dot, tail = symbol.rpartition(".")
    if dot and tail in SUFFIXES:
        return SUFFIXES[tail]
    if not dot or len(tail) <= SHARE_CLASS_LENGTH:
        return NYSE
    known = ", ".join(f".{suffix} ({exchange.name})" for suffix, exchange in SUFFIXES.items())
    raise UnknownExchangeSuffix(
        f"ticker symbol {symbol!r}: unknown exchange suffix .{tail}; the known suffixes are "
        f"{known}; a US symbol has none, or a share class of one or two characters (BRK.B)"
    )
