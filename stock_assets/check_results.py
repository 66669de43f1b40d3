"""Asset check results recorded per symbol, also when one step checks several symbols.

An `AssetCheckResult` carries no partition: Dagster records it against the step's partition,
and for a step of several partitions (a single-run backfill) as one result of no partition, so
every symbol's checks stayed "planned" while the checks list showed one summary and "latest
execution" another symbol's outcome. Here each symbol's result becomes an
`AssetCheckEvaluation` naming its partition and the partition's latest materialization: what
Dagster itself records for a one-symbol step, with one lookup for the whole batch.
"""

from collections.abc import Collection, Iterator, Mapping, Sequence

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as TargetMaterialization,
)

CheckContext = dg.AssetExecutionContext | dg.AssetCheckExecutionContext


def _latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: Sequence[str]
) -> dict[str, TargetMaterialization]:
    """Each partition's latest materialization: one query for the batch, one more per partition
    only if a concurrent run pushed it out of the batch's window."""
    found: dict[str, TargetMaterialization] = {}

    def fetch(wanted: Sequence[str]) -> None:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=list(wanted)),
            limit=len(wanted),
        ).records
        for record in records:  # newest first
            if record.partition_key and record.partition_key not in found:
                found[record.partition_key] = TargetMaterialization(
                    storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
                )

    fetch(partitions)
    for partition in [p for p in partitions if p not in found]:
        fetch([partition])
    return found


def check_results_by_partition(
    context: CheckContext,
    results: Mapping[str, Sequence[dg.AssetCheckResult]],
    enforced: Collection[str] = (),
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """Yield `results` ({partition: its check results, each naming its check and asset}) as
    per-partition evaluations, and each selected check's output once.

    Checks not selected for this run are left out. A failed blocking check fails the step (and
    so keeps every partition of it from what follows), except in the `enforced` partitions,
    whose asset already kept their failing data back by itself: there the failure is recorded
    and the other partitions go on.
    """
    step = context.op_execution_context
    definition = step.assets_def
    selected = context.selected_asset_check_keys
    by_check: dict[dg.AssetCheckKey, list[tuple[str, dg.AssetCheckResult]]] = {}
    for partition, partition_results in results.items():
        for result in partition_results:
            key = dg.AssetCheckKey(result.asset_key, result.check_name)
            if key in selected:
                by_check.setdefault(key, []).append((partition, result))
    targets = {
        asset_key: _latest_materializations(context.instance, asset_key, list(results))
        for asset_key in {key.asset_key for key in by_check}
    }
    for key, evaluated in by_check.items():
        yield dg.Output(None, output_name=definition.get_output_name_for_asset_check_key(key))
        blocking = definition.get_spec_for_check_key(key).blocking
        for partition, result in evaluated:
            yield dg.AssetCheckEvaluation(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=result.passed,
                metadata=result.metadata,
                target_materialization_data=targets[key.asset_key].get(partition),
                severity=result.severity,
                description=result.description,
                blocking=blocking and partition not in enforced,
                partition=partition,
            )
