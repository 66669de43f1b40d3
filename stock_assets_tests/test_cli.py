"""`stock-assets materialize` as a user runs it: a subprocess, in a fresh folder, with only the
variables the test sets; and the check outcomes it prints, phrased from real check evaluations.

Over 300 lines: one subprocess run per documented variable and outcome, each read from its
printed lines.
"""

import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from stock_assets.database.schema import price_columns
from stock_assets_tests.environments import loopback_api, nothing_set, production

STOCK_ASSETS = str(Path(sys.executable).with_name("stock-assets"))
CANARY = "canary-KEY-5d1e0b"
DB_CANARY = "s3cr3t-pw-91c"  # the database password, which must show nowhere
SAMPLE_ROWS = {"AAPL": 3270, "MSFT": 3270, "IBM": 3270, "GOOG": 2148, "FB": 196}


def _stock_assets(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`stock-assets ARGS` with none of our variables set but `env`."""
    clean = nothing_set()
    return subprocess.run(
        [STOCK_ASSETS, *args],
        env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )


def _materialize(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The main command with none of our variables set but `env`."""
    return _stock_assets(tmp_path, "materialize", *args, **env)


def _symbol_line(result: subprocess.CompletedProcess, symbol: str) -> str:
    return next(line for line in result.stdout.splitlines() if f"] {symbol}: " in line)


def _rows_per_symbol(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        query = sa.text("SELECT symbol, count(*) FROM daily_prices GROUP BY symbol")
        rows = dict(connection.execute(query).all())
    engine.dispose()
    return rows


def _assert_quiet(result: subprocess.CompletedProcess) -> None:
    """The header, one line per symbol and the summary; no log lines, no tracebacks."""
    shown = result.stdout + result.stderr
    assert "Traceback" not in shown and "Stack Trace" not in shown, shown[-3000:]
    assert " - dagster - " not in shown, shown[-3000:]
    assert result.stderr == "", result.stderr[-3000:]


@pytest.mark.slow
def test_postgres_url_loads_every_symbol_adjusted_by_the_offline_corporate_actions(
    tmp_path, make_postgres_database
):
    """The acceptance check of issue 11 (a Postgres URL no longer crashes the header) and of
    issue 15: with no key, the offline sample's SPLITS and DIVIDENDS declare every split, so no
    split warning is left, and every row is adjusted from them."""
    url = make_postgres_database()
    result = _materialize(tmp_path, STOCK_ASSETS_DATABASE_URL=url)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _rows_per_symbol(url) == SAMPLE_ROWS
    assert sum(SAMPLE_ROWS.values()) == 12_154
    assert f"database: {url}\n" in result.stdout
    assert f"storage:  {tmp_path / 'stock_assets_data' / 'objects'}\n" in result.stdout
    assert result.stdout.startswith("source:   offline sample")
    for symbol in SAMPLE_ROWS:
        assert _symbol_line(result, symbol).endswith(")"), result.stdout  # ok, nothing to add
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        sources = connection.execute(sa.text(
            "SELECT adjustment_source, count(*), count(adjusted_close) FROM daily_prices "
            "GROUP BY adjustment_source"
        )).all()
    engine.dispose()
    assert sources == [("corporate actions", 12_154, 12_154)]
    _assert_quiet(result)


@pytest.mark.slow
def documented_variables() -> set[str]:
    """The first variable named on each row of the README's configuration table."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme[readme.index("| variable | default | meaning |"):]
    table = table[: table.index("\n\n")]
    return set(re.findall(r"^\| `([A-Z_]+)`", table, re.MULTILINE))


def test_every_documented_variable_set_shows_values_never_secrets(
    tmp_path, sample_server, moto_endpoint, s3_client, s3_bucket, make_postgres_database
):
    """README's configuration table, every variable set: the header shows where things go (the
    values, not the variables' names), the run uses them, and neither the API key nor a
    password reaches the screen."""
    sample_server.api_key = CANARY
    database = sa.make_url(make_postgres_database()).set(password=DB_CANARY)
    dagster_db = sa.make_url(make_postgres_database()).set(password=DB_CANARY)
    env = {
        **loopback_api(sample_server.url, CANARY),
        "ALPHAVANTAGE_MAX_CONCURRENT_REQUESTS": "2",
        "ALPHAVANTAGE_PREMIUM": "false",
        "ALPHAVANTAGE_FULL_HISTORY": "true",
        "ALPHAVANTAGE_DATATYPE": "csv",
        "ALPHAVANTAGE_CORPORATE_ACTIONS_DAYS": "0",
        "ALPHAVANTAGE_REQUEST_DEADLINE_SECONDS": "20",
        "STOCK_ASSETS_SYMBOLS": "IBM,FB",
        "STOCK_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "STOCK_ASSETS_STORAGE_URL": f"s3://{s3_bucket}/prices",
        "STOCK_ASSETS_DATABASE_URL": database.render_as_string(hide_password=False),
        "STOCK_ASSETS_PRICES_FORMAT": "csv",
        "STOCK_ASSETS_MOST_PLAUSIBLE_PRICE": "1_000_000",
        "STOCK_ASSETS_REFRESH_CRON": "0 18 * * 1-5",
        "STOCK_ASSETS_REFRESH_TRADING_DAYS_ONLY": "false",
        "STOCK_ASSETS_BATCH_SIZE": "10",
        "STOCK_ASSETS_ALERT_WEBHOOK": "http://127.0.0.1:9/hook",
        "STOCK_ASSETS_AUTO_MIGRATE": "true",
        "DAGSTER_PG_URL": dagster_db.render_as_string(hide_password=False),
    }
    assert set(env) == documented_variables()
    result = _materialize(tmp_path, **env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert {r["datatype"] for r in sample_server.series_requests} == {"csv"}
    header = result.stdout.splitlines()[:4]
    assert header == [
        f"source:   Alpha Vantage at {sample_server.url}, free (daily endpoint) plan, "
        "2 requests in flight at most",
        f"storage:  s3://{s3_bucket}/prices",
        f"database: {database.render_as_string(hide_password=True)}",
        f"dagster:  {dagster_db.set(drivername='postgresql+psycopg2').render_as_string()} "
        "(0 runs so far)",
    ]
    assert "***" in header[2] and "***" in header[3]
    shown = result.stdout + result.stderr
    assert CANARY not in shown and DB_CANARY not in shown
    _assert_quiet(result)
    assert _rows_per_symbol(database.render_as_string(hide_password=False)) == {
        "IBM": 3270, "FB": 196
    }
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert {"prices/cleaned_daily_prices/IBM.csv", "prices/raw_quotes/FB.json",
            "prices/corporate_actions/IBM.json"} <= keys
    actions = sorted((r["function"], r["symbol"]) for r in sample_server.requests
                     if r not in sample_server.series_requests)
    assert actions == [("DIVIDENDS", "FB"), ("DIVIDENDS", "IBM"), ("SPLITS", "FB"),
                       ("SPLITS", "IBM")]  # a first load, whatever the cadence


@pytest.mark.slow
def test_sqlite_url_is_shown_and_used(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'prices.sqlite'}"
    result = _materialize(tmp_path, "FB", STOCK_ASSETS_DATABASE_URL=url)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"database: {url}\n" in result.stdout
    assert _rows_per_symbol(url) == {"FB": 196}
    _assert_quiet(result)


@pytest.mark.slow
def test_offline_unknown_symbol_is_named_as_not_in_the_sample(tmp_path, monkeypatch):
    """Offline nothing is sent to Alpha Vantage, so the message says what the sample holds and
    how to fetch the symbol for real; one line per symbol on screen, tracebacks in the run's
    log (and on screen with --verbose), no retry, exit code 1."""
    home = tmp_path / "dagster_home"
    result = _materialize(
        tmp_path, STOCK_ASSETS_SYMBOLS="FB,NVDA", DAGSTER_HOME=str(home)
    )
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    line = _symbol_line(result, "NVDA")
    assert "[2/2] NVDA: FAILED" in line
    assert "NVDA is not in the offline sample" in line
    assert "AAPL, FB, GOOG, IBM, MSFT" in line
    assert "set ALPHAVANTAGE_API_KEY to fetch NVDA" in line
    assert "Alpha Vantage rejected" not in result.stdout and "Please retry" not in result.stdout
    assert "[1/2] FB: ok" in _symbol_line(result, "FB")
    assert len(result.stdout.splitlines()) == 4 + 2 + 1
    _assert_quiet(result)

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name in ("DAGSTER_PG_URL", "DAGSTER_PG_HOST"):
        monkeypatch.delenv(name, raising=False)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": "NVDA"}))[0]
        events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
    failures = [e for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == ["raw_quotes"]
    assert any("in raw_quotes" in frame for frame in failures[0].step_failure_data.error.stack)
    retries = {dg.DagsterEventType.STEP_UP_FOR_RETRY, dg.DagsterEventType.STEP_RESTARTED}
    assert not [e for e in events if e.event_type in retries]

    verbose = _materialize(
        tmp_path, "--verbose", "NVDA", STOCK_ASSETS_SYMBOLS="FB,NVDA", DAGSTER_HOME=str(home)
    )
    assert verbose.returncode == 1
    shown = verbose.stdout + verbose.stderr
    assert " - dagster - INFO - " in shown and "Stack Trace" in shown
    assert "NVDA is not in the offline sample" in _symbol_line(verbose, "NVDA")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["offline", "production"])
def test_symbols_removed_from_the_watchlist_are_reported_with_how_to_remove_them(
    tmp_path, request, where
):
    """Issue 12 item 7: offline defaults, and S3 (moto) + PostgreSQL + the loopback server."""
    env = {}
    if where == "production":
        server = request.getfixturevalue("sample_server")
        server.api_key = CANARY
        env = production(server.url, CANARY, request.getfixturevalue("s3_bucket"),
                         request.getfixturevalue("make_postgres_database")())
    first = _materialize(tmp_path, **{**env, "STOCK_ASSETS_SYMBOLS": "FB,GOOG"})
    assert first.returncode == 0, first.stdout[-3000:]
    assert "note:" not in first.stdout
    second = _materialize(tmp_path, **{**env, "STOCK_ASSETS_SYMBOLS": "FB"})
    assert second.returncode == 0, second.stdout[-3000:]
    assert (
        "note: daily_prices still holds GOOG, no longer in the watchlist (STOCK_ASSETS_SYMBOLS)"
        in second.stdout
    )
    assert "DELETE FROM daily_prices WHERE symbol IN ('GOOG')" in second.stdout
    _assert_quiet(second)


def _price_rows(url: str, symbol: str) -> list[tuple]:
    """The symbol's rows in the table, key and value columns (not the lineage of the load)."""
    names = ", ".join(column.name for column in price_columns())
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(f"SELECT {names} FROM daily_prices WHERE symbol = :s ORDER BY trade_date"),
            {"s": symbol},
        ).all()
    engine.dispose()
    return rows


@pytest.mark.slow
def test_replay_rebuilds_from_every_archived_answer_without_a_request(
    tmp_path, sample_server, moto_endpoint, s3_client, s3_bucket, make_postgres_database
):
    """Issue 12 item 3: after a full then a compact fetch, `answers` lists both and `replay`
    rebuilds 3,270 days from them, sending nothing, into the very objects and rows the fetches
    made; also once the cleaned history and the table's rows are gone (the latest answer alone
    holds 100 days)."""
    sample_server.api_key = CANARY
    url = make_postgres_database()
    env = production(sample_server.url, CANARY, s3_bucket, url)
    for full in ("true", "false"):
        fetched = _materialize(tmp_path, ALPHAVANTAGE_FULL_HISTORY=full, **env)
        assert fetched.returncode == 0, fetched.stdout[-3000:] + fetched.stderr[-3000:]
    assert [r["outputsize"] for r in sample_server.series_requests] == ["full", "compact"]
    asked = len(sample_server.requests)  # and AAPL's corporate actions, once that day
    keys = ["prices/cleaned_daily_prices/AAPL.parquet", "prices/quarantined_price_rows/AAPL.csv"]

    def objects() -> dict[str, bytes]:
        return {k: s3_client.get_object(Bucket=s3_bucket, Key=k)["Body"].read() for k in keys}

    fetched_objects, fetched_rows = objects(), _price_rows(url, "AAPL")
    assert len(fetched_rows) == 3270

    listed = _stock_assets(tmp_path, "answers", "AAPL", **env)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    lines = listed.stdout.splitlines()
    assert [line.split()[1] for line in lines] == ["full", "compact"], lines
    assert [line.split()[0] for line in lines] == sorted(line.split()[0] for line in lines)
    assert all(line.split()[-1].startswith("raw_quotes/_history/AAPL/") for line in lines)
    assert all(line.split()[4] in line.split()[-1] for line in lines)  # the key names its sha256

    for gone in (False, True):
        if gone:
            s3_client.delete_object(Bucket=s3_bucket, Key=keys[0])
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.execute(sa.text("DELETE FROM daily_prices WHERE symbol = 'AAPL'"))
            engine.dispose()
        replayed = _stock_assets(tmp_path, "replay", "AAPL", **env)
        assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr[-3000:]
        assert replayed.stdout.splitlines()[0] == (
            f"source:   archived answers, s3://{s3_bucket}/prices/raw_quotes/_history/<SYMBOL>/ "
            "(no request to Alpha Vantage)"
        )
        assert ": 2 archived answers replayed, 3270 days" in _symbol_line(replayed, "AAPL")
        assert "1 of 1 symbols rebuilt from the archive" in replayed.stdout
        _assert_quiet(replayed)
        assert len(sample_server.requests) == asked == 4  # none since the fetches
        assert objects() == fetched_objects, gone
        assert _price_rows(url, "AAPL") == fetched_rows, gone
    assert CANARY not in listed.stdout + replayed.stdout + replayed.stderr


@pytest.mark.slow
def test_replay_and_answers_name_what_to_do_when_nothing_is_archived(tmp_path):
    replayed = _stock_assets(tmp_path, "replay", "FB")
    assert replayed.returncode == 1
    objects = tmp_path / "stock_assets_data" / "objects"
    assert (
        "[1/1] FB: FAILED" in _symbol_line(replayed, "FB")
        and f"no archived answers for FB under {objects}/raw_quotes/_history/FB/: "
        "run materialize first" in _symbol_line(replayed, "FB")
    )
    listed = _stock_assets(tmp_path, "answers", "FB")
    assert listed.returncode == 1 and listed.stdout == ""
    assert listed.stderr == (
        f"error: no archived answers for FB under {objects}/raw_quotes/_history/FB/: "
        "run materialize first\n"
    )


@pytest.mark.parametrize("symbols", ["../../etc", "AAPL;DROP", "ÄPPL", "aapl", ","])
def test_a_bad_watchlist_is_one_line_on_screen_and_exit_2(tmp_path, symbols):
    """Issue 16: an invalid STOCK_ASSETS_SYMBOLS was refused as a raw traceback, and one naming
    no symbol ran nothing and exited 0."""
    result = _materialize(tmp_path, STOCK_ASSETS_SYMBOLS=symbols)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("stock-assets: error: STOCK_ASSETS_SYMBOLS")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["0", "-5", "abc", "inf"])
