"""SPLITS and DIVIDENDS answers parsed into typed events; a bad event is set aside, with why."""

import json

from stock_assets.actions.events import parse_actions
from stock_assets.alphavantage.answers import Answer
from stock_assets.prices.adjust import known_actions


def answer(function: str, data: list, symbol: str = "NVDA") -> Answer:
    body = json.dumps({"symbol": symbol, "data": data}).encode()
    return Answer(symbol, function, "", "json", "test", "http://x/query", "2026-12-03T00:00:00",
                  200, "application/json", body)


def test_splits_and_dividends_become_typed_events_oldest_first():
    parsed = parse_actions({
        "SPLITS": answer("SPLITS", [
            {"effective_date": "2024-06-10", "split_factor": "10.0000"},
            {"effective_date": "2021-07-20", "split_factor": "4.0000"},
        ]),
        "DIVIDENDS": answer("DIVIDENDS", [
            {"ex_dividend_date": "2024-05-09", "declaration_date": "2024-04-30",
             "record_date": "None", "payment_date": "2024-06-10", "amount": "1.67"},
        ]),
    })
    assert parsed.splits == [
        {"effective_date": "2021-07-20", "split_factor": 4.0},
        {"effective_date": "2024-06-10", "split_factor": 10.0},
    ]
    assert parsed.dividends == [
        {"ex_dividend_date": "2024-05-09", "amount": 1.67, "declaration_date": "2024-04-30",
         "record_date": None, "payment_date": "2024-06-10"},
    ]
    assert parsed.quarantine == []


def test_a_reverse_split_keeps_its_factor_below_one():
    parsed = parse_actions({"SPLITS": answer("SPLITS", [
        {"effective_date": "2023-03-01", "split_factor": "0.1000"},
    ])})
    assert parsed.splits == [{"effective_date": "2023-03-01", "split_factor": 0.1}]


def test_untrustworthy_events_are_quarantined_with_their_reason_and_the_rest_kept():
    bad_splits = [
        {"effective_date": "2020-01-02", "split_factor": "0"},
        {"effective_date": "2020-01-03", "split_factor": "-2"},
        {"effective_date": "2020-02-30", "split_factor": "2"},
        {"effective_date": "None", "split_factor": "2"},
        {"effective_date": "2020-01-06", "split_factor": "two"},
        "not an event",
        {"effective_date": "2020-01-07", "split_factor": "3.0000"},
    ]
    bad_dividends = [
        {"ex_dividend_date": "2020-01-02", "amount": "-0.5"},
        {"ex_dividend_date": "2020-01-03", "amount": "nan"},
        {"ex_dividend_date": "2020-01-06", "amount": "0.25", "record_date": "soon"},
        {"ex_dividend_date": "2020-01-07", "amount": "0.25"},
    ]
    parsed = parse_actions({"SPLITS": answer("SPLITS", bad_splits),
                            "DIVIDENDS": answer("DIVIDENDS", bad_dividends)})
    assert parsed.splits == [{"effective_date": "2020-01-07", "split_factor": 3.0}]
    assert [d["ex_dividend_date"] for d in parsed.dividends] == ["2020-01-07"]
    reasons = [q["reason"] for q in parsed.quarantine]
    assert reasons == [
        "split factor 0 is not above 0",
        "split factor -2 is not above 0",
        "unparseable effective_date '2020-02-30'",
        "no effective_date",
        "unparseable split_factor 'two'",
        "the event is not an object",
        "dividend amount -0.5 is negative",
        "amount nan is not a finite number",
        "unparseable record_date 'soon'",
    ]
    assert parsed.quarantine[0]["event"] == bad_splits[0]  # as received


def test_actions_never_fetched_are_unknown_not_none():
    assert known_actions(None) is None
    assert known_actions({"fetched_at": None, "splits": [], "dividends": []}) is None
    fetched = {"fetched_at": "2026-12-03T00:00:00+00:00", "splits": [], "dividends": []}
    assert known_actions(fetched) is fetched
