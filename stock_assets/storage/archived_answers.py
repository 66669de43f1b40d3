"""A symbol's archived answers (``raw_quotes/_history/<SYMBOL>/``), read back in fetch order.

Every distinct answer `raw_quotes` stored is archived once, under a key whose stamp is taken
when it was stored, right after its fetch: the listing's order is the fetch order. Reading them
back needs no API request, so the cleaned history can be rebuilt from all of them.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from stock_assets.alphavantage.answers import Answer
from stock_assets.asset_keys import RAW_QUOTES_KEY
from stock_assets.storage.archive import entries
from stock_assets.storage.formats import UnreadableObjectError, get_format
from stock_assets.storage.history_store import archive_folder
from stock_assets.storage.objects import CorruptObject, ObjectStore

_RECORD = get_format("json")  # a record is a JSON document (raw_quotes' format)


class NoArchivedAnswers(LookupError):
    """The archive holds no answer for the symbol: nothing to rebuild from."""


@dataclass(frozen=True)
class ArchivedAnswer:
    """One archived answer: where it is kept and the answer itself, verified."""

    key: str
    uri: str
    answer: Answer

    def describe(self) -> str:
        """One line: fetch time, outputsize, body bytes, body SHA-256 and key."""
        answer = self.answer
        return (
            f"{answer.fetched_at}  {answer.outputsize:<7}  {len(answer.body):>9} bytes  "
            f"{answer.sha256}  {self.key}"
        )


def archived_keys(store: ObjectStore, symbol: str) -> list[str]:
    """The keys of the symbol's archived answers in fetch order; none raises, saying what to do."""
    folder = archive_folder(RAW_QUOTES_KEY, symbol)
    keys = entries(store, folder)
    if not keys:
        raise NoArchivedAnswers(
            f"no archived answers for {symbol} under {store.uri(folder)}/: run materialize first"
        )
    return keys


def read_archived(store: ObjectStore, key: str) -> ArchivedAnswer:
    """One archived answer, its stored checksum and its body's SHA-256 both verified."""
    stored = store.get(key)
    try:
        answer = Answer.from_record(_RECORD.decode(stored.data, as_frame=False))
    except (UnreadableObjectError, ValueError, KeyError, TypeError) as exc:
        raise CorruptObject(f"{stored.version.uri} is not a readable answer: {exc}") from exc
    return ArchivedAnswer(key, stored.version.uri, answer)


def archived_answers(store: ObjectStore, symbol: str) -> Iterator[ArchivedAnswer]:
    """The symbol's archived answers, oldest first, each read when reached (one in memory at a
    time); raises `NoArchivedAnswers` at once when there is none."""
    keys = archived_keys(store, symbol)
    return (read_archived(store, key) for key in keys)