def test_a_bad_price_limit_is_one_line_on_screen_and_exit_2(tmp_path, value):
    result = _materialize(tmp_path, STOCK_ASSETS_MOST_PLAUSIBLE_PRICE=value)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"stock-assets: error: STOCK_ASSETS_MOST_PLAUSIBLE_PRICE={value!r} is not a positive "
        "number"
    )


def test_the_price_limit_is_a_setting(tmp_path):
    """Issue 16: the plausible-price limit was a constant; quarantined above it, with the
    variable named in the reason."""
    result = _materialize(tmp_path, STOCK_ASSETS_SYMBOLS="AAPL",
                          STOCK_ASSETS_MOST_PLAUSIBLE_PRICE="600")
    assert result.returncode == 0, result.stdout + result.stderr
    objects = tmp_path / "stock_assets_data" / "objects"
    quarantine = pd.read_csv(objects / "quarantined_price_rows" / "AAPL.csv", dtype=str)
    above = quarantine["high"].astype(float) > 600
    assert above.any() and quarantine["reason"][above].str.contains(
        "is above the plausible 600 (STOCK_ASSETS_MOST_PLAUSIBLE_PRICE)", regex=False
    ).all()
    clean = pd.read_parquet(objects / "cleaned_daily_prices" / "AAPL.parquet")
    assert clean["high"].max() <= 600 and len(clean) == SAMPLE_ROWS["AAPL"] - above.sum()
