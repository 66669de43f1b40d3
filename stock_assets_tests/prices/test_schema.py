import pandas as pd

from stock_assets.alphavantage.api import DAILY_ADJUSTED
from stock_assets.prices import schema
from stock_assets_tests.prices.sample import clean_sample


def test_conform_keeps_the_adjustment_source_as_text_after_the_other_optional_columns():
    frame = clean_sample("MSFT", function=DAILY_ADJUSTED, datatype="csv").iloc[:4]
    sources = [*schema.ADJUSTMENT_SOURCES, None]
    with_source = frame.assign(**{schema.ADJUSTMENT_SOURCE: sources}).iloc[::-1]
    conformed = schema.conform(with_source)
    assert list(conformed.columns) == [*schema.REQUIRED, *schema.ADJUSTMENTS,
                                       schema.ADJUSTMENT_SOURCE]
    column = conformed[schema.ADJUSTMENT_SOURCE]
    assert column.dtype == schema.TEXT
    assert column.tolist() == ["premium answer", "corporate actions", "none", pd.NA]
    assert schema.ADJUSTMENT_SOURCE not in schema.conform(frame).columns  # a history before it
