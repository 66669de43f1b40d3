"""Facts about the Alpha Vantage daily-series API that every part of the library relies on."""

DAILY = "TIME_SERIES_DAILY"
DAILY_ADJUSTED = "TIME_SERIES_DAILY_ADJUSTED"
# What each function's answer says of itself in its "Meta Data" ("1. Information").
INFORMATION = {
    DAILY: "Daily Prices (open, high, low, close) and Volumes",
    DAILY_ADJUSTED: "Daily Time Series with Splits and Dividend Events",
}
COMPACT_ROWS = 100  # the days `outputsize=compact` answers with, newest first
SERIES_KEY = "Time Series (Daily)"
CSV_HEADERS = (b"timestamp,open,high,low,close,", b"timestamp,open,high,low,close,adjusted_close,")
