"""The price chart: a small, valid PNG, and the days it marks, checked without reading pixels."""

import base64
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import dagster as dg
import numpy as np
import pytest

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.prices.adjust import adjust_for_corporate_actions
from stock_assets.prices.chart import (
    DPI,
    FIGURE_INCHES,
    MAX_POINTS,
    _envelope,
    chart_markers,
    price_chart_metadata,
    render_price_chart,
)
from stock_assets.prices.validate import clean_answer
from stock_assets_tests.prices.sample import (
    clean_sample,
    edited,
    sample_answer,
    with_extra_row,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AAPL_SPLITS = {date(2000, 6, 21): "2:1", date(2005, 2, 28): "2:1"}


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's first chunk, which must be its IHDR."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.fixture(scope="module")
def aapl_chart():
    return render_price_chart(clean_sample())


def test_full_aapl_history_is_a_small_valid_png(aapl_chart):
    assert len(clean_sample()) == 3270
    assert png_size(aapl_chart.png) == (
        round(FIGURE_INCHES[0] * DPI),
        round(FIGURE_INCHES[1] * DPI),
    )
    assert len(aapl_chart.png) <= 40_000


def test_unadjusted_aapl_marks_its_two_splits_as_suspected(aapl_chart):
    markers = aapl_chart.markers
    assert markers.suspected_splits == AAPL_SPLITS
    assert markers.splits == {} and markers.dividends == {} and markers.quarantined == []
    assert aapl_chart.title == "AAPL close"
    assert "suspected split 2000-06-21 (2:1)" in markers.describe()


def test_adjusted_aapl_marks_declared_splits_and_dividends():
    history = adjust_for_corporate_actions(clean_sample(function=DAILY_ADJUSTED))
    chart = render_price_chart(history)
    assert chart.markers.splits == AAPL_SPLITS
    assert chart.markers.suspected_splits == {}  # declared, so not suspected
    assert len(chart.markers.dividends) == 3
    assert all(amount > 0 for amount in chart.markers.dividends.values())
    assert chart.title == "AAPL close and adjusted close"
    assert len(chart.png) <= 40_000


def test_split_ratios_are_labelled_as_shares_after_to_before():
    history = clean_sample(function=DAILY_ADJUSTED)
    history.loc[10, "split_coefficient"] = 1.5
    history.loc[20, "split_coefficient"] = 0.1
    history.loc[30, "split_coefficient"] = float("nan")  # unknown: not a split
    splits = chart_markers(history).splits
    days = history["trade_date"]
    assert splits[days[10]] == "3:2"
    assert splits[days[20]] == "1:10"
    assert days[30] not in splits
    assert len(splits) == 4


def test_quarantined_days_are_marked_when_their_date_parses():
    answer = edited(sample_answer(), "2008-01-02", high="1.0")
    answer = with_extra_row(answer, "2008-01-05", like="2008-01-04")  # a Saturday
    answer = with_extra_row(answer, "2008-02-30", like="2008-01-04")  # no such day
    cleaned = clean_answer(answer)
    assert len(cleaned.quarantine) == 3
    chart = render_price_chart(cleaned.clean, cleaned.quarantine)
    assert chart.markers.quarantined == [date(2008, 1, 2), date(2008, 1, 5)]
    assert chart.markers.suspected_splits == AAPL_SPLITS
    assert "2 quarantined day(s): 2008-01-02, 2008-01-05" in chart.markdown()
    png_size(chart.png)


def test_markdown_embeds_the_png_with_the_symbol_first_in_the_alt_text(aapl_chart):
    found = re.fullmatch(
        r"!\[(AAPL [^\]]*)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)\n\nAAPL: (.*)",
        aapl_chart.markdown(),
        flags=re.DOTALL,
    )
    assert found
    assert found[1] == "AAPL close"
    assert base64.b64decode(found[2]) == aapl_chart.png
    assert found[3] == aapl_chart.markers.describe()


def test_the_metadata_is_one_symbols_chart():
    value = price_chart_metadata(clean_sample("FB"))
    assert isinstance(value, dg.MarkdownMetadataValue)
    assert re.findall(r"!\[(\w+) close\]\(data:image/png;base64,", value.md_str) == ["FB"]
    assert value.md_str.endswith("\n\nFB: no splits, dividends or quarantined days")


def test_the_thinned_line_keeps_every_slices_lowest_and_highest_point():
    days = np.arange("2000-01-03", "2020-01-01", dtype="datetime64[D]")
    values = np.random.default_rng(0).normal(100, 1, len(days))
    values[1234], values[4321], values[77] = 500.0, 1.0, np.nan  # a spike, a dip, a hole
    shown = _envelope(days, values)
    assert len(shown) <= 2 * MAX_POINTS + 2
    assert {0, 1234, 4321, len(days) - 1} <= set(shown)
    assert list(shown) == sorted(set(shown))
    assert values[shown].max() == 500.0 and np.nanmin(values[shown]) == 1.0
    short = days[: 2 * MAX_POINTS]
    assert list(_envelope(short, values[: len(short)])) == list(range(len(short)))


def test_a_chart_is_the_same_whatever_was_charted_before_it():
    """Each thread keeps its figure between charts: nothing of one chart may show in the next."""
    adjusted = adjust_for_corporate_actions(clean_sample(function=DAILY_ADJUSTED))
    answer = with_extra_row(sample_answer("MSFT"), "2008-01-05", like="2008-01-04")
    cleaned = clean_answer(answer)
    charts = [(adjusted,), (clean_sample("FB"),), (cleaned.clean, cleaned.quarantine),
              (clean_sample(),)]
    in_turn = [render_price_chart(*chart).png for chart in charts]
    for chart, png in zip(charts, in_turn, strict=True):
        with ThreadPoolExecutor(1) as fresh_thread:  # a thread's first chart: a new figure
            assert fresh_thread.submit(render_price_chart, *chart).result().png == png
