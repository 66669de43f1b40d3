"""The object store contract on both backends: atomic publish, compare-and-swap, checksums."""

import io
import threading
from collections.abc import Callable

import pandas as pd
import pytest

from stock_assets.storage.objects import (
    ConcurrentUpdateError,
    CorruptObject,
    ObjectNotFound,
    ObjectStore,
    sha256_hex,
)
from stock_assets.storage.s3 import MiB
from stock_assets_tests.storage.backends import Backend

KEY = "market/prices/IBM.csv"
ROUNDS = 5


def race(writers: list[Callable[[], object]]) -> list[object]:
    """Run the writers at once (released together by a barrier); results or raised errors."""
    barrier = threading.Barrier(len(writers))
    outcomes: list[object] = [None] * len(writers)

    def run(number: int) -> None:
        barrier.wait()
        try:
            outcomes[number] = writers[number]()
        except Exception as error:
            outcomes[number] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def winners_and_losers(outcomes: list[object]) -> tuple[list[int], list[ConcurrentUpdateError]]:
    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ConcurrentUpdateError)
    ]
    assert not unexpected, unexpected
    winners = [n for n, o in enumerate(outcomes) if not isinstance(o, Exception)]
    return winners, [o for o in outcomes if isinstance(o, ConcurrentUpdateError)]


@pytest.mark.parametrize("size", [3, 6 * MiB], ids=["small", "multipart-sized"])
def test_put_then_get_returns_the_bytes_verified(backend: Backend, size: int):
    data = (b"0123456789abcdef" * (size // 16 + 1))[:size]

    written = backend.store.put(KEY, data)

    stored = backend.store.get(KEY)
    assert stored.data == data == backend.read_raw(KEY)
    assert written.sha256 == stored.version.sha256 == sha256_hex(data)
    assert written.etag == stored.version.etag == backend.store.head(KEY).etag
    assert written.uri == backend.store.uri(KEY) and written.size == size
    assert backend.raw_keys() == [KEY]
    assert backend.leftovers() == []


def test_absent_object_has_no_head_and_get_names_it(store: ObjectStore):
    assert store.head(KEY) is None
    with pytest.raises(ObjectNotFound, match=KEY):
        store.get(KEY)


def test_list_names_the_published_keys_under_a_prefix_in_order(backend: Backend):
    store = backend.store
    for key in ("market/prices/MSFT.csv", "market/prices/IBM.csv", "market/quotes/IBM.json"):
        store.put(key, b"x")
    store.put("market/prices/big.bin", b"0" * (6 * MiB))

    assert store.list("market/prices/") == [
        "market/prices/IBM.csv", "market/prices/MSFT.csv", "market/prices/big.bin",
    ]
    assert store.list("market/prices/I") == ["market/prices/IBM.csv"]
    assert store.list("market/q") == ["market/quotes/IBM.json"]
    assert store.list() == backend.raw_keys()
    assert store.list("nowhere/") == []
    assert backend.leftovers() == []


def test_if_match_with_the_current_etag_replaces_the_object(store: ObjectStore):
    first = store.put(KEY, b"v1")

    second = store.put(KEY, b"v2", if_match=first.etag)

    assert store.get(KEY).data == b"v2"
    assert second.etag != first.etag


@pytest.mark.parametrize("condition", ["stale if_match", "if_absent"])
def test_failed_conditional_write_leaves_the_previous_object(backend: Backend, condition: str):
    store = backend.store
    first = store.put(KEY, b"v1")
    current = store.put(KEY, b"v2", if_match=first.etag)
    conditions = {"if_match": first.etag} if condition == "stale if_match" else {"if_absent": True}

    with pytest.raises(ConcurrentUpdateError, match="concurrent update") as failure:
        store.put(KEY, b"lost update", **conditions)

    assert store.uri(KEY) in str(failure.value)
    assert store.get(KEY).data == backend.read_raw(KEY) == b"v2"
    assert store.head(KEY).etag == current.etag
    assert backend.leftovers() == []


def test_if_match_and_if_absent_exclude_each_other(store: ObjectStore):
    with pytest.raises(ValueError, match="exclude"):
        store.put(KEY, b"x", if_match="etag", if_absent=True)


def test_two_writers_from_the_same_version_exactly_one_wins(store: ObjectStore):
    store.put(KEY, b"base")
    for round_number in range(ROUNDS):
        read = store.get(KEY)
        payloads = [read.data + f" +writer{n} round{round_number}".encode() for n in range(2)]

        outcomes = race(
            [
                lambda p=payload, etag=read.version.etag: store.put(KEY, p, if_match=etag)
                for payload in payloads
            ]
        )

        winners, losers = winners_and_losers(outcomes)
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert "concurrent update" in str(losers[0])
        assert store.get(KEY).data == payloads[winners[0]]


def test_first_writers_with_if_absent_exactly_one_wins(store: ObjectStore):
    for round_number in range(ROUNDS):
        key = f"first/{round_number}.json"
        payloads = [f'{{"writer": {n}}}'.encode() for n in range(3)]

        outcomes = race(
            [lambda p=payload, k=key: store.put(k, p, if_absent=True) for payload in payloads]
        )

        winners, losers = winners_and_losers(outcomes)
        assert len(winners) == 1 and len(losers) == 2, outcomes
        assert all("concurrent update" in str(loser) for loser in losers)
        assert store.get(key).data == payloads[winners[0]]


def test_read_modify_write_retried_on_conflict_loses_no_rows(store: ObjectStore):
    """Four writers append rows to one partition; a conflict makes a writer redo, not lose."""
    store.put(KEY, pd.DataFrame({"writer": [-1], "row": [0]}).to_csv(index=False).encode())
    conflicts = []

    def append(writer: int) -> Callable[[], None]:
        def run() -> None:
            for row in range(3):
                while True:
                    current = store.get(KEY)
                    frame = pd.read_csv(io.BytesIO(current.data))
                    frame.loc[len(frame)] = [writer, row]
                    try:
                        store.put(
                            KEY, frame.to_csv(index=False).encode(), if_match=current.version.etag
                        )
                        break
                    except ConcurrentUpdateError as error:
                        conflicts.append(error)

        return run

    outcomes = race([append(writer) for writer in range(4)])

    assert outcomes == [None] * 4
    final = pd.read_csv(io.BytesIO(store.get(KEY).data))
    assert sorted(zip(final.writer, final.row, strict=True)) == [(-1, 0)] + [
        (writer, row) for writer in range(4) for row in range(3)
    ]
    assert conflicts, "the writers never collided; the test proves nothing"


def test_bytes_changed_behind_the_store_raise_corrupt_object(backend: Backend):
    backend.store.put(KEY, b"symbol,close\nIBM,1.0\n")

    backend.overwrite_raw(KEY, b"symbol,close\nIBM,9.9\n")

    with pytest.raises(CorruptObject, match="corrupt") as failure:
        backend.store.get(KEY)
    assert backend.store.uri(KEY) in str(failure.value)
