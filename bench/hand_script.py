"""The script a competent engineer writes instead of stock_assets, in about 80 lines: the peer
`bench.peers` holds it to. requests → pandas → Parquet `put_object` → one COPY; the refresh asks
`compact`, keeps the days after the table's last one per symbol, writes them as one delta object
and inserts them through a staging table. No retries, validation, lineage or run history."""

import io
from datetime import date

import boto3
import pandas as pd
import psycopg2
import requests

FIELDS = {"1. open": "open", "2. high": "high", "3. low": "low", "4. close": "close",
          "5. volume": "volume"}
COLUMNS = ["symbol", "trade_date", "open", "high", "low", "close", "volume"]
TABLE = """CREATE TABLE IF NOT EXISTS prices (
    symbol text NOT NULL, trade_date date NOT NULL, open double precision,
    high double precision, low double precision, close double precision, volume bigint,
    PRIMARY KEY (symbol, trade_date))"""


def fetch(session: requests.Session, url: str, symbol: str, outputsize: str) -> pd.DataFrame:
    """One symbol's daily series as a frame, oldest day first."""
    params = {"function": "TIME_SERIES_DAILY", "symbol": symbol, "outputsize": outputsize,
              "apikey": "bench-key"}
    response = session.get(url, params=params, timeout=60)
    response.raise_for_status()
    series = response.json()["Time Series (Daily)"]
    frame = pd.DataFrame.from_dict(series, orient="index").rename(columns=FIELDS)
    frame = frame.astype({"open": float, "high": float, "low": float, "close": float,
                          "volume": "int64"})
    frame.index = pd.to_datetime(frame.index).date
    frame = frame.rename_axis("trade_date").reset_index().sort_values("trade_date")
    frame.insert(0, "symbol", symbol)
    return frame[COLUMNS]


def put_parquet(s3, bucket: str, key: str, frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def copy_into(cursor, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT csv)", buffer)


def first_load(url: str, symbols: list[str], dsn: str, s3_url: str, bucket: str) -> None:
    """Every symbol's full history to an object of its own, then all of them to the table."""
    s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
    frames = []
    with requests.Session() as session:
        for symbol in symbols:
            frame = fetch(session, url, symbol, "full")
            put_parquet(s3, bucket, f"hand/prices/{symbol}.parquet", frame)
            frames.append(frame)
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(TABLE)
        copy_into(cursor, "prices", pd.concat(frames, ignore_index=True))
    connection.close()


def refresh(url: str, symbols: list[str], dsn: str, s3_url: str, bucket: str) -> int:
    """The days after each symbol's last stored one, as one delta object and one insert."""
    s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT symbol, max(trade_date) FROM prices GROUP BY symbol")
        stored: dict[str, date] = dict(cursor.fetchall())
        new = []
        with requests.Session() as session:
            for symbol in symbols:
                frame = fetch(session, url, symbol, "compact")
                last = stored.get(symbol)
                new.append(frame if last is None else frame[frame["trade_date"] > last])
        delta = pd.concat(new, ignore_index=True)
        inserted = 0
        if not delta.empty:
            put_parquet(s3, bucket, f"hand/deltas/{max(delta['trade_date'])}.parquet", delta)
            cursor.execute("CREATE TEMP TABLE staging (LIKE prices) ON COMMIT DROP")
            copy_into(cursor, "staging", delta)
            cursor.execute("INSERT INTO prices SELECT * FROM staging ON CONFLICT DO NOTHING")
            inserted = cursor.rowcount
    connection.close()
    return inserted
