"""What a load is given besides the rows (their lineage, its timeouts), and what it reports: the
counts of what it did, or the error that rolled it back.

Apart from `load` so that the modules `load` is built from can use them too.
"""

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lineage:
    """Where a symbol's cleaned history was read from."""

    source_uri: str
    source_sha256: str
    run_id: str


@dataclass(frozen=True)
class LoadTimeouts:
    """How long a Postgres load may wait for a lock, and run one statement, before it fails and
    rolls back: a stuck lock then fails clearly instead of holding the run forever."""

    lock_seconds: float = 30.0
    statement_seconds: float = 600.0

    def settings(self) -> dict[str, str]:
        """Postgres' settings, in milliseconds."""
        return {
            "lock_timeout": f"{round(self.lock_seconds * 1000)}ms",
            "statement_timeout": f"{round(self.statement_seconds * 1000)}ms",
        }

    def named(self, setting: str) -> str:
        """'lock_timeout of 30 s', for a message."""
        seconds = self.lock_seconds if setting == "lock_timeout" else self.statement_seconds
        return f"{setting} of {seconds:g} s"


@dataclass(frozen=True)
class SymbolLoadStats:
    """What one load did to one symbol: its history's rows and first and last day (ISO dates,
    None for an empty history), and its rows inserted, updated, deleted and left unchanged."""

    rows: int
    first_trade_date: str | None
    last_trade_date: str | None
    inserted: int
    updated: int
    deleted: int
    unchanged: int

    COUNTS = ("rows", "inserted", "updated", "deleted", "unchanged")


@dataclass(frozen=True)
class LoadStats:
    """What one load did: totals, and the same counts per symbol (`by_symbol`)."""

    inserted: int
    updated: int
    deleted: int
    unchanged: int
    seconds: float
    by_symbol: dict[str, SymbolLoadStats] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        total = self.inserted + self.updated + self.deleted + self.unchanged
        return total / self.seconds if self.seconds > 0 else 0.0

    def as_metadata(self) -> dict:
        return {
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_deleted": self.deleted,
            "rows_unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
        }

    def summary(self, limit: int = 20) -> list[dict]:
        """One row per symbol for a small table: the first `limit` symbols by name, then (when
        there are more) one row "and N more" holding the sum of the others' counts."""
        symbols = sorted(self.by_symbol)
        rows = [{"symbol": s, **dataclasses.asdict(self.by_symbol[s])} for s in symbols[:limit]]
        rest = [self.by_symbol[s] for s in symbols[limit:]]
        if rest:
            sums = {name: sum(getattr(s, name) for s in rest) for name in SymbolLoadStats.COUNTS}
            dates = {"first_trade_date": None, "last_trade_date": None}
            rows.append({"symbol": f"and {len(rest)} more", **dates, **sums})
        return rows


class LoadError(RuntimeError):
    """A load that was rolled back; says which symbol and, where known, which day."""
