"""When a symbol's corporate actions are due: first load, every few days, a jump; once a day."""

from datetime import date

from stock_assets.actions.cadence import why_due

TODAY = date(2026, 12, 3)


def record(fetched: str | None) -> dict:
    return {"fetched_at": fetched, "splits": [], "dividends": []}


def no_jumps() -> list[str]:
    return []


def test_never_fetched_is_due():
    assert why_due(None, TODAY, 7, no_jumps) == "never fetched"
    assert why_due(record(None), TODAY, 7, no_jumps) == "never fetched"


def test_due_again_after_the_configured_days_not_before():
    assert why_due(record("2026-11-27T12:00:00+00:00"), TODAY, 7, no_jumps) is None
    assert "6 days ago" not in str(why_due(record("2026-11-27T12:00:00+00:00"), TODAY, 7,
                                           no_jumps))
    assert why_due(record("2026-11-26T12:00:00+00:00"), TODAY, 7, no_jumps) == (
        "last fetched 2026-11-26, 7 days ago (every 7)"
    )


def test_zero_days_fetches_on_a_first_load_and_on_jumps_only():
    assert why_due(record("2020-01-01T00:00:00+00:00"), TODAY, 0, no_jumps) is None


def test_an_unexplained_jump_makes_them_due_at_once():
    why = why_due(record("2026-12-01T00:00:00+00:00"), TODAY, 7, lambda: ["2026-12-02 4:1"])
    assert why == "price jump with no split on record: 2026-12-02 4:1"


def test_never_twice_in_a_day_even_with_a_jump():
    def jumps() -> list[str]:
        raise AssertionError("not looked for: fetched today already")

    assert why_due(record("2026-12-03T15:00:00+00:00"), TODAY, 7, jumps) is None
