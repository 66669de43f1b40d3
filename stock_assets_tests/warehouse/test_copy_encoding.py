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
