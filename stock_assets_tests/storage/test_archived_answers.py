"""A symbol's archived answers read back from a real folder store, in fetch order."""

import json
from datetime import UTC, datetime

import pytest

from stock_assets.storage.archive import entry_key
from stock_assets.storage.archived_answers import (
    NoArchivedAnswers,
    archived_answers,
    archived_keys,
)
from stock_assets.storage.local import LocalFolderStore
from stock_assets.storage.objects import CorruptObject
from stock_assets_tests.prices.sample import sample_answer

FOLDER = "raw_quotes/_history/AAPL"


def _archive(store, answer, at: datetime, *, record: dict | None = None) -> str:
    key = entry_key(FOLDER, answer.sha256, "json", at)
    store.put(key, json.dumps(record or answer.to_record()).encode())
    return key


def test_answers_come_back_oldest_first_each_described_on_one_line(tmp_path):
    store = LocalFolderStore(tmp_path)
    full, compact = sample_answer(outputsize="full"), sample_answer(outputsize="compact")
    later = _archive(store, compact, datetime(2026, 3, 2, tzinfo=UTC))  # written first
    earlier = _archive(store, full, datetime(2026, 3, 1, tzinfo=UTC))
    store.put(f"{FOLDER}/notes.txt", b"not an archive entry")
    store.put("raw_quotes/_history/AAPLX/20260101T000000.000000Z_" + "0" * 64 + ".json", b"{}")

    answers = list(archived_answers(store, "AAPL"))

    assert [a.key for a in answers] == [earlier, later]
    assert [a.answer for a in answers] == [full, compact]
    assert answers[0].uri == str(tmp_path / earlier)
    fields = answers[0].describe().split()
    assert fields == [full.fetched_at, "full", str(len(full.body)), "bytes", full.sha256, earlier]


def test_no_archived_answer_says_where_it_looked_and_what_to_do(tmp_path):
    store = LocalFolderStore(tmp_path)
    with pytest.raises(NoArchivedAnswers) as raised:
        archived_keys(store, "FB")
    assert str(raised.value) == (
        f"no archived answers for FB under {tmp_path}/raw_quotes/_history/FB/: "
        "run materialize first"
    )


def test_an_answer_whose_body_no_longer_matches_its_sha256_is_refused_by_name(tmp_path):
    store = LocalFolderStore(tmp_path)
    answer = sample_answer(outputsize="compact")
    record = {**answer.to_record(), "body": answer.to_record()["body"].replace("438", "439", 1)}
    key = _archive(store, answer, datetime(2026, 3, 1, tzinfo=UTC), record=record)
    with pytest.raises(CorruptObject, match=f"{tmp_path / key} is not a readable answer"):
        list(archived_answers(store, "AAPL"))
