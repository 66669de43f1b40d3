"""Create daily_prices.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_prices",
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
        sa.Column("source_uri", sa.Text, nullable=False),
        sa.Column("source_version", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "trade_date", name="pk_daily_prices"),
        sa.CheckConstraint("volume >= 0", name="ck_daily_prices_volume_nonnegative"),
        comment="Cleaned daily stock prices, one row per symbol and trading day.",
    )


def downgrade() -> None:
    op.drop_table("daily_prices")
