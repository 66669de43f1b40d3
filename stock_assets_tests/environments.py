"""The environments tests run our commands in, as a user's shell would hold them."""

import os

OURS = ("ALPHAVANTAGE_", "STOCK_ASSETS_", "DAGSTER_")


def nothing_set(*also: str) -> dict[str, str]:
    """This process's environment without any variable of ours (nor those starting with `also`)."""
    return {k: v for k, v in os.environ.items() if not k.startswith((*OURS, *also))}


def loopback_api(url: str, key: str) -> dict[str, str]:
    """Alpha Vantage at a loopback server, with no pacing and no quota."""
    return {
        "ALPHAVANTAGE_API_KEY": key,
        "ALPHAVANTAGE_BASE_URL": url,
        "ALPHAVANTAGE_REQUESTS_PER_SECOND": "0",
        "ALPHAVANTAGE_REQUESTS_PER_MINUTE": "0",
        "ALPHAVANTAGE_REQUESTS_PER_DAY": "0",
    }


def production(url: str, key: str, bucket: str, database: str) -> dict[str, str]:
    """The production path for one symbol, AAPL: S3 (moto's server, which the `moto_endpoint`
    fixture points boto3 at), a PostgreSQL database and a loopback Alpha Vantage."""
    return {
        **loopback_api(url, key),
        "STOCK_ASSETS_SYMBOLS": "AAPL",
        "STOCK_ASSETS_STORAGE_URL": f"s3://{bucket}/prices",
        "STOCK_ASSETS_DATABASE_URL": database,
    }
