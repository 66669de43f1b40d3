"""`validate_answer` classifies every real payload; `Answer` records survive storage byte for
byte."""

import base64
import hashlib
import json
from pathlib import Path

import pytest

from stock_assets.alphavantage.answers import Answer, redact, validate_answer
from stock_assets.alphavantage.errors import (
    AlphaVantageError,
    InvalidApiKey,
    MalformedAnswer,
    PlanError,
    QuotaExhausted,
    SymbolRejected,
    Throttled,
)
from stock_assets.alphavantage.sample import SAMPLE_DATA, error_payload

# Every bundled payload, answered to a TIME_SERIES_DAILY request, and what it must become.
BUNDLED_ERRORS = {
    "error_apikey_missing": InvalidApiKey,
    "error_invalid_call": SymbolRejected,
    "global_quote_unknown_symbol": MalformedAnswer,
    "information_outputsize_full_premium": PlanError,
    "information_premium_endpoint": PlanError,
    "information_rate_limit_daily": QuotaExhausted,
    "note_rate_limit_per_minute_legacy": Throttled,
}


def make_answer(body: bytes, *, datatype: str = "json", symbol: str = "IBM") -> Answer:
    return Answer(
        symbol=symbol,
        function="TIME_SERIES_DAILY",
        outputsize="full",
        datatype=datatype,
        source="alphavantage",
        url=f"http://127.0.0.1:1/query?function=TIME_SERIES_DAILY&symbol={symbol}",
        fetched_at="2024-06-28T21:00:00+00:00",
        status_code=200,
        content_type="application/json",
        body=body,
    )


def classify(body: bytes, *, datatype: str = "json", api_key: str = "") -> AlphaVantageError:
    with pytest.raises(AlphaVantageError) as caught:
        validate_answer(make_answer(body, datatype=datatype), secret=api_key)
    return caught.value


def test_every_bundled_error_payload_has_an_expected_class():
    bundled = {p.name.removesuffix(".json") for p in (SAMPLE_DATA / "errors").iterdir()}
    assert bundled == set(BUNDLED_ERRORS)


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize("name", sorted(BUNDLED_ERRORS))
def test_bundled_error_payloads_are_classified_for_json_and_csv(name, datatype):
    error = classify(error_payload(name), datatype=datatype)
    assert type(error) is BUNDLED_ERRORS[name]
    assert error.symbol == "IBM"
    assert str(error).startswith(f"IBM: Alpha Vantage {error.kind}: ")


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_full_history_premium_notice_names_the_parameter_and_the_setting(datatype):
    error = classify(error_payload("information_outputsize_full_premium"), datatype=datatype)
    assert isinstance(error, PlanError)
    assert "outputsize=full is premium-only" in error.detail
    assert "ALPHAVANTAGE_FULL_HISTORY=false" in error.detail
    assert not error.retryable


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_premium_endpoint_notice_points_at_the_premium_setting(datatype):
    error = classify(error_payload("information_premium_endpoint"), datatype=datatype)
    assert isinstance(error, PlanError)
    assert "endpoint is premium-only" in error.detail
    assert "ALPHAVANTAGE_PREMIUM" in error.detail


@pytest.mark.parametrize("datatype", ["json", "csv"])
@pytest.mark.parametrize("fault", ["information_burst", "note_rate_limit_per_minute_legacy"])
def test_frequency_notices_are_retryable_throttles(sample_server, fault, datatype):
    sample_server.fail("IBM", fault)
    reply, applied = sample_server.reply({"function": "TIME_SERIES_DAILY", "symbol": "IBM"})
    assert applied == fault
    error = classify(reply.body, datatype=datatype)
    assert type(error) is Throttled
    assert error.retryable
    assert "Thank you for using Alpha Vantage!" in error.detail


BURST = (
    "Burst pattern detected. Please consider spreading out your free API requests more sparingly "
    "(1 request per second). You may subscribe to any of the premium plans at "
    "https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), "
    "raise the per-minute limit to higher levels, and unlock all premium endpoints"
)


