"""Per-symbol CPU cost of cleaning, this tree against a baseline revision, in one run.

Why: the chart, the answer parser and `update_history` run once per symbol in the cleaned
prices step; their cost is multiplied by the watchlist. The baseline is the package as of
`--baseline` (default `main`), extracted with `git archive` into a temporary folder. Each tree
lives in a child process of its own and the two are asked for the same call in turn, so both
see the same background load, and every figure is printed as current ÷ baseline. The children
also give a digest of the rows each tree keeps and quarantines, which must be the same.

Data: the bundled full answers (daily AAPL, MSFT, IBM, GOOG, FB; adjusted AAPL) and
`--synthetic N` more daily histories from `bench.synthetic_sample`. Per symbol: `parse`
(`answer_frame`), `clean` (`clean_answer`), `chart` (`render_price_chart` of the adjusted
history and its quarantine), `first load` (`update_history` of nothing plus the full answer)
and `refresh` (the stored history plus the compact answer), and `cleaning` (first load plus
chart, what the asset does per symbol). Each figure is the best of `--repeat` calls per
symbol, summed over the symbols, divided by their number.

    .venv/bin/python -m bench.cleaning
    .venv/bin/python -m bench.cleaning --baseline 74ac875 --repeat 5 --synthetic 20
"""

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ["parse", "clean", "chart", "first load", "refresh", "cleaning"]


def _answers(synthetic: int) -> list:
    """(name, full answer, compact answer) for every history measured."""
    from bench.synthetic_sample import SyntheticSample
    from stock_assets.alphavantage.answers import Answer
    from stock_assets.alphavantage.api import DAILY, DAILY_ADJUSTED
    from stock_assets.alphavantage.sample import SampleAnswers

    synthetic_sample = SyntheticSample(synthetic)
    answers = SampleAnswers(provider=synthetic_sample)
    cases = [(DAILY, s) for s in ["AAPL", "MSFT", "IBM", "GOOG", "FB"]]
    cases += [(DAILY_ADJUSTED, "AAPL")] + [(DAILY, s) for s in synthetic_sample.symbols]

    def answer(function: str, symbol: str, outputsize: str) -> Answer:
        params = {"function": function, "symbol": symbol, "outputsize": outputsize}
        reply = answers.answer({**params, "datatype": "json"})
        return Answer(symbol, function, outputsize, "json", "bench", "", "", 200,
                      reply.content_type, reply.body)

    return [(f"{f}.{s}", answer(f, s, "full"), answer(f, s, "compact")) for f, s in cases]


def _timed(call, *args) -> float:
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def _digest(frame) -> str:
    import pandas as pd

    return f"{len(frame)}:{int(pd.util.hash_pandas_object(frame, index=False).sum())}"


def serve(tree: str, synthetic: int) -> None:
    """A child: with the package found in `tree`, answer 'OPERATION CASE' lines on stdin with the
    seconds one call took, and 'digests' with what each case keeps and quarantines."""
    sys.path.insert(0, tree)
    import stock_assets
    from stock_assets.prices.chart import render_price_chart
    from stock_assets.prices.parse import answer_frame
    from stock_assets.prices.update import update_history
    from stock_assets.prices.validate import clean_answer

    assert Path(stock_assets.__file__).is_relative_to(tree), stock_assets.__file__
    cases = []
    for name, full, compact in _answers(synthetic):
        first = update_history(None, [full])
        cases.append((name, full, compact, first, update_history(first.history, [compact])))

    def cleaning(full) -> None:
        update = update_history(None, [full])
        render_price_chart(update.history, update.latest.quarantine)

    operations = {
        "parse": lambda full, compact, first: answer_frame(full),
        "clean": lambda full, compact, first: clean_answer(full),
        "chart": lambda full, compact, first: render_price_chart(
            first.history, first.latest.quarantine),
        "first load": lambda full, compact, first: update_history(None, [full]),
        "refresh": lambda full, compact, first: update_history(first.history, [compact]),
        "cleaning": lambda full, compact, first: cleaning(full),
    }
    print(json.dumps(len(cases)), flush=True)
    for line in sys.stdin:
        if line.strip() == "digests":
            found = {name: [_digest(f.history), _digest(f.latest.quarantine),
                            _digest(r.history), _digest(r.latest.quarantine)]
                     for name, _, _, f, r in cases}
            print(json.dumps(found), flush=True)
            continue
        operation, number = line.rsplit(" ", 1)
        _, full, compact, first, _ = cases[int(number)]
        print(json.dumps(_timed(operations[operation], full, compact, first)), flush=True)


class _Child:
    """One tree's `serve` process, asked one call at a time."""

    def __init__(self, tree: Path, synthetic: int):
        command = [sys.executable, "-m", "bench.cleaning", "--serve", str(tree),
                   "--synthetic", str(synthetic)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.cases = self.ask(None)

    def ask(self, request: str | None):
        if request is not None:
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"the child for {self.process.args[4]} died")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def _extract(revision: str, into: Path) -> None:
    archive = subprocess.run(["git", "archive", revision, "stock_assets"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    with tempfile.TemporaryFile() as file:
        file.write(archive)
        file.seek(0)
        with tarfile.open(fileobj=file) as tar:
            tar.extractall(into, filter="data")


def _best_seconds(children: dict, repeat: int) -> dict:
    """{tree: {operation: seconds per symbol}}: per case the best of `repeat` calls, the trees
    asked in turn (which goes first alternates), so both see the same background load."""
    cases = children["current"].cases
    best = {tree: {op: [float("inf")] * cases for op in OPERATIONS} for tree in children}
    for round_number in range(repeat):
        order = list(children) if round_number % 2 == 0 else list(children)[::-1]
        for case in range(cases):
            for operation in OPERATIONS:
                for tree in order:
                    seconds = children[tree].ask(f"{operation} {case}")
                    best[tree][operation][case] = min(best[tree][operation][case], seconds)
    return {tree: {op: sum(v) / cases for op, v in ops.items()} for tree, ops in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="git revision to compare against")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--synthetic", type=int, default=4)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.synthetic)
        return
    with tempfile.TemporaryDirectory() as folder:
        _extract(args.baseline, Path(folder))
        children = {"baseline": _Child(Path(folder), args.synthetic),
                    "current": _Child(ROOT, args.synthetic)}
        best = _best_seconds(children, args.repeat)
        digests = {tree: child.ask("digests") for tree, child in children.items()}
        for child in children.values():
            child.close()
    print(f"per symbol, {children['current'].cases} symbols, best of {args.repeat} calls each, "
          f"the trees in turn; baseline {args.baseline}")
    print(f"  {'':12}{'baseline ms':>13}{'current ms':>12}{'current ÷ baseline':>20}")
    for op in OPERATIONS:
        old, new = best["baseline"][op] * 1e3, best["current"][op] * 1e3
        print(f"  {op:12}{old:13.1f}{new:12.1f}{new / old:20.3f}")
    same = digests["baseline"] == digests["current"]
    print(f"  rows kept and quarantined the same in both trees: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
