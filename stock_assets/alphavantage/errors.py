"""What can go wrong with an Alpha Vantage request, as exceptions a caller can act on.

Messages name the symbol and the kind of problem, and never carry the API key.
"""


class AlphaVantageError(Exception):
    """Base class: `kind` is a short machine-readable name for the payload or failure."""

    kind = "error"
    retryable = False

    def __init__(self, symbol: str, detail: str):
        self.symbol = symbol
        self.detail = detail
        # The refused answer's stored record, when an answer came and failed the checks: kept
        # as evidence, never as the symbol's answer.
        self.evidence: dict | None = None
        super().__init__(self.message())

    def message(self) -> str:
        return f"{self.symbol}: Alpha Vantage {self.kind}: {self.detail}"


class SymbolRejected(AlphaVantageError):
    """`Error Message` for a call: the symbol (or call) is invalid. Permanent for this symbol."""

    kind = "rejected symbol"


class NotInSample(AlphaVantageError):
    """Offline (no API key), a symbol the bundled sample lacks. Nothing was sent anywhere, so
    Alpha Vantage's own answer would be a guess; the message says how to fetch it for real."""

    kind = "not in the offline sample"

    def message(self) -> str:
        return (
            f"{self.symbol} is not in the offline sample, which holds {self.detail}; nothing "
            f"was sent to Alpha Vantage: set ALPHAVANTAGE_API_KEY to fetch {self.symbol} for real"
        )


class InvalidApiKey(AlphaVantageError):
    """`Error Message` about the key itself: permanent for every symbol."""

    kind = "invalid API key"


class QuotaExhausted(AlphaVantageError):
    """The daily request quota is used up: stop fetching until it resets."""

    kind = "daily quota exhausted"


class PlanError(AlphaVantageError):
    """A premium endpoint or parameter (or the demo key) was used: a configuration error."""

    kind = "plan does not allow this request"


class Throttled(AlphaVantageError):
    """A request-frequency note: wait and retry within the budget."""

    kind = "rate limit"
    retryable = True


class AnswerForAnotherSymbol(AlphaVantageError):
    """The answer names another symbol than the one asked for: never stored as this one's. Not
    retried (asked again, the server answers the same)."""

    kind = "answer for another symbol"


class MalformedAnswer(AlphaVantageError):
    """An HTML, truncated or otherwise unreadable body: retried, then a failure."""

    kind = "malformed answer"
    retryable = True


class UnusableAnswer(AlphaVantageError):
    """An answer that reads but holds no usable series (empty, a list, nested beyond reason,
    implausibly long). Not retried: unlike a truncated body, asked again it comes back the same."""

    kind = "unusable answer"


class Unavailable(AlphaVantageError):
    """Connection errors, timeouts and 5xx: retried, then a failure."""

    kind = "service unavailable"
    retryable = True


class HttpRefused(AlphaVantageError):
    """A 4xx status other than 429: the request itself is wrong. Not retried."""

    kind = "HTTP error"
