from stock_assets.listing import first_few


def test_first_few_lists_up_to_the_limit_then_counts_the_rest():
    assert first_few([], 3) == ""
    assert first_few(["AAPL", "MSFT"], 3) == "AAPL, MSFT"
    assert first_few(["AAPL", "MSFT", "IBM"], 3) == "AAPL, MSFT, IBM"
    assert first_few(["AAPL", "MSFT", "IBM", "GOOG", "FB"], 3) == "AAPL, MSFT, IBM (and 2 more)"
    assert first_few([1, 2, 3], 1, separator="; ") == "1 (and 2 more)"
