"""The warehouse tables, the single source of truth that the alembic migrations follow."""

import sqlalchemy as sa

metadata = sa.MetaData()

NUMBER_COLUMNS = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "adjusted_close",
    "dividend_amount",
    "split_coefficient",
    "adjusted_open",
    "adjusted_high",
    "adjusted_low",
    "adjusted_volume",
]
# Text: where the row's adjusted values came from (see `ADJUSTMENT_SOURCE_CHECK`).
TEXT_COLUMNS = ["adjustment_source"]
# What a row holds besides its key and lineage: a change to any of them is an update.
VALUE_COLUMNS = [*NUMBER_COLUMNS, *TEXT_COLUMNS]
LINEAGE_COLUMNS = ["source_uri", "source_sha256", "run_id", "loaded_at"]
# The values `stock_assets.prices.schema.ADJUSTMENT_SOURCES` lists (a shared module imports no
# stage); NULL for rows loaded from histories stored before the column existed.
ADJUSTMENT_SOURCE_CHECK = (
    "adjustment_source IS NULL OR "
    "adjustment_source IN ('premium answer', 'corporate actions', 'none')"
)


def price_columns() -> list[sa.Column]:
    """Key and value columns (fresh objects: a Column belongs to one table)."""
    return [
        sa.Column("symbol", sa.String(10), nullable=False),
        sa.Column("trade_date", sa.Date, nullable=False),
        sa.Column("open", sa.Double, nullable=False),
        sa.Column("high", sa.Double, nullable=False),
        sa.Column("low", sa.Double, nullable=False),
        sa.Column("close", sa.Double, nullable=False),
        sa.Column("volume", sa.BigInteger, nullable=False),
        sa.Column("adjusted_close", sa.Double),
        sa.Column("dividend_amount", sa.Double),
        sa.Column("split_coefficient", sa.Double),
        # Split- and dividend-adjusted prices and split-adjusted volume (premium answers only).
        sa.Column("adjusted_open", sa.Double),
        sa.Column("adjusted_high", sa.Double),
        sa.Column("adjusted_low", sa.Double),
        sa.Column("adjusted_volume", sa.Double),
        sa.Column("adjustment_source", sa.Text),
    ]


def lineage_columns() -> list[sa.Column]:
    """Where each row came from: the stored object, its checksum, the run and the time."""
    return [
        sa.Column("source_uri", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    ]


daily_prices = sa.Table(
    "daily_prices",
    metadata,
    *price_columns(),
    *lineage_columns(),
    sa.PrimaryKeyConstraint("symbol", "trade_date", name="pk_daily_prices"),
    sa.CheckConstraint("volume >= 0", name="ck_daily_prices_volume_nonnegative"),
    sa.CheckConstraint(ADJUSTMENT_SOURCE_CHECK, name="ck_daily_prices_adjustment_source"),
    comment="Cleaned daily stock prices, one row per symbol and trading day.",
)


api_budget = sa.Table(
    "api_budget",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("quota_day", sa.Date, nullable=False),
    sa.Column("used", sa.Integer, nullable=False),
    sa.Column("next_slot", sa.Double, nullable=False),
    comment="The API request budget every run shares: today's count and the next free slot.",
)
