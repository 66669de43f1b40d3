"""The configuration contract: every environment variable the project reads, with its default.

This is the one place that looks at the environment. A variable that is set becomes a
``dg.EnvVar`` (so the UI shows its name, never its value); an unset one becomes its default.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from stock_assets.watchlist import parse_watchlist

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
# A free key's limits (25 a day, about 1 a second and 5 a minute in practice), and how many
# requests may be in flight at once: the defaults of the settings and of the resource alike.
FREE_PER_SECOND, FREE_PER_MINUTE, FREE_PER_DAY = 1, 5, 25
DEFAULT_MAX_CONCURRENT_REQUESTS = 4
# Seconds one request may take in all (connecting, the headers and the whole body), so a server
# that drips its answer a byte at a time cannot hold a run.
DEFAULT_REQUEST_DEADLINE_SECONDS = 30
# Corporate actions are fetched again every this many days (0: on a first load and jumps only).
DEFAULT_CORPORATE_ACTIONS_DAYS = 7
DEFAULT_PRICES_FORMAT = "parquet"
# Above any real share price (BRK.A trades near 700,000), below a misplaced exponent (1e308).
DEFAULT_MOST_PLAUSIBLE_PRICE = 10_000_000.0
DEFAULT_DATA_DIR = "stock_assets_data"


def _env(name: str, default: str) -> str | dg.EnvVar:
    return dg.EnvVar(name) if os.environ.get(name, "").strip() else default


def _env_int(name: str, default: int) -> int | dg.EnvVar:
    return dg.EnvVar.int(name) if os.environ.get(name, "").strip() else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={value!r} is not a boolean: use true or false")


def resolve(value: object) -> object:
    """A setting's value now, for a person to read: Dagster resolves an ``EnvVar`` only when it
    initialises the resource holding it, so descriptions printed before a run read it here."""
    return value.get_value() if hasattr(value, "env_var_name") else value


def _env_positive(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        number = float("nan")
    if not 0 < number < float("inf"):
        raise ValueError(f"{name}={value!r} is not a positive number")
    return number


def _env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(sorted(choices))}")
    return value


def data_dir() -> Path:
    """Where the offline defaults live: ``STOCK_ASSETS_DATA_DIR``, else ``./stock_assets_data``."""
    return Path(os.environ.get("STOCK_ASSETS_DATA_DIR", "").strip() or DEFAULT_DATA_DIR).absolute()


def dagster_postgres_url() -> str | None:
    """The Dagster instance's Postgres, from ``DAGSTER_PG_URL`` or ``DAGSTER_PG_HOST`` (with
    ``DAGSTER_PG_USERNAME``, ``DAGSTER_PG_PASSWORD``, ``DAGSTER_PG_DB``, ``DAGSTER_PG_PORT``);
    None selects the embedded SQLite instance under ``DAGSTER_HOME``.

    dagster-postgres speaks psycopg2 (SQLAlchemy 2.1 would pick psycopg 3 for a bare
    ``postgresql://``), so the driver is named.
    """
    url = os.environ.get("DAGSTER_PG_URL", "").strip()
    if url:
        return sa.make_url(url).set(drivername="postgresql+psycopg2").render_as_string(
            hide_password=False
        )
    host = os.environ.get("DAGSTER_PG_HOST", "").strip()
    if not host:
        return None
    return sa.URL.create(
        "postgresql+psycopg2",
        username=os.environ.get("DAGSTER_PG_USERNAME") or "postgres",
        password=os.environ.get("DAGSTER_PG_PASSWORD") or None,
        host=host,
        port=int(os.environ.get("DAGSTER_PG_PORT") or 5432),
        database=os.environ.get("DAGSTER_PG_DB") or "dagster",
    ).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once when the definitions load."""

    symbols: list[str]
    data_dir: Path
    api_key: str | dg.EnvVar
    base_url: str | dg.EnvVar
    requests_per_second: int | dg.EnvVar
    requests_per_minute: int | dg.EnvVar
    requests_per_day: int | dg.EnvVar
    max_concurrent_requests: int | dg.EnvVar
    request_deadline_seconds: int | dg.EnvVar
    premium: bool
    full_history: bool
    datatype: str
    corporate_actions_every_days: int | dg.EnvVar
    storage_url: str | dg.EnvVar
    database_url: str | dg.EnvVar
    auto_migrate: bool
    prices_format: str
    most_plausible_price: float
    refresh_cron: str
    refresh_trading_days_only: bool
    batch_size: int
    alert_webhook: str | dg.EnvVar

    @property
    def database_kind(self) -> str:
        """The warehouse's kind as the UI shows it ("postgres", "sqlite"): its URL's dialect."""
        url = self.database_url
        url = url.get_value() if isinstance(url, dg.EnvVar) else url
        name = sa.make_url(url).get_backend_name()
        return "postgres" if name == "postgresql" else name

    @classmethod
    def from_env(cls) -> "Settings":
        data = data_dir()
        return cls(
            symbols=parse_watchlist(os.environ.get("STOCK_ASSETS_SYMBOLS")),
            data_dir=data,
            api_key=_env("ALPHAVANTAGE_API_KEY", ""),
            base_url=_env("ALPHAVANTAGE_BASE_URL", DEFAULT_BASE_URL),
            requests_per_second=_env_int("ALPHAVANTAGE_REQUESTS_PER_SECOND", FREE_PER_SECOND),
            requests_per_minute=_env_int("ALPHAVANTAGE_REQUESTS_PER_MINUTE", FREE_PER_MINUTE),
            requests_per_day=_env_int("ALPHAVANTAGE_REQUESTS_PER_DAY", FREE_PER_DAY),
            max_concurrent_requests=_env_int(
                "ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS", DEFAULT_MAX_CONCURRENT_REQUESTS
            ),
            request_deadline_seconds=_env_int(
                "ALPHAVANTAGE_REQUEST_DEADLINE_SECONDS", DEFAULT_REQUEST_DEADLINE_SECONDS
            ),
            premium=_env_bool("ALPHAVANTAGE_PREMIUM", False),
            full_history=_env_bool("ALPHAVANTAGE_FULL_HISTORY", True),
            datatype=_env_choice("ALPHAVANTAGE_DATATYPE", "json", {"json", "csv"}),
            corporate_actions_every_days=_env_int(
                "ALPHAVANTAGE_CORPORATE_ACTIONS_DAYS", DEFAULT_CORPORATE_ACTIONS_DAYS
            ),
            storage_url=_env("STOCK_ASSETS_STORAGE_URL", str(data / "objects")),
            database_url=_env(
                "STOCK_ASSETS_DATABASE_URL", f"sqlite:///{data / 'stock_assets.sqlite'}"
            ),
            auto_migrate=_env_bool("STOCK_ASSETS_AUTO_MIGRATE", True),
            prices_format=(
                os.environ.get("STOCK_ASSETS_PRICES_FORMAT", "").strip() or DEFAULT_PRICES_FORMAT
            ),
            most_plausible_price=_env_positive(
                "STOCK_ASSETS_MOST_PLAUSIBLE_PRICE", DEFAULT_MOST_PLAUSIBLE_PRICE
            ),
            refresh_cron=os.environ.get("STOCK_ASSETS_REFRESH_CRON", "").strip() or "30 17 * * 1-5",
            refresh_trading_days_only=_env_bool("STOCK_ASSETS_REFRESH_TRADING_DAYS_ONLY", True),
            batch_size=int(os.environ.get("STOCK_ASSETS_BATCH_SIZE", "").strip() or 100),
            alert_webhook=_env("STOCK_ASSETS_ALERT_WEBHOOK", ""),
        )
