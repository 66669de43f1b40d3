"""What a run left behind, checked whole after a fault: every stored object, the table against
the stored cleaned histories, duplicate rows, and the archive of raw answers.

A fault may fail a symbol, never tear what is stored: each object reads back, matching the
SHA-256 written with it, and parses as its extension says; the table holds, for each symbol,
exactly its stored cleaned history or (its load rolled back) nothing; and every archived answer
lists and reads back, as `stock-assets answers SYMBOL` reads it.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from stock_assets.storage.archived_answers import NoArchivedAnswers, archived_keys, read_archived
from stock_assets.storage.formats import UnreadableObjectError, get_format
from stock_assets.storage.objects import ObjectNotFound, ObjectStore, StorageError
from stock_assets.warehouse.reconcile import reconcile, table_rows

EQUAL, ABSENT, DIFFERS = "equal", "absent", "DIFFERS"


@dataclass
class Integrity:
    """The checks' findings; `problems` lists what is torn."""

    objects: int = 0
    bad_objects: list[str] = field(default_factory=list)
    table: dict[str, str] = field(default_factory=dict)  # symbol: EQUAL, ABSENT or DIFFERS
    duplicates: int = 0
    answers: int = 0
    bad_answers: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = [f"object {o}" for o in self.bad_objects]
        found += [f"table {s} {state}" for s, state in self.table.items() if state == DIFFERS]
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate (symbol, trade_date) rows")
        return found + [f"answer {a}" for a in self.bad_answers]

    def converged(self) -> bool:
        """Nothing torn and every symbol's rows equal to its stored history."""
        return not self.problems() and all(s == EQUAL for s in self.table.values())

    def objects_cell(self) -> str:
        return f"{self.objects - len(self.bad_objects)}/{self.objects} ok"

    def table_cell(self) -> str:
        return ", ".join(f"{symbol} {state}" for symbol, state in self.table.items())

    def answers_cell(self) -> str:
        return f"{self.answers - len(self.bad_answers)}/{self.answers} ok"


def check(store: ObjectStore, engine: sa.Engine, symbols: list[str]) -> Integrity:
    integrity = Integrity()
    _check_objects(store, integrity)
    _check_table(store, engine, symbols, integrity)
    _check_answers(store, symbols, integrity)
    return integrity


def _check_objects(store: ObjectStore, integrity: Integrity) -> None:
    """Every listed object: read (its SHA-256 verified by `get`), then parsed by its extension."""
    for key in store.list(""):
        integrity.objects += 1
        try:
            stored = store.get(key)
            if not stored.version.sha256:
                raise StorageError("no SHA-256 recorded")
            extension = key.rpartition(".")[2]
            get_format(extension).decode(stored.data, as_frame=extension != "json")
        except (StorageError, UnreadableObjectError, ValueError) as error:
            integrity.bad_objects.append(f"{key}: {error}")


def _check_table(
    store: ObjectStore, engine: sa.Engine, symbols: list[str], integrity: Integrity
) -> None:
    """Each symbol's rows against its stored cleaned history; then duplicate keys."""
    if not sa.inspect(engine).has_table("daily_prices"):
        integrity.table = dict.fromkeys(symbols, ABSENT)
        return
    parquet = get_format("parquet")
    for symbol in symbols:
        rows = table_rows(engine, symbol)
        try:
            data = store.get(f"cleaned_daily_prices/{symbol}.parquet").data
        except ObjectNotFound:
            integrity.table[symbol] = ABSENT if rows.empty else DIFFERS
            continue
        if rows.empty:
            integrity.table[symbol] = ABSENT
            continue
        history = parquet.decode(data, as_frame=True)
        integrity.table[symbol] = EQUAL if reconcile(rows, history).matches else DIFFERS
    with engine.connect() as connection:
        integrity.duplicates = connection.execute(sa.text(
            "SELECT count(*) FROM (SELECT symbol, trade_date FROM daily_prices "
            "GROUP BY symbol, trade_date HAVING count(*) > 1) AS repeated"
        )).scalar_one()


def _check_answers(store: ObjectStore, symbols: list[str], integrity: Integrity) -> None:
    """Every archived answer of each symbol listed and read back (checksums verified)."""
    for symbol in symbols:
        try:
            keys = archived_keys(store, symbol)
        except NoArchivedAnswers:
            continue
        for key in keys:
            integrity.answers += 1
            try:
                read_archived(store, key)
            except StorageError as error:
                integrity.bad_answers.append(f"{key}: {error}")
