"""Thirteen answers Alpha Vantage really sent, fetched through the client from a loopback server
and cleaned: every clean value equals the answer's text, and only what the manifest expects is
quarantined (nothing: GPV.TRV's Juneteenth row is a TSX Venture session)."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from stock_assets.ingest.client import AlphaVantageClient
from stock_assets.prices.validate import clean_answer
from stock_assets_tests import real_answers

CANARY = "canary-REAL-2b7e"
PRICES = ("open", "high", "low", "close")


@pytest.fixture(scope="module")
def real_server() -> Iterator[str]:
    """Answers `/<id>/query` with the real answer of that manifest id (for the canary key)."""
    bodies = {e["id"]: real_answers.body(e) for e in real_answers.DATA}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = bodies[url.path.split("/")[1]] if query.get("apikey") == CANARY else b"{}"
            csv = query.get("datatype") == "csv"
            kind = "application/x-download" if csv else "application/json"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _fetch(url: str, entry: dict):
    client = AlphaVantageClient(
        api_key=CANARY, base_url=f"{url}/{entry['id']}/query", budget=None, attempts=1
    )
    return client.fetch_daily(
        entry["symbol"], adjusted=entry["function"] == "TIME_SERIES_DAILY_ADJUSTED",
        outputsize="full", datatype=entry["datatype"],
    )


@pytest.mark.parametrize("entry", real_answers.DATA, ids=[e["id"] for e in real_answers.DATA])
def test_real_answers_clean_to_exactly_their_text(real_server, entry):
    answer = _fetch(real_server, entry)
    assert answer.body == real_answers.body(entry)
    assert CANARY not in answer.url
    cleaned = clean_answer(answer)
    quarantined = {
        str(day): reasons
        for day, reasons in zip(
            cleaned.quarantine["trade_date"].astype(str), cleaned.quarantine["reason"],
            strict=True,
        )
    }
    expected = entry.get("expect_quarantine", {})
    assert set(quarantined) == set(expected), quarantined
    text = real_answers.text_rows(entry)
    assert len(cleaned.clean) + len(quarantined) == len(text)
    for row in cleaned.clean.to_dict(orient="records"):
        values = text[str(row["trade_date"])]
        for column in PRICES:
            assert row[column] == float(values[column]), (row["trade_date"], column)
        assert row["volume"] == int(values["volume"])
        for column in ("adjusted_close", "dividend_amount", "split_coefficient"):
            if column in values:
                assert row[column] == float(values[column]), (row["trade_date"], column)
