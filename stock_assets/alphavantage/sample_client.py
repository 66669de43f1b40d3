"""The offline Alpha Vantage client: the live client's exact requests, answered from the bundled
sample by an in-process `requests` transport, so nothing is sent anywhere and no key is needed."""

import io

import requests
import urllib3
from requests.adapters import BaseAdapter

from stock_assets.alphavantage.answers import Answer
from stock_assets.alphavantage.api import DAILY, DAILY_ADJUSTED
from stock_assets.alphavantage.api_client import AlphaVantageAPIClient
from stock_assets.alphavantage.client import AlphaVantageClient
from stock_assets.alphavantage.errors import NotInSample, SymbolRejected
from stock_assets.alphavantage.sample import SampleAnswers, query_params, sample_symbols

OFFLINE_URL = "http://alphavantage-sample.offline/query"  # served in-process, never sent
OFFLINE_SOURCE = "offline-sample"


class SampleAdapter(BaseAdapter):
    """A `requests` transport that answers from the sample instead of the network."""

    def __init__(self, answers: SampleAnswers | None = None):
        super().__init__()
        self._answers = answers or SampleAnswers()

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        reply = self._answers.answer(query_params(request.url or ""))
        response = requests.Response()
        response.status_code = reply.status
        response.headers["Content-Type"] = reply.content_type
        # A body to read as from the network, so the live client's deadline reading serves here.
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(reply.body), headers=dict(response.headers), status=reply.status,
            preload_content=False,
        )
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


class AlphaVantageSampleClient(AlphaVantageClient):
    """Answers from the bundled sample; a symbol it lacks raises `NotInSample`, not the API's
    "Invalid API call", since Alpha Vantage was never asked."""

    source = OFFLINE_SOURCE

    def __init__(self) -> None:
        session = requests.Session()
        session.mount(OFFLINE_URL, SampleAdapter())
        self._http = AlphaVantageAPIClient(
            api_key="", base_url=OFFLINE_URL, session=session, attempts=1, source=OFFLINE_SOURCE
        )

    def fetch_daily(
        self, symbol: str, *, adjusted: bool = False, outputsize: str = "full",
        datatype: str = "json",
    ) -> Answer:
        try:
            return self._http.fetch_daily(
                symbol, adjusted=adjusted, outputsize=outputsize, datatype=datatype
            )
        except SymbolRejected as rejected:
            function = DAILY_ADJUSTED if adjusted else DAILY
            held = ", ".join(sample_symbols(function))
            raise NotInSample(
                rejected.symbol, held if function == DAILY else f"{function} for {held} only"
            ) from None

    def fetch_actions(self, symbol: str, function: str) -> Answer:
        try:
            return self._http.fetch_actions(symbol, function)
        except SymbolRejected as rejected:
            raise NotInSample(rejected.symbol, ", ".join(sample_symbols())) from None
