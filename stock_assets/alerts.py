"""Run-failure alerts: one short message per failed run, always logged, and posted to a webhook
(Slack-compatible `text`) when ``STOCK_ASSETS_ALERT_WEBHOOK`` is set.

The message names the job, the failed partitions and the first error, and is scrubbed of the
API key and the database password even though the errors it quotes never carry them.
"""

import dagster as dg
import requests
import sqlalchemy as sa

from stock_assets.alphavantage.answers import redact
from stock_assets.database.resource import DatabaseResource
from stock_assets.ingest.resources import AlphaVantageResource
from stock_assets.listing import first_few
from stock_assets.partitions import requested_partitions

MAX_LISTED = 10
MAX_ERROR_CHARS = 500


class AlertWebhook(dg.ConfigurableResource):
    """Where alerts are posted; an empty URL means log only."""

    url: str = ""
    timeout_seconds: float = 10.0

    def post(self, payload: dict) -> None:
        response = requests.post(self.url, json=payload, timeout=self.timeout_seconds)
        response.raise_for_status()


def first_error(step_failures: list[dg.DagsterEvent]) -> tuple[str | None, dict]:
    """The first failed step's message (a `dg.Failure` description, else the root exception)
    and its user metadata."""
    for event in step_failures:
        failure = event.step_failure_data
        if failure is None:
            continue
        user = failure.user_failure_data
        if user and user.description:
            return user.description, {k: v.value for k, v in user.metadata.items()}
        if failure.error:
            cause = failure.error.cause or failure.error
            return f"{cause.cls_name}: {cause.message.strip()}", {}
    return None, {}


def compose_alert(
    run: dg.DagsterRun, step_failures: list[dg.DagsterEvent], run_message: str,
    secrets: list[str], *, partition_keys: list[str],
) -> dict:
    """The alert for a failed run, as a webhook payload with a one-paragraph `text`; the run's
    partitions are read from its tags against the watchlist's `partition_keys`."""
    error, metadata = first_error(step_failures)
    error = (error or run_message or "the run failed").strip()
    if len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + "…"
    failed = str(metadata.get("failed_symbols", "")).split(", ")
    failed = [s for s in failed if s] or requested_partitions(run.tags, partition_keys)
    steps = sorted({e.step_key for e in step_failures if e.step_key})
    text = (
        f"stock_assets: run {run.run_id[:8]} of {run.job_name} failed"
        + (f" in {', '.join(steps)}" if steps else "")
        + (f"; partitions: {first_few(failed, MAX_LISTED)}" if failed else "")
        + f". First error: {error}"
    )
    for secret in secrets:
        text = redact(text, secret)
        error = redact(error, secret)
    return {
        "text": text,
        "job": run.job_name,
        "run_id": run.run_id,
        "failed_steps": steps,
        "failed_partitions": failed,
        "first_error": error,
    }


def build_alert_sensor(partitions: dg.PartitionsDefinition) -> dg.SensorDefinition:
    """The run-failure sensor that alerts, naming partitions of the watchlist's `partitions`."""

    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
    )
    def alert_on_run_failure(
        context: dg.RunFailureSensorContext,
        alert_webhook: AlertWebhook,
        alphavantage: AlphaVantageResource,
        database: DatabaseResource,
    ) -> None:
        """Sends one alert per failed run: job, failed partitions, first error; never a
        secret."""
        password = sa.make_url(database.url).password
        secrets = [s for s in (alphavantage.api_key, str(password or "")) if s]
        payload = compose_alert(
            context.dagster_run, context.get_step_failure_events(),
            context.failure_event.message or "", secrets,
            partition_keys=partitions.get_partition_keys(),
        )
        context.log.error(payload["text"])
        if alert_webhook.url:
            alert_webhook.post(payload)

    return alert_on_run_failure
