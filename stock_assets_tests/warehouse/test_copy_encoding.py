"""The public binary COPY encoder, byte for byte, without a server (loads through Postgres
cover the framing end to end)."""

import struct

import numpy as np

from stock_assets.warehouse.copy_encoding import binary_copy_rows


def test_rows_are_grouped_by_their_nulls_and_encoded_field_by_field():
    fields = [
        ("", b"AB", None),
        (">i4", np.array([1, 2, 3]), np.array([False, True, False])),
        (">f8", None, None),
    ]
    encoded = b"".join(chunk.tobytes() for chunk in binary_copy_rows(fields, 3))

    def row(value: int | None) -> bytes:
        number = struct.pack(">i", -1) if value is None else struct.pack(">ii", 4, value)
        return struct.pack(">hi", 3, 2) + b"AB" + number + struct.pack(">i", -1)

    assert encoded == row(1) + row(3) + row(None)


def test_text_fields_are_as_long_as_each_row_s_text():
    texts = np.array([b"none", b"corporate actions", b"", b"none", b"x"])
    fields = [
        ("", texts, np.array([False, False, False, False, True])),
        (">i2", np.arange(5), None),
    ]
    encoded = b"".join(chunk.tobytes() for chunk in binary_copy_rows(fields, 5))

    def row(text: bytes | None, number: int) -> bytes:
        field = struct.pack(">i", -1) if text is None else struct.pack(">i", len(text)) + text
        return struct.pack(">h", 2) + field + struct.pack(">ih", 2, number)

    rows = [row(texts[i] if i < 4 else None, i) for i in range(5)]
    # Group by group: empty text, NULL, the two of four bytes, seventeen bytes.
    assert encoded == b"".join(rows[i] for i in [2, 4, 0, 3, 1])
