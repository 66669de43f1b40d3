"""How the benchmarks read sizes and print verdicts, once for all of them."""


def row_count(text: str) -> int:
    """'1M', '10M', '250k' or a plain number."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def verdict(value: float, target: float, *, at_most: bool, unit: str = "") -> str:
    """`target ≤ 2: met` (or `MISSED`): a figure against its target, as every bench prints it."""
    met = value <= target if at_most else value >= target
    return f"target {'≤' if at_most else '≥'} {target:g}{unit}: {'met' if met else 'MISSED'}"
