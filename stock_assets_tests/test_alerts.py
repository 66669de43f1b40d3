"""Run-failure alerts: one concise message per failed run, posted to a real (loopback) webhook,
naming the job, the failed partitions and the first error, never a secret."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from stock_assets.alerts import AlertWebhook, compose_alert
from stock_assets.definitions import ASSETS, defs
from stock_assets_tests.helpers import loopback_resources

CANARY_KEY = "CANARY-KEY-5f1e"


class WebhookReceiver:
    """An HTTP server on loopback that keeps every JSON body POSTed to it."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def _failed_run(instance, tmp_path, sample_server, **run_args):
    sample_server.fail("IBM", "error_invalid_call", sticky=True)
    resources = loopback_resources(tmp_path, sample_server, api_key=CANARY_KEY)
    result = dg.materialize(ASSETS, resources=resources, instance=instance,
                            raise_on_error=False, **run_args)
    assert not result.success
    return result, resources


def _alert(instance, result, resources, webhook: AlertWebhook) -> None:
    run = instance.get_run_by_id(result.run_id)
    [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    with dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources={"alert_webhook": webhook, "alphavantage": resources["alphavantage"],
                   "database": resources["database"]},
    ) as context:
        defs.resolve_sensor_def("alert_on_run_failure")(context.for_run_failure())


def test_a_failed_batch_posts_one_alert_naming_what_failed(
    instance, tmp_path, sample_server, receiver
):
    result, resources = _failed_run(
        instance, tmp_path, sample_server,
        tags={"dagster/asset_partition_range_start": "AAPL",
              "dagster/asset_partition_range_end": "FB"},
    )
    _alert(instance, result, resources, AlertWebhook(url=receiver.url))
    [body] = receiver.bodies
    assert body["job"] == "__ephemeral_asset_job__"
    assert body["run_id"] == result.run_id
    assert body["failed_partitions"] == ["IBM"]
    assert body["failed_steps"] == ["raw_quotes"]
    assert body["first_error"].startswith("IBM: Alpha Vantage rejected symbol: Invalid API call")
    assert body["text"].startswith(
        f"stock_assets: run {result.run_id[:8]} of __ephemeral_asset_job__ failed in raw_quotes; "
        "partitions: IBM. First error: IBM: Alpha Vantage rejected symbol"
    )
    assert CANARY_KEY not in json.dumps(body)


def test_a_single_partition_run_names_its_partition(instance, tmp_path, sample_server, receiver):
    result, resources = _failed_run(instance, tmp_path, sample_server, partition_key="IBM")
    _alert(instance, result, resources, AlertWebhook(url=receiver.url))
    [body] = receiver.bodies
    assert body["failed_partitions"] == ["IBM"]


def test_without_a_webhook_the_alert_is_only_logged(instance, tmp_path, sample_server, capfd):
    result, resources = _failed_run(instance, tmp_path, sample_server, partition_key="IBM")
    capfd.readouterr()
    _alert(instance, result, resources, AlertWebhook(url=""))
    logged = capfd.readouterr().err
    assert f"ERROR - stock_assets: run {result.run_id[:8]} of __ephemeral_asset_job__ failed" in (
        logged
    )


def test_a_refusing_webhook_fails_the_tick_so_the_alert_is_retried(
    instance, tmp_path, sample_server
):
    refusing = WebhookReceiver(status=500)
    try:
        result, resources = _failed_run(instance, tmp_path, sample_server, partition_key="IBM")
        with pytest.raises(Exception, match="500"):
            _alert(instance, result, resources, AlertWebhook(url=refusing.url))
        assert len(refusing.bodies) == 1
    finally:
        refusing.close()


def test_secrets_in_an_error_are_scrubbed_from_the_alert():
    run = dg.DagsterRun(job_name="refresh_all", run_id="0123456789abcdef", tags={})
    payload = compose_alert(
        run, [], f"connection to postgresql://u:pw-Secret@db failed with apikey={CANARY_KEY}",
        [CANARY_KEY, "pw-Secret"], partition_keys=["AAPL"],
    )
    assert "pw-Secret" not in json.dumps(payload) and CANARY_KEY not in json.dumps(payload)
    assert payload["text"] == (
        "stock_assets: run 01234567 of refresh_all failed. First error: connection to "
        "postgresql://u:***@db failed with apikey=***"
    )
