"""SPLITS and DIVIDENDS answers are checked before anything parses them: this symbol's, with a
list of events; errors in the same envelopes as the daily series, through the same classifier."""

import pytest

from stock_assets.alphavantage.answers import Answer, validate_answer
from stock_assets.alphavantage.errors import AnswerForAnotherSymbol, MalformedAnswer
from stock_assets.alphavantage.sample import error_payload
from stock_assets_tests.alphavantage.test_answers import BUNDLED_ERRORS


def actions_answer(function: str, body: bytes, symbol: str = "AAPL") -> Answer:
    return Answer(symbol, function, "", "json", "test", "", "", 200, "application/json", body)


@pytest.mark.parametrize("function", ["SPLITS", "DIVIDENDS"])
def test_a_corporate_actions_answer_for_this_symbol_passes_even_when_empty(function):
    validate_answer(actions_answer(function, b'{"symbol": "AAPL", "data": []}'))
    validate_answer(actions_answer(function, b'{"symbol": "AAPL", "data": [{"x": "1"}]}'))


def test_a_splits_answer_for_another_symbol_is_rejected_naming_both():
    with pytest.raises(AnswerForAnotherSymbol) as raised:
        validate_answer(actions_answer("SPLITS", b'{"symbol": "MSFT", "data": []}'))
    assert str(raised.value) == (
        "AAPL: Alpha Vantage answer for another symbol: the SPLITS answer is for 'MSFT', not "
        "AAPL; it was not stored as AAPL's"
    )
    assert not raised.value.retryable


@pytest.mark.parametrize("body", [b'{"symbol": "AAPL"}', b'{"symbol": "AAPL", "data": {}}'])
def test_a_corporate_actions_answer_without_a_data_list_is_malformed(body):
    with pytest.raises(MalformedAnswer, match="DIVIDENDS answer without a 'data' list"):
        validate_answer(actions_answer("DIVIDENDS", body))


@pytest.mark.parametrize("name, error", sorted(BUNDLED_ERRORS.items()))
def test_corporate_actions_errors_go_through_the_same_classifier(name, error):
    if name == "global_quote_unknown_symbol":
        error = MalformedAnswer  # no 'data' list
    with pytest.raises(error):
        validate_answer(actions_answer("SPLITS", error_payload(name)))
