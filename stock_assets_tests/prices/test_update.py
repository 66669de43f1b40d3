"""`update_history`, the one path of a fetch and a replay, on the bundled sample's answers."""

import pandas as pd
import pytest

from stock_assets.prices.update import update_history
from stock_assets_tests.prices.sample import sample_answer


def test_folding_every_answer_from_nothing_is_what_fetching_them_one_by_one_stored():
    full, compact = sample_answer(outputsize="full"), sample_answer(outputsize="compact")
    fetched = update_history(update_history(None, [full]).history, [compact])
    replayed = update_history(None, [full, compact])

    pd.testing.assert_frame_equal(replayed.history, fetched.history)
    assert len(replayed.history) == 3270 and replayed.answers == 2
    assert len(replayed.latest.clean) == 100  # the compact answer, judged
    assert replayed.merge == fetched.merge
    assert "adjusted_open" not in replayed.history  # a daily (unadjusted) answer: nothing to adjust


def test_the_latest_answer_alone_keeps_only_its_own_days():
    """Why a rebuild needs the archive: the compact answer holds the last 100 days."""
    assert len(update_history(None, [sample_answer(outputsize="compact")]).history) == 100


def test_a_later_answer_wins_a_day_it_also_holds():
    full = sample_answer(outputsize="full")
    day = full.body.index(b'"2013-02-28"')
    edited = full.body[:day] + full.body[day:].replace(b'"441.4000"', b'"442.0000"', 2)
    replayed = update_history(None, [full, sample_answer(outputsize="full", body=edited)])
    assert replayed.merge.updated == 1
    assert replayed.history["close"].iloc[-2] == 442.0  # 2013-02-28, the answer's low and close


def test_no_answer_is_refused():
    with pytest.raises(ValueError, match="no answer"):
        update_history(None, [])
