"""The loopback Alpha Vantage server, also serving N synthetic daily histories S0001...::

    .venv/bin/python -m bench.synthetic_server --synthetic 500 --recent  # S0001 ... S0500

Takes every option of `python -m stock_assets.alphavantage.sample_server` besides its own.
"""

from datetime import UTC, datetime

from bench.synthetic_sample import SyntheticSample, last_session_before
from stock_assets.alphavantage.sample_server import argument_parser, serve


def main() -> None:
    parser = argument_parser(__doc__.split("::")[0])
    parser.add_argument(
        "--synthetic", type=int, default=0, metavar="N",
        help="also serve N distinct daily histories S0001... made from the bundled ones",
    )
    parser.add_argument(
        "--recent", action="store_true",
        help="move the synthetic histories to end on the last NYSE session before today",
    )
    args = parser.parse_args()
    provider = None
    if args.synthetic:
        last = last_session_before(datetime.now(UTC).date()) if args.recent else None
        provider = SyntheticSample(args.synthetic, last_session=last)
    serve(args, provider)


if __name__ == "__main__":
    main()
