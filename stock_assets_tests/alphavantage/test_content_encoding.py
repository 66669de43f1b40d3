"""How an answer's content encoding is undone (`deadline._decoded`): all of the body or an error,
never a part of it passed off as the whole."""

import gzip
import zlib

import pytest
import requests

from stock_assets.alphavantage.deadline import _decoded

BODY = b'{"Time Series (Daily)": {"2013-03-01": {"1. open": "438.0000"}}}\n'


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# Named, and gzip's header without a time: xdist's workers must collect the same test ids.
@pytest.mark.parametrize("encoding, encoded", [
    ("gzip", gzip.compress(BODY, mtime=0)), ("deflate", zlib.compress(BODY)),
    ("deflate", _raw_deflate(BODY)), ("", BODY),
], ids=["gzip", "zlib-deflate", "raw-deflate", "identity"])
def test_an_encoded_body_is_decoded_whole(encoding, encoded):
    assert _decoded(encoded, encoding) == BODY


@pytest.mark.parametrize("encoded", [
    BODY,  # a deflate header over a plain body (found by the hostile corpus: read as 1 byte)
    zlib.compress(BODY) + b"junk",
    _raw_deflate(BODY) + b"junk",
    zlib.compress(BODY)[:-8],
], ids=["plain-body", "zlib-then-junk", "raw-then-junk", "zlib-cut-short"])
def test_a_deflate_body_with_bytes_beyond_or_short_of_its_stream_is_refused(encoded):
    with pytest.raises(requests.exceptions.ContentDecodingError):
        _decoded(encoded, "deflate")
