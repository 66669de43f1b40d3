"""A long list in one line, for a person: the first few items, then how many more there are."""

from collections.abc import Sequence


def first_few(items: Sequence[object], limit: int, separator: str = ", ") -> str:
    """`a, b, c (and 7 more)`: the first `limit` items, and the count of the rest if any."""
    shown = separator.join(str(item) for item in items[:limit])
    rest = len(items) - limit
    return shown + (f" (and {rest} more)" if rest > 0 else "")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
