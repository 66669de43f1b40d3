"""Facts about the Alpha Vantage daily-series API that every part of the library relies on."""

DAILY = "TIME_SERIES_DAILY"
DAILY_ADJUSTED = "TIME_SERIES_DAILY_ADJUSTED"
# What each function's answer says of itself in its "Meta Data" ("1. Information").
INFORMATION = {
    DAILY: "Daily Prices (open, high, low, close) and Volumes",
    DAILY_ADJUSTED: "Daily Time Series with Splits and Dividend Events",
}
# Corporate actions: the whole event history of one symbol, `{"symbol": …, "data": [event, …]}`,
# free on every plan; the fields of each function's events, all text ("None" for an unknown date).
SPLITS = "SPLITS"
DIVIDENDS = "DIVIDENDS"
ACTION_FIELDS = {
    SPLITS: ("effective_date", "split_factor"),
    DIVIDENDS: ("ex_dividend_date", "declaration_date", "record_date", "payment_date", "amount"),
}
COMPACT_ROWS = 100  # the days `outputsize=compact` answers with, newest first
SERIES_KEY = "Time Series (Daily)"
CSV_HEADERS = (b"timestamp,open,high,low,close,", b"timestamp,open,high,low,close,adjusted_close,")
