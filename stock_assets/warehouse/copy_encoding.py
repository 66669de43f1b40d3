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
    one `bytes` value for every row (format ignored), or None for NULL on every row. Rows are
    grouped by which fields are NULL, so each group has one fixed layout and is one numpy
    record array, the groups one after the other; a history usually is a single group.
    """
    masks = [(i, mask) for i, (_, values, mask) in enumerate(fields) if mask is not None]
    patterns = np.zeros(count, np.int64)
    for bit, (_, mask) in enumerate(masks):
        patterns |= mask.astype(np.int64) << bit
    codes = np.unique(patterns)
    for code in codes:
        rows = slice(None) if len(codes) == 1 else patterns == code
        null_here = {i for bit, (i, _) in enumerate(masks) if code >> bit & 1}
        formats = tuple(
            None
            if values is None or i in null_here
            else f"S{len(values)}"
            if isinstance(values, bytes)
            else fmt
            for i, (fmt, values, _) in enumerate(fields)
        )
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
