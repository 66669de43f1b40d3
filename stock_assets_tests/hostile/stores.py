"""Where a corpus run stores, read back for judging: a local folder with SQLite (the default, one
copy per batch), or S3 (moto's server) with PostgreSQL, the production path, for a smaller check.

Each says what a symbol has stored (objects byte for byte and its table rows; lock files and the
evidence kept of refused answers, `raw_quotes/_rejected/`, aside), a day's quarantine reason, and
which stored objects hold a given secret.
"""

import csv
import io
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

QUARANTINE = "quarantined_price_rows"
_ROWS = "SELECT * FROM daily_prices WHERE symbol = :symbol ORDER BY trade_date"


def _is_symbols(parts: tuple[str, ...], symbol: str) -> bool:
    """Whether an object (its key's parts under the store's root) is the symbol's."""
    return ".locks" not in parts and "_rejected" not in parts and (
        parts[-1].rsplit(".", 1)[0] == symbol or symbol in parts[:-1]
    )


def _reason(text: str | None, day: str) -> str | None:
    for row in csv.DictReader(io.StringIO(text or "")):
        if row.get("trade_date") == day:
            return row.get("reason", "")
    return None


@dataclass(frozen=True)
class LocalStore:
    """The defaults under a batch's folder: `data/objects` and `data/stock_assets.sqlite`."""

    folder: Path

    def env(self) -> dict[str, str]:
        return {}

    def _objects(self) -> Path:
        return self.folder / "data" / "objects"

    def stored(self, symbol: str) -> dict[str, bytes]:
        found = {
            "/".join(path.relative_to(self._objects()).parts): path.read_bytes()
            for path in self._objects().rglob("*")
            if path.is_file() and _is_symbols(path.relative_to(self._objects()).parts, symbol)
        }
        with sqlite3.connect(self.folder / "data" / "stock_assets.sqlite") as connection:
            rows = connection.execute(_ROWS.replace(":symbol", "?"), (symbol,)).fetchall()
        connection.close()
        found["table daily_prices"] = repr(rows).encode()
        return found

    def quarantine(self, symbol: str, day: str) -> str | None:
        path = self._objects() / QUARANTINE / f"{symbol}.csv"
        return _reason(path.read_text() if path.exists() else None, day)

    def holding(self, secret: bytes) -> list[str]:
        return []  # its files are under the work folder, which the runner searches itself


@dataclass(frozen=True)
class S3PostgresStore:
    """A bucket prefix on S3 (the endpoint in AWS_ENDPOINT_URL) and a PostgreSQL database."""

    bucket: str
    database_url: str
    prefix: str = "prices"

    def env(self) -> dict[str, str]:
        aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        return {**aws, "STOCK_ASSETS_STORAGE_URL": f"s3://{self.bucket}/{self.prefix}",
                "STOCK_ASSETS_DATABASE_URL": self.database_url}

    def _s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)

    def _all(self) -> dict[tuple[str, ...], bytes]:
        s3, found = self._s3(), {}
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/"
        ):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                found[tuple(item["Key"].split("/")[1:])] = body
        return found

    def stored(self, symbol: str) -> dict[str, bytes]:
        found = {"/".join(k): v for k, v in self._all().items() if _is_symbols(k, symbol)}
        engine = sa.create_engine(self.database_url)
        with engine.connect() as connection:
            rows = connection.execute(sa.text(_ROWS), {"symbol": symbol}).all()
        engine.dispose()
        found["table daily_prices"] = repr([tuple(r) for r in rows]).encode()
        return found

    def quarantine(self, symbol: str, day: str) -> str | None:
        body = self._all().get((QUARANTINE, f"{symbol}.csv"))
        return _reason(body.decode() if body is not None else None, day)

    def holding(self, secret: bytes) -> list[str]:
        return [f"s3://{self.bucket}/{self.prefix}/{'/'.join(k)}"
                for k, v in self._all().items() if secret in v]
