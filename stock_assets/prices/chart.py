"""A small PNG chart of one symbol's cleaned history, for the materialization metadata.

Close (and adjusted close when the answer carries it) over time, with the days worth a look
marked: declared splits (split_coefficient other than 1, labelled with the ratio), probable
splits found in unadjusted prices ("suspected split"), dividends and quarantined days. The
marked days are returned with the image, so what the chart shows can be checked without
looking at pixels. Rendered with matplotlib's Agg canvas (no pyplot; each thread reuses one
figure), each line thinned to the lowest and highest point of every pixel column (a one-day
spike still shows) and palette-compressed: well under 40 KB (about 5 KB for the bundled 13
years of AAPL), however long the history.
"""

import base64
import io
import threading
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import dagster as dg
import numpy as np
import pandas as pd

from stock_assets.listing import first_few
from stock_assets.prices import schema
from stock_assets.prices.splits import detect_splits

METADATA_KEY = "price_chart"
# Slices of time per line, about one per pixel column of the plot, each drawn as its lowest and
# highest point: more points could not show, and fewer keep the chart fast and the PNG small.
MAX_POINTS = 480
FIGURE_INCHES = (6.0, 2.6)
DPI = 80
PALETTE_COLORS = 64
CLOSE_COLOR = "#1f4e8c"
ADJUSTED_COLOR = "#7fa7d9"
SPLIT_COLOR = "#c0392b"
SUSPECTED_COLOR = "#e67e22"
DIVIDEND_COLOR = "#27ae60"
QUARANTINE_COLOR = "#8e44ad"


@dataclass(frozen=True)
class ChartMarkers:
    """The days a chart marks: splits and suspected splits with their ratio ("2:1"), dividends
    with their amount, and the quarantined days (those whose received date parses)."""

    splits: dict[date, str] = field(default_factory=dict)
    suspected_splits: dict[date, str] = field(default_factory=dict)
    dividends: dict[date, float] = field(default_factory=dict)
    quarantined: list[date] = field(default_factory=list)

    def describe(self) -> str:
        """One line naming what is marked, e.g. 'suspected split 2000-06-21 (2:1)'."""
        parts = [f"split {d} ({r})" for d, r in self.splits.items()]
        parts += [f"suspected split {d} ({r})" for d, r in self.suspected_splits.items()]
        if self.dividends:
            parts.append(f"{len(self.dividends)} dividend(s)")
        if self.quarantined:
            shown = first_few(self.quarantined, 5)
            parts.append(f"{len(self.quarantined)} quarantined day(s): {shown}")
        return "; ".join(parts) or "no splits, dividends or quarantined days"


@dataclass(frozen=True)
class PriceChart:
    """A rendered chart: the PNG bytes, what it plots and the days it marks."""

    symbol: str
    png: bytes
    title: str
    markers: ChartMarkers

    def markdown(self) -> str:
        """The chart as a markdown image (alt text starting with the symbol), then a caption."""
        data = base64.b64encode(self.png).decode("ascii")
        caption = f"{self.symbol}: {self.markers.describe()}"
        return f"![{self.title}](data:image/png;base64,{data})\n\n{caption}"


def _ratio(coefficient: float) -> str:
    """A split coefficient as shares after : before, e.g. 2.0 -> '2:1', 0.1 -> '1:10'."""
    ratio = Fraction(coefficient).limit_denominator(100)
    return f"{ratio.numerator}:{ratio.denominator}"


def _days(column: pd.Series) -> list[date]:
    return [pd.Timestamp(day).date() for day in column]


def _by_day(history: pd.DataFrame, rows: pd.Series, values: pd.Series) -> dict:
    """{day: value} for the rows of `history` selected by the boolean mask `rows` (`values`
    holds at least those rows)."""
    return dict(zip(_days(history.loc[rows, "trade_date"]), values[rows[rows].index], strict=True))


def chart_markers(history: pd.DataFrame, quarantine: pd.DataFrame | None = None) -> ChartMarkers:
    """The days a chart of `history` marks. Splits come from split_coefficient when the history
    has it; probable splits it does not declare (all of them in unadjusted data) are suspected.
    Quarantined days are the parseable received dates of `quarantine`'s rows."""
    splits: dict[date, str] = {}
    declared = pd.Series(False, index=history.index)
    if "split_coefficient" in history.columns:
        coefficient = history["split_coefficient"]
        declared = coefficient.notna() & (coefficient != 1)
        # Only the split days: a Fraction per row of a long history costs more than the chart.
        splits = _by_day(history, declared, coefficient[declared].map(_ratio))
    found = detect_splits(history)
    found = found.loc[~found["trade_date"].isin(history.loc[declared, "trade_date"])]
    suspected = dict(zip(_days(found["trade_date"]), found["label"], strict=True))
    dividends: dict[date, float] = {}
    if "dividend_amount" in history.columns:
        paid = history["dividend_amount"] > 0
        dividends = _by_day(history, paid, history["dividend_amount"])
    quarantined: list[date] = []
    if quarantine is not None and not quarantine.empty:
        received = pd.to_datetime(quarantine["trade_date"], format="%Y-%m-%d", errors="coerce")
        quarantined = sorted(set(_days(received.dropna())))
    return ChartMarkers(splits, suspected, dividends, quarantined)


def _close_on(history: pd.DataFrame, days: list[date]) -> pd.Series:
    """The close of each of `days` found in `history`, by day: only those rows are converted."""
    if not days:
        return pd.Series(dtype="float64")
    stamps = schema.as_datetimes(history["trade_date"]).to_numpy(dtype="datetime64[s]")
    rows = np.isin(stamps, np.array(days, dtype="datetime64[s]"))
    return pd.Series(history["close"].to_numpy()[rows], index=_days(stamps[rows]))


