"""Add api_budget: the request budget every run and process shares.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_budget",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("quota_day", sa.Date, nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.Column("next_slot", sa.Double, nullable=False),
        comment="The API request budget every run shares: today's count and the next free slot.",
    )


def downgrade() -> None:
    op.drop_table("api_budget")
