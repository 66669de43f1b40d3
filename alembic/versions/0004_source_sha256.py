"""Rename daily_prices.source_version to source_sha256: it holds the SHA-256 of the stored
object each row was loaded from, and the name now says so.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain SQL that PostgreSQL and SQLite (3.25+) both run in place: no table copy.
def upgrade() -> None:
    op.execute("ALTER TABLE daily_prices RENAME COLUMN source_version TO source_sha256")


def downgrade() -> None:
    op.execute("ALTER TABLE daily_prices RENAME COLUMN source_sha256 TO source_version")
