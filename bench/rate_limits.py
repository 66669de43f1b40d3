"""How fast a client asked, and how often it broke a rate limit, from request arrival times."""

import bisect
from collections.abc import Sequence


def windows_over_limit(times: Sequence[float], window: float, limit: int) -> int:
    """How many sliding windows of `window` seconds hold more than `limit` requests.

    One window starts at each request (any window over the limit can slide forward to start at
    its first request, so none is missed); a burst of `limit + k` requests counts as k windows.
    """
    ordered = sorted(times)
    return sum(
        bisect.bisect_left(ordered, start + window, lo=i) - i > limit
        for i, start in enumerate(ordered)
    )


def request_rate(times: Sequence[float], per: float = 60.0) -> float:
    """Requests per `per` seconds from the first arrival to the last (0 with fewer than two)."""
    if len(times) < 2 or max(times) == min(times):
        return 0.0
    return (len(times) - 1) / (max(times) - min(times)) * per