def _envelope(days: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Positions of the points worth drawing: in each of `MAX_POINTS` equal slices of time
    (about a pixel column each), the lowest and the highest value, so a one-day spike still
    shows, plus the first and last points. Missing values count as neither."""
    if len(days) <= 2 * MAX_POINTS:
        return np.arange(len(days))
    seconds = days.astype("datetime64[s]").astype("int64")
    span = max(int(seconds[-1] - seconds[0]), 1)
    column = (seconds - seconds[0]) * (MAX_POINTS - 1) // span
    missing = np.isnan(values)
    lowest = np.lexsort((np.where(missing, np.inf, values), column))
    highest = np.lexsort((np.where(missing, -np.inf, values), column))
    starts = np.flatnonzero(np.diff(column[lowest], prepend=-1))
    ends = np.append(starts[1:], len(days)) - 1
    kept = np.concatenate([[0, len(days) - 1], lowest[starts], highest[ends]])
    return np.unique(kept)


def _compressed_png(rgba: np.ndarray) -> bytes:
    """The pixels as a palette PNG: a few flat colours compress far better than RGBA."""
    from PIL import Image

    image = Image.fromarray(rgba).convert("RGB")
    palette = image.quantize(colors=PALETTE_COLORS, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    # zlib level 8: 3 % larger than `optimize` (level 9) on the bundled AAPL, a third of its time.
    palette.save(out, format="PNG", compress_level=8)
    return out.getvalue()


def _mark(axes, history: pd.DataFrame, markers: ChartMarkers) -> None:
    """Splits and suspected splits as dashed lines with their ratio, dividends as triangles on
    the close, quarantined days as ticks along the bottom."""
    marked = [*markers.splits, *markers.suspected_splits, *markers.dividends]
    close_on = _close_on(history, marked)
    for kind, color, found in [
        ("split", SPLIT_COLOR, markers.splits),
        ("suspected split", SUSPECTED_COLOR, markers.suspected_splits),
    ]:
        for number, (day, ratio) in enumerate(found.items()):
            label = kind if number == 0 else None
            axes.axvline(day, color=color, linewidth=0.8, linestyle="--", label=label)
            axes.annotate(
                ratio,
                (day, close_on.get(day, np.nan)),
                xytext=(3, 6),
                textcoords="offset points",
                fontsize=7,
                color=color,
            )
    if markers.dividends:
        paid = list(markers.dividends)
        axes.scatter(
            paid, close_on.reindex(paid), marker="^", s=12, color=DIVIDEND_COLOR, label="dividend"
        )
    if markers.quarantined:
        axes.vlines(
            markers.quarantined,
            0,
            0.1,
            transform=axes.get_xaxis_transform(),
            color=QUARANTINE_COLOR,
            linewidth=1.2,
            label="quarantined",
        )


# Each thread's figure, kept between charts (see `_emptied_axes`).
_FIGURES = threading.local()


def _emptied_axes():
    """This thread's axes, emptied of the last chart, styled and placed: a new figure and its
    ticks cost more than drawing a chart, and an emptied one draws the same pixels (colours are
    never left to the colour cycle, which would go on between charts)."""
    axes = getattr(_FIGURES, "axes", None)
    if axes is None:
        # Imported here: matplotlib takes most of a second to import, and loading the code
        # location (every run, every `dagster dev` reload) should not wait for it.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
        FigureCanvasAgg(figure)
        axes = _FIGURES.axes = figure.add_subplot()
        axes.tick_params(labelsize=7)
        axes.grid(color="#d9d9d9", linewidth=0.5)
        # Fixed margins: `tight_layout` would measure every label again, most of a chart's time.
        figure.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.91)
        return axes
    drawn = [axes.legend_, *axes.lines, *axes.collections, *axes.texts, *axes.patches,
             *axes.images, *axes.artists]
    for artist in drawn:
        if artist is not None:
            artist.remove()
    axes.relim()  # no data left: the next lines set the limits, as on a new figure
    return axes


def render_price_chart(history: pd.DataFrame, quarantine: pd.DataFrame | None = None) -> PriceChart:
    """Chart one symbol's cleaned history (sorted by day) and mark its splits, suspected
    splits, dividends and quarantined days (see `chart_markers`)."""
    symbol = str(history["symbol"].iloc[0]) if len(history) else "?"
    markers = chart_markers(history, quarantine)
    has_adjusted = "adjusted_close" in history.columns and history["adjusted_close"].notna().any()
    title = f"{symbol} close and adjusted close" if has_adjusted else f"{symbol} close"

    axes = _emptied_axes()
    days = schema.as_datetimes(history["trade_date"]).to_numpy(dtype="datetime64[s]")
    lines = [("close", CLOSE_COLOR), ("adjusted_close", ADJUSTED_COLOR)][: 1 + bool(has_adjusted)]
    for column, color in lines:
        values = history[column].to_numpy(dtype="float64")
        shown = _envelope(days, values)
        label = column.replace("_", " ")
        axes.plot(days[shown], values[shown], color=color, linewidth=1, label=label)
    _mark(axes, history, markers)
    axes.set_title(title, fontsize=9, y=1.0)  # placed: no measuring of the ticks to place it
    axes.legend(fontsize=6, loc="best", frameon=False)
    axes.figure.canvas.draw()
    png = _compressed_png(np.asarray(axes.figure.canvas.buffer_rgba()))
    return PriceChart(symbol=symbol, png=png, title=title, markers=markers)


def price_chart_metadata(
    history: pd.DataFrame, quarantine: pd.DataFrame | None = None
) -> dg.MarkdownMetadataValue:
    """One symbol's chart as a markdown value, for that symbol's own materialization."""
    return dg.MetadataValue.md(render_price_chart(history, quarantine).markdown())
