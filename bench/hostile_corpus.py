"""The reliability bench's hostile-input part: the corpus of `stock_assets_tests.hostile` run
through real runs, one row per case, a surprise per case not as expected.

The test (`stock_assets_tests/test_hostile_corpus.py`) runs the same corpus through the same
`run_corpus`, so the bench and the test cannot disagree on what a case expects or how it is
judged. Short mode runs a few cases of each level, those that neither back off nor wait for a
deadline, and one control symbol.
"""

import random
from pathlib import Path

from bench.reliability_table import Table
from stock_assets_tests.hostile.cases import corpus, symbol_corpus
from stock_assets_tests.hostile.runner import CONTROLS, run_corpus

SHORT = {"HTTP 404", "Meta Data names another symbol", "open NaN", "path traversal"}


def run(short: bool, seed: int, work: Path) -> Table:
    """Run the corpus (a few cases with `short`) in `work`; `seed` orders the cases, and so
    which symbol and batch each gets."""
    cases, symbol_cases = corpus(), symbol_corpus()
    if short:
        cases = [c for c in cases if c.name in SHORT]
        symbol_cases = [c for c in symbol_cases if c.name in SHORT]
    random.Random(seed).shuffle(cases)
    result = run_corpus(cases, symbol_cases, work, batches=2 if short else 8,
                        controls=("AAPL",) if short else CONTROLS)
    table = Table("Hostile input", ["case", "level", "symbol", "expected", "found",
                                    "as expected?"])
    for finding in result.findings:
        table.add(finding.case, finding.level, finding.symbol, finding.expected,
                  finding.found.replace("|", "/"), "yes" if finding.as_expected else "NO")
    table.surprises += result.surprises
    count = len(result.findings)
    table.summary = (
        f"{count} cases, all as expected" if not result.surprises
        else f"{count} cases, {len(result.surprises)} not as expected"
    ) + f" ({result.seconds:.0f} s)"
    return table
