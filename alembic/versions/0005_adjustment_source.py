"""Add daily_prices.adjustment_source: where each row's adjusted values came from ("premium
answer", "corporate actions" or "none"); NULL for the rows loaded before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_daily_prices_adjustment_source"
# The values as of this revision, spelled out: a later change to the model must not change it.
CHECK = (
    "adjustment_source IS NULL OR "
    "adjustment_source IN ('premium answer', 'corporate actions', 'none')"
)


# SQLite cannot add a CHECK constraint in place: batch mode copies the table there.
def upgrade() -> None:
    with op.batch_alter_table("daily_prices") as batch:
        batch.add_column(sa.Column("adjustment_source", sa.Text))
        batch.create_check_constraint(CONSTRAINT, sa.text(CHECK))


def downgrade() -> None:
    with op.batch_alter_table("daily_prices") as batch:
        batch.drop_constraint(CONSTRAINT, type_="check")
        batch.drop_column("adjustment_source")
