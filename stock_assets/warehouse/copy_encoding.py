"""Postgres' binary COPY format, built a whole column at a time with numpy.

Public so that what measures the loader (`bench/`) encodes rows exactly as the loader does:
a stream is `COPY_HEADER`, the records of `binary_copy_rows`, then `COPY_TRAILER`.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

# Postgres counts dates and timestamps from 2000-01-01, numpy and Arrow from 1970-01-01.
PG_EPOCH_DAYS = 10_957
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
COPY_TRAILER = b"\xff\xff"


@lru_cache(maxsize=512)
def record_layout(formats: tuple[str | None, ...]) -> np.dtype:
    """One binary COPY row as a numpy record: field count, then each field's length and value
    (no value for a NULL, whose format is None)."""
    fields = [("count", ">i2")]
    for i, fmt in enumerate(formats):
        fields.append((f"length{i}", ">i4"))
        if fmt is not None:
            fields.append((f"value{i}", fmt))
    return np.dtype(fields)


def binary_copy_rows(fields: Sequence[tuple], count: int) -> Iterator[np.ndarray]:
    """`count` rows in Postgres' binary COPY format, built a whole column at a time.

    Each field is (numpy big-endian format, values, NULL mask): values is an array of `count`,
    one `bytes` value for every row (format ignored), or None for NULL on every row; an array
    of bytes (numpy "S") is text, each row's as long as it is (format ignored). Rows are
    grouped by which fields are NULL and how long their texts are, so each group has one fixed
    layout and is one numpy record array, the groups one after the other; a history usually is
    a single group, or one per length of its texts.
    """
    patterns = _layout_patterns(fields, count)
    codes, firsts = np.unique(patterns, return_index=True)
    for code, first in zip(codes, firsts, strict=True):
        rows = slice(None) if len(codes) == 1 else patterns == code
        formats = tuple(_format(field, first) for field in fields)
        layout = record_layout(formats)
        records = np.empty(count if len(codes) == 1 else int(rows.sum()), layout)
        records["count"] = len(fields)
        for i, ((_, values, _), fmt) in enumerate(zip(fields, formats, strict=True)):
            if fmt is None:
                records[f"length{i}"] = -1
                continue
            records[f"length{i}"] = layout[f"value{i}"].itemsize
            records[f"value{i}"] = values if isinstance(values, bytes) else values[rows]
        yield records


def _is_text(values: np.ndarray | bytes | None) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind == "S"


def _layout_patterns(fields: Sequence[tuple], count: int) -> np.ndarray:
    """Each row's layout as one number: a bit for each NULL mask, then for each text field the
    rank of its length among the field's lengths (the table's fields take about 15 bits)."""
    patterns = np.zeros(count, np.int64)
    bit = 0
    for _, values, mask in fields:
        if mask is not None:
            patterns |= mask.astype(np.int64) << bit
            bit += 1
        if _is_text(values):
            lengths, ranks = np.unique(np.char.str_len(values), return_inverse=True)
            patterns |= ranks.astype(np.int64) << bit
            bit += max(1, (len(lengths) - 1).bit_length())
    return patterns


def _format(field: tuple, row: int) -> str | None:
    """The field's format in the layout of `row`'s group; None where it is NULL."""
    fmt, values, mask = field
    if values is None or (mask is not None and mask[row]):
        return None
    if isinstance(values, bytes):
        return f"S{len(values)}"
    return f"S{len(values[row])}" if _is_text(values) else fmt
