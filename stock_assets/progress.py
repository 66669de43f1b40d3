"""Progress lines for long runs: "n of N, rows, elapsed" per symbol, without flooding the log.

Every log line is an event Dagster stores (about 10 ms each), so a batch of hundreds of symbols
logs every symbol only while it is small, then one line every few seconds and the last one.
"""

import time

import dagster as dg

EVERY_SYMBOL_UP_TO = 20
INTERVAL_SECONDS = 5.0


class Progress:
    """Counts symbols done and logs `<what> (n of N): <detail>; <elapsed> s elapsed`."""

    def __init__(self, log: dg.DagsterLogManager, total: int):
        self.log = log
        self.total = total
        self.done = 0
        self.started = self._last = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def step(self, what: str, detail: str) -> None:
        self.done += 1
        now = time.monotonic()
        if (
            self.total <= EVERY_SYMBOL_UP_TO
            or self.done == self.total
            or now - self._last >= INTERVAL_SECONDS
        ):
            self._last = now
            self.log.info(f"{what} ({self.done} of {self.total}): {detail}; "
                          f"{self.elapsed:.1f} s elapsed")
