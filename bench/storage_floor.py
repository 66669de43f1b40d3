"""The object store's own floor for a refresh that keeps the project's storage contract.

Per symbol, a refresh that keeps every raw answer and publishes the history with compare-and-swap
needs at least four calls to the object store, whatever the rest of the design: the latest raw
answer (PUT), its immutable archive entry (PUT if absent), the history segment the new day falls
in (GET, for its version) and that segment written back (PUT if still that version). This times
exactly those calls, on small bodies, with the run's requests in flight at once, against the
given S3 server; `bench.peers` prints it beside the peers' whole refresh.
"""

import time
from concurrent.futures import ThreadPoolExecutor

BODY = b"x" * 8_000  # about a compact answer, and a year's Parquet segment
CALLS_PER_SYMBOL = 4


def refresh_floor(s3, bucket: str, symbols: list[str], *, workers: int = 4) -> float:
    """Seconds for the four calls of every symbol, `workers` symbols at a time (the segments
    exist beforehand, as they do before a refresh; writing them is not timed)."""
    segments = {symbol: f"floor/history/{symbol}/2026.parquet" for symbol in symbols}
    for key in segments.values():
        s3.put_object(Bucket=bucket, Key=key, Body=BODY)

    def one_symbol(symbol: str) -> None:
        s3.put_object(Bucket=bucket, Key=f"floor/raw/{symbol}.json", Body=BODY)
        s3.put_object(Bucket=bucket, Key=f"floor/archive/{symbol}.json", Body=BODY,
                      IfNoneMatch="*")
        etag = s3.get_object(Bucket=bucket, Key=segments[symbol])["ETag"]
        s3.put_object(Bucket=bucket, Key=segments[symbol], Body=BODY, IfMatch=etag)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one_symbol, symbols))
    return time.perf_counter() - started