def test_burst_pattern_notice_is_a_throttle_though_it_names_premium_and_a_day():
    error = classify(json.dumps({"Information": BURST}).encode())
    assert type(error) is Throttled and error.retryable
    assert error.detail == BURST


@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_daily_limit_is_a_final_quota_error_not_a_throttle(datatype):
    error = classify(error_payload("information_rate_limit_daily"), datatype=datatype)
    assert type(error) is QuotaExhausted
    assert not error.retryable
    assert "25 requests per day" in error.detail


def test_demo_key_notice_is_a_plan_error(sample_server):
    sample_server.fail("IBM", "information_demo")
    reply, _ = sample_server.reply({"function": "TIME_SERIES_DAILY", "symbol": "IBM"})
    error = classify(reply.body)
    assert type(error) is PlanError
    assert "demo API key" in error.detail


def test_unknown_notice_is_a_plan_error_quoting_the_text():
    error = classify(b'{"Information": "Something new from Alpha Vantage."}')
    assert type(error) is PlanError
    assert "unexpected notice: Something new from Alpha Vantage." in error.detail


def test_key_quoted_in_a_payload_is_redacted_before_classification():
    body = json.dumps(
        {
            "Information": "We have detected your API key as demo-KEY-9 and our standard API "
            "rate limit is 25 requests per day."
        }
    ).encode()
    error = classify(body, api_key="demo-KEY-9")
    assert type(error) is QuotaExhausted  # not the demo-key PlanError: "demo" left with the key
    assert "demo-KEY-9" not in str(error)
    assert "your API key as *** and" in error.detail


def test_error_message_about_the_key_is_redacted_too():
    body = b'{"Error Message": "the parameter apikey=s3cret-KEY is invalid or missing."}'
    error = classify(body, api_key="s3cret-KEY")
    assert type(error) is InvalidApiKey
    assert "s3cret-KEY" not in repr(error)
    assert "apikey=*** is invalid" in error.detail


def test_redact_replaces_every_occurrence_and_leaves_text_without_secret_alone():
    assert redact("k=abc&x=abc", "abc") == "k=***&x=***"
    assert redact("nothing here", "abc") == "nothing here"
    assert redact("abc", "") == "abc"


@pytest.mark.parametrize(
    "body, datatype, reason",
    [
        (b"", "json", "not valid JSON"),
        (b"<html><body>502 Bad Gateway</body></html>", "json", "not valid JSON"),
        (b'{"Meta Data": {"2. Symbol": "IBM"}, "Time Ser', "json", "not valid JSON"),
        (b"[1, 2]", "json", "not an object"),
        (b'{"Meta Data": {}}', "json", "without 'Time Series (Daily)'"),
        (b"<html><body>502 Bad Gateway</body></html>", "csv", "does not start with the daily"),
        (b"timestamp,open,high,low,close,volume\r\n2013-03-01,1,2", "csv", "truncated"),
        (b"timestamp,open,high,low,close,volume\r\n", "csv", "no rows"),
        (b"timestamp,open,high,low,close,volume\r\n2013-03-01,1,2\r\n", "csv", "wrong width"),
    ],
)
def test_unreadable_bodies_are_retryable_malformed_answers(body, datatype, reason):
    error = classify(body, datatype=datatype)
    assert type(error) is MalformedAnswer
    assert error.retryable
    assert reason in error.detail


def test_a_json_series_answered_to_a_csv_request_is_malformed(reference_sample):
    body = (reference_sample / "TIME_SERIES_DAILY" / "AAPL.compact.json").read_bytes()
    error = classify(body, datatype="csv")
    assert type(error) is MalformedAnswer
    assert "without 'Time Series (Daily)'" in error.detail


@pytest.mark.parametrize(
    "name, datatype",
    [
        ("TIME_SERIES_DAILY/AAPL.json", "json"),
        ("TIME_SERIES_DAILY/AAPL.compact.json", "json"),
        ("TIME_SERIES_DAILY/FB.json", "json"),
        ("TIME_SERIES_DAILY_ADJUSTED/AAPL.json", "json"),
        ("csv/daily_AAPL.csv", "csv"),
        ("csv/daily_adjusted_MSFT.csv", "csv"),
    ],
)
def test_real_series_pass(reference_sample, name, datatype):
    symbol = name.split("/")[-1].split(".")[0].split("_")[-1]
    validate_answer(
        make_answer((reference_sample / name).read_bytes(), datatype=datatype, symbol=symbol)
    )


