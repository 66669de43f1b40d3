"""The live Alpha Vantage client: one request per call (a daily series or corporate actions), paced,
retried and classified.

The API key travels in the query string, so no URL with the key is ever logged, raised or
stored: answers record the URL without it, and errors are raised outside the `except` block
so the underlying `requests` exception (which quotes the URL) is not chained onto them.

Each request has a total deadline (`deadline`), and one symbol's attempts together a retry
budget: the seconds spent asking and backing off, not those waiting for a rate slot (a long
batch queues there, and that is the pacing's time, not the server's).
"""

import logging
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import requests
import tenacity

from stock_assets.alphavantage.answers import Answer, redact, validate_answer
from stock_assets.alphavantage.api import ACTION_FIELDS, DAILY, DAILY_ADJUSTED
from stock_assets.alphavantage.budget import Budget
from stock_assets.alphavantage.client import AlphaVantageClient
from stock_assets.alphavantage.deadline import (
    Deadline,
    DeadlineAdapter,
    DeadlinePassed,
    get_within,
)
from stock_assets.alphavantage.errors import (
    AlphaVantageError,
    AnswerForAnotherSymbol,
    HttpRefused,
    MalformedAnswer,
    QuotaExhausted,
    Throttled,
    Unavailable,
    UnusableAnswer,
)
from stock_assets.watchlist import validate_symbol

log = logging.getLogger(__name__)


