"""Add split- and dividend-adjusted open/high/low and split-adjusted volume.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["adjusted_open", "adjusted_high", "adjusted_low", "adjusted_volume"]


def upgrade() -> None:
    with op.batch_alter_table("daily_prices") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Double))


def downgrade() -> None:
    with op.batch_alter_table("daily_prices") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
