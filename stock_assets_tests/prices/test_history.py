from stock_assets.prices.history import merge_history
from stock_assets_tests.prices.test_parse import parse_answer, sample_answer


def test_first_answer_is_the_history():
    full = parse_answer(sample_answer())
    merged, stats = merge_history(None, full)
    assert len(merged) == 3270
    assert (stats.added, stats.revised, stats.unchanged) == (3270, 0, 0)


def test_compact_answer_extends_and_revises_but_never_truncates():
    full = parse_answer(sample_answer())
    older = full.iloc[:-10]
    compact = parse_answer(sample_answer(outputsize="compact"))
    compact.loc[compact.index[0], "close"] += 1.0

    merged, stats = merge_history(older, compact)

    assert len(merged) == 3270
    assert (stats.added, stats.revised, stats.unchanged) == (10, 1, 89)
    assert merged["trade_date"].is_unique and merged["trade_date"].is_monotonic_increasing
    revised_day = compact["trade_date"].iloc[0]
    assert (
        merged.loc[merged["trade_date"] == revised_day, "close"].item()
        == (compact["close"].iloc[0])
    )


def test_merging_the_same_answer_again_changes_nothing():
    full = parse_answer(sample_answer())
    merged, _ = merge_history(None, full)
    again, stats = merge_history(merged, full)
    assert again.equals(merged)
    assert (stats.added, stats.revised, stats.unchanged) == (0, 0, 3270)