class _RedactFilter(logging.Filter):
    """Keeps API keys out of urllib3's debug lines, which print request paths."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = redact(text, secret)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(str(record.msg))
        args = record.args if isinstance(record.args, tuple) else ()
        record.args = tuple(self._clean(a) if isinstance(a, str) else a for a in args)
        return True


_redactor = _RedactFilter()
logging.getLogger("urllib3.connectionpool").addFilter(_redactor)


_MAY_BE_DAILY = re.compile(r"calls per day|call volume", re.IGNORECASE)
DEFAULT_DEADLINE_SECONDS = 30.0
DEFAULT_RETRY_BUDGET_SECONDS = 120.0


class _RetryBudget:
    """One symbol's retry budget: its attempts' time and the backoff between them count, the
    waits for a rate slot do not. An attempt starts only if its whole deadline fits."""

    def __init__(self, seconds: float, deadline_seconds: float):
        self.seconds = seconds
        self.deadline_seconds = min(deadline_seconds, seconds)
        self.spent = 0.0  # in requests
        self.idle = 0.0  # backing off, the next sleep included

    def stop(self, state: tenacity.RetryCallState) -> bool:
        """Stop once the next backoff and attempt would not fit in what is left."""
        self.idle = state.idle_for + (state.upcoming_sleep or 0.0)
        return self.seconds - self.spent - self.idle < self.deadline_seconds


class AlphaVantageAPIClient(AlphaVantageClient):
    """Asks Alpha Vantage (or any server speaking its API, at `base_url`) over HTTP."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        budget: Budget | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        retry_budget_seconds: float = DEFAULT_RETRY_BUDGET_SECONDS,
        attempts: int = 5,
        backoff_seconds: float = 1.0,
        connections: int = 4,
        source: str = "alphavantage",
    ):
        self._api_key = api_key
        self.base_url = base_url
        self.source = source
        self._budget = budget
        if session is None:
            session = requests.Session()
            adapter = DeadlineAdapter(pool_maxsize=max(connections, 1))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._timeout = timeout
        if deadline_seconds <= 0 or retry_budget_seconds <= 0:
            raise ValueError(
                f"a request's deadline ({deadline_seconds} s) and a symbol's retry budget "
                f"({retry_budget_seconds} s) must be positive"
            )
        self.deadline_seconds = deadline_seconds
        self.retry_budget_seconds = retry_budget_seconds
        self._attempts = attempts
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: getattr(e, "retryable", False)),
            stop=tenacity.stop_after_attempt(attempts),
            wait=tenacity.wait_exponential(multiplier=backoff_seconds, max=60),
            before_sleep=self._log_retry,
            reraise=True,
        )
        if api_key:
            _redactor.secrets.add(api_key)

    def fetch_daily(
        self, symbol: str, *, adjusted: bool = False, outputsize: str = "full",
        datatype: str = "json",
    ) -> Answer:
        symbol = validate_symbol(symbol)
        params = {
            "function": DAILY_ADJUSTED if adjusted else DAILY,
            "symbol": symbol,
            "outputsize": outputsize,
            "datatype": datatype,
        }
        return self._fetch(params)

    def fetch_actions(self, symbol: str, function: str) -> Answer:
        if function not in ACTION_FIELDS:
            raise ValueError(f"{function!r} is not a corporate-actions function")
        return self._fetch({"function": function, "symbol": validate_symbol(symbol)})

    def _fetch(self, params: dict[str, str]) -> Answer:
        """One answer, retried while retrying can help; a throttle that outlasts every retry and
        names a daily limit is the day's quota."""
        symbol = params["symbol"]
        budget = _RetryBudget(self.retry_budget_seconds, self.deadline_seconds)
        retrying = self._retrying.copy(
            stop=tenacity.stop_after_attempt(self._attempts) | budget.stop
        )
        try:
            return retrying(self._request_once, params, budget)
        except Throttled as error:
            # A throttle note that lasts through every retry and names a daily limit ("5 calls per
            # minute and 500 calls per day", "higher API call volume") was the day's quota.
            if not _MAY_BE_DAILY.search(error.detail):
                raise
            if self._budget is not None:
                self._budget.mark_exhausted()
            raise QuotaExhausted(
                symbol, f"still throttled after every retry, so the daily limit is taken to be "
                f"spent: {error.detail}"
            ) from None

    def _request_once(self, params: dict[str, str], retry_budget: _RetryBudget) -> Answer:
        symbol = params["symbol"]
        if self._budget is not None:
            self._budget.acquire(symbol)
        started = time.monotonic()
        try:
            return self._ask(params, Deadline(retry_budget.deadline_seconds))
        finally:
            retry_budget.spent += time.monotonic() - started

    def _ask(self, params: dict[str, str], deadline: Deadline) -> Answer:
        """One request and its classified answer."""
        symbol = params["symbol"]
        query = dict(params, apikey=self._api_key) if self._api_key else params
        public_url = f"{self.base_url}?{urlencode(params)}"
        fetched_at = datetime.now(UTC).isoformat()
        failure = None
        try:
            response, body = get_within(
                self._session, self.base_url, query, deadline, self._timeout
            )
        except DeadlinePassed as exc:
            failure = str(exc)
        except requests.RequestException as exc:
            failure = f"{type(exc).__name__} from {redact(self.base_url, self._api_key)}"
        if failure is not None:
            raise Unavailable(symbol, failure)
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(symbol, f"HTTP {response.status_code} from {self.base_url}")
        if response.status_code != 200:
            raise HttpRefused(symbol, f"HTTP {response.status_code} from {self.base_url}")
        answer = Answer(
            symbol=symbol,
            function=params["function"],
            outputsize=params.get("outputsize", ""),
            datatype=params.get("datatype", "json"),
            source=self.source,
            url=public_url,
            fetched_at=fetched_at,
            status_code=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            body=body,
        )
        try:
            validate_answer(answer, secret=self._api_key)
        except QuotaExhausted:
            if self._budget is not None:
                self._budget.mark_exhausted()
            raise
        except (AnswerForAnotherSymbol, MalformedAnswer, UnusableAnswer) as refused:
            refused.evidence = answer.to_record()
            raise
        return answer

    @staticmethod
    def _log_retry(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, AlphaVantageError):
            log.warning(
                "%s (attempt %d); retrying in %.1fs",
                error, state.attempt_number, state.next_action.sleep if state.next_action else 0,
            )
