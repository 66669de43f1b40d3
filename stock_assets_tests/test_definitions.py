"""How the code location presents its assets in the UI: one group, stages as tags, and the
table's kind the configured database's."""

import dataclasses

import dagster as dg
import pytest

from stock_assets.definitions import build_assets, defs
from stock_assets.settings import Settings

TABLE = dg.AssetKey("daily_prices_table")


def _table_kinds(settings: Settings) -> set[str]:
    (table,) = [asset for asset in build_assets(settings) if TABLE in asset.keys]
    return set(table.specs_by_key[TABLE].kinds)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("sqlite:////tmp/stock_assets.sqlite", "sqlite"),
        ("postgresql+psycopg://stock:secret@db.internal:5432/prices", "postgres"),
        ("postgresql://stock@db.internal/prices", "postgres"),
    ],
)
def test_the_table_shows_only_the_configured_databases_kind(url: str, kind: str):
    assert _table_kinds(dataclasses.replace(Settings.from_env(), database_url=url)) == {kind}


def test_a_database_url_from_the_environment_names_its_kind_too(monkeypatch):
    monkeypatch.setenv("STOCK_ASSETS_DATABASE_URL", "postgresql+psycopg://stock@db/prices")
    settings = Settings.from_env()
    assert isinstance(settings.database_url, dg.EnvVar)
    assert _table_kinds(settings) == {"postgres"}


def test_every_asset_is_in_one_group_with_its_stage_as_a_tag():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    stages = {key.to_user_string(): graph.get(key).tags.get("stage") for key in keys}
    assert stages == {
        "raw_quotes": "ingest",
        "corporate_actions": "actions",
        "cleaned_daily_prices": "prices",
        "quarantined_price_rows": "prices",
        "daily_prices_table": "warehouse",
    }
    assert {graph.get(key).group_name for key in keys} == {"stock_prices"}
    assert graph.get(TABLE).kinds == {"sqlite"}  # the offline default