def test_leading_whitespace_before_an_error_object_is_still_classified_for_csv():
    error = classify(b"\r\n  " + error_payload("error_invalid_call"), datatype="csv")
    assert type(error) is SymbolRejected


def roundtrip(answer: Answer) -> tuple[dict, Answer]:
    """Through JSON text, as the record is stored."""
    record = json.loads(json.dumps(answer.to_record()))
    return record, Answer.from_record(record)


def test_utf8_record_round_trip_is_byte_exact(reference_sample):
    body = (reference_sample / "csv" / "daily_AAPL.csv").read_bytes()
    answer = make_answer(body, datatype="csv")
    record, restored = roundtrip(answer)
    assert record["body_encoding"] == "utf-8"
    assert record["body"] == body.decode("utf-8")
    assert record["body_sha256"] == hashlib.sha256(body).hexdigest() == answer.sha256
    assert restored == answer
    assert restored.body == body  # CRLF line ends kept


@pytest.mark.parametrize(
    "body",
    [
        b"caf\xe9,1.0\r\n",  # Latin-1, not UTF-8
        b"\xff\xfe{\x00}\x00",  # UTF-16 with BOM
        bytes(range(256)),
    ],
)
def test_non_utf8_record_round_trip_is_byte_exact(body):
    answer = make_answer(body)
    record, restored = roundtrip(answer)
    assert record["body_encoding"] == "base64"
    assert base64.b64decode(record["body"]) == body
    assert restored.body == body
    assert restored == answer


def test_awkward_utf8_round_trips_exactly():
    body = '\ufeff{"x": "\u00e9\u2028\\u0000"}\r\n\x00 \U0001f4c8'.encode()
    record, restored = roundtrip(make_answer(body))
    assert record["body_encoding"] == "utf-8"
    assert restored.body == body


def test_record_holds_every_field_plus_the_body_checksum():
    record = make_answer(b"{}").to_record()
    assert set(record) == set(Answer.__dataclass_fields__) | {"body_encoding", "body_sha256"}
    assert record["status_code"] == 200
    assert record["symbol"] == "IBM"


@pytest.mark.parametrize("body", [b"{}", b"\xff\x00"])
def test_tampered_checksum_is_detected(body):
    record = make_answer(body).to_record()
    record["body_sha256"] = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ValueError, match="IBM: stored answer body does not match its sha256"):
        Answer.from_record(record)


def test_tampered_body_is_detected():
    record = make_answer(b'{"Time Series (Daily)": {}}').to_record()
    record["body"] = record["body"].replace("Daily", "Dai1y")
    with pytest.raises(ValueError, match="does not match its sha256"):
        Answer.from_record(record)


REAL_ANSWERS = Path(__file__).resolve().parents[1] / "data" / "realav"
REAL_ERRORS = json.loads((REAL_ANSWERS / "manifest.json").read_bytes())["errors"]
CANARY_KEY = "CANARYKEY1234"


@pytest.mark.parametrize("entry", REAL_ERRORS, ids=[e["id"] for e in REAL_ERRORS])
@pytest.mark.parametrize("datatype", ["json", "csv"])
def test_real_error_texts_are_classified_as_their_source_says(entry, datatype):
    """Seventeen texts Alpha Vantage really sent (manifest: source and expected kinds), as JSON
    bodies even to CSV requests, as Alpha Vantage answers them."""
    text = entry["text"].replace("{APIKEY}", CANARY_KEY)
    body = json.dumps({entry["key"]: text}, indent=4).encode()
    error = classify(body, datatype=datatype, api_key=CANARY_KEY)
    assert type(error).__name__ in entry["expect"], (entry["id"], type(error).__name__, str(error))
    assert CANARY_KEY not in str(error)

