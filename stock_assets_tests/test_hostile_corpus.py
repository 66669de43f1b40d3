"""The hostile-input corpus (issue 16, part 4) through real runs: every case, wire to symbol,
has its stated outcome (rejected with its message and the victim's stored data unchanged,
quarantined with its reason, or accepted), the control symbols are stored, and the API key is
nowhere: not on screen, not in an object, not in Dagster's run storage."""

import pytest

from stock_assets_tests.hostile.cases import corpus, symbol_corpus
from stock_assets_tests.hostile.runner import run_corpus, scratch
from stock_assets_tests.hostile.stores import S3PostgresStore


@pytest.mark.slow
def test_every_hostile_case_has_its_stated_outcome(tmp_path):
    cases, symbol_cases = corpus(), symbol_corpus()
    assert len(cases) + len(symbol_cases) >= 80
    assert {c.level for c in cases} | {"symbol"} == {"wire", "envelope", "value", "symbol"}

    with scratch(tmp_path) as work:
        run = run_corpus(cases, symbol_cases, work)

    assert len(run.findings) == len(cases) + len(symbol_cases)
    assert run.surprises == [], (
        f"{len(run.surprises)} not as expected:\n" + "\n".join(run.surprises)
    )


ON_THE_PRODUCTION_PATH = {
    "HTTP 404", "a transient 503, then the answer", "Meta Data names another symbol",
    "a real gzip body", "open NaN", "a Saturday",
}


@pytest.mark.slow
def test_a_few_hostile_cases_on_s3_and_postgres(
    tmp_path, moto_endpoint, s3_bucket, make_postgres_database
):
    """The same judging with objects on S3 (moto's server) and the table in PostgreSQL: one
    batch, in place, the stored objects read back from the bucket."""
    cases = [c for c in corpus() if c.name in ON_THE_PRODUCTION_PATH]
    store = S3PostgresStore(s3_bucket, make_postgres_database())

    with scratch(tmp_path) as work:
        run = run_corpus(cases, [], work, controls=("AAPL",), store=store)

    assert len(run.findings) == len(cases) == len(ON_THE_PRODUCTION_PATH)
    assert run.surprises == [], "\n".join(run.surprises)
