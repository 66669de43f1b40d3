"""Real Alpha Vantage answers (`data/realav`, sources in its manifest), as the tests read them."""

import contextlib
import csv
import gzip
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from stock_assets.alphavantage.answers import Answer

FOLDER = Path(__file__).resolve().parent / "data" / "realav"
MANIFEST = json.loads((FOLDER / "manifest.json").read_bytes())
DATA = MANIFEST["data"]
ERRORS = MANIFEST["errors"]


def body(entry: dict) -> bytes:
    return gzip.decompress((FOLDER / f"{entry['file']}.gz").read_bytes())


def answer(entry: dict) -> Answer:
    """The answer as the client records it (source and time are the test's)."""
    return Answer(
        symbol=entry["symbol"], function=entry["function"], outputsize="full",
        datatype=entry["datatype"], source="alphavantage",
        url="https://www.alphavantage.co/query", fetched_at="2024-01-01T00:00:00+00:00",
        status_code=200, content_type="", body=body(entry),
    )


def error_body(entry: dict, api_key: str) -> bytes:
    """A real error text as Alpha Vantage sends it (an HTTP 200 JSON body), with the key where
    the text quotes one."""
    text = entry["text"].replace("{APIKEY}", api_key)
    return json.dumps({entry["key"]: text}, indent=4).encode()


def text_rows(entry: dict) -> dict[str, dict[str, str]]:
    """Each day's values as the answer's text has them: {day: {open, high, low, close, volume,
    [adjusted_close, dividend_amount, split_coefficient]}}."""
    raw = body(entry).decode("utf-8")
    if entry["datatype"] == "csv":
        rows = csv.DictReader(io.StringIO(raw))
        return {r.pop("timestamp"): {k: v.strip() for k, v in r.items()} for r in rows}
    series = next(v for k, v in json.loads(raw).items() if k.startswith("Time Series"))
    names = {
        "1. open": "open", "2. high": "high", "3. low": "low", "4. close": "close",
        "5. volume": "volume", "5. adjusted close": "adjusted_close", "6. volume": "volume",
        "7. dividend amount": "dividend_amount", "8. split coefficient": "split_coefficient",
    }
    return {day: {names[k]: v for k, v in values.items()} for day, values in series.items()}


@contextlib.contextmanager
def verbatim_server(api_key: str) -> Iterator[str]:
    """A loopback server that answers `/<manifest id>/query` with that real answer, byte for
    byte, or that real error text in its JSON envelope (for `api_key`; `{}` otherwise). Yields
    the base URL: a client's endpoint is `<base>/<id>/query`."""
    bodies = {e["id"]: body(e) for e in DATA}
    bodies |= {e["id"]: error_body(e, api_key) for e in ERRORS}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            reply = bodies[url.path.split("/")[1]] if query.get("apikey") == api_key else b"{}"
            csv_asked = query.get("datatype") == "csv"
            kind = "application/x-download" if csv_asked else "application/json"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
