"""A load test's figures from arrival times: the rate achieved and the windows over a limit."""

import pytest

from bench.rate_limits import request_rate, windows_over_limit


def test_windows_over_limit_counts_one_window_per_request_too_many():
    assert windows_over_limit([], 1.0, 2) == 0
    assert windows_over_limit([0.0, 0.5, 0.99], 1.0, 2) == 1
    assert windows_over_limit([0.0, 0.5, 1.0], 1.0, 2) == 0  # a window is [start, start + 1)
    assert windows_over_limit([0.0] * 5, 1.0, 2) == 3
    assert windows_over_limit([3.0, 0.0, 2.5, 0.2, 0.4], 1.0, 2) == 1  # order does not matter
    paced = [i / 10 for i in range(600)]  # 10 per second for a minute
    assert windows_over_limit(paced, 1.0, 10) == 0
    assert windows_over_limit(paced, 1.0, 9) == len(paced) - 9
    assert windows_over_limit(paced, 60.0, 600) == 0


def test_request_rate_is_per_minute_from_first_to_last_arrival():
    assert request_rate([]) == request_rate([1.0]) == request_rate([1.0, 1.0]) == 0
    assert request_rate([i / 10 for i in range(601)]) == pytest.approx(600)
    assert request_rate([0.0, 0.5, 1.0], per=1.0) == pytest.approx(2)
