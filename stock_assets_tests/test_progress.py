"""`Progress`: every symbol of a small batch, then a line every few seconds and the last one."""

import pytest

from stock_assets import progress as progress_module
from stock_assets.progress import Progress


class FakeLog:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, line: str) -> None:
        self.lines.append(line)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    return clock


def test_a_small_batch_logs_every_symbol(clock):
    log = FakeLog()
    progress = Progress(log, 3)
    for symbol in ["AAPL", "MSFT", "IBM"]:
        clock.now += 0.25
        progress.step(symbol, "100 rows")
    assert log.lines == [
        "AAPL (1 of 3): 100 rows; 0.2 s elapsed",
        "MSFT (2 of 3): 100 rows; 0.5 s elapsed",
        "IBM (3 of 3): 100 rows; 0.8 s elapsed",
    ]


def test_a_large_batch_logs_every_few_seconds_and_the_last(clock):
    log = FakeLog()
    progress = Progress(log, 500)
    for number in range(500):
        clock.now += 0.1
        progress.step(f"S{number:04d}", "ok")
    assert len(log.lines) == 10  # 50 s in all: one line per 5 s, the last one among them
    assert log.lines[0] == "S0049 (50 of 500): ok; 5.0 s elapsed"
    assert log.lines[-1] == "S0499 (500 of 500): ok; 50.0 s elapsed"
