"""How the assets show in Dagster's UI: one group, so the asset graph opens with every asset in
view (several groups open collapsed), and each asset's stage as a tag beside its kinds."""

GROUP = "stock_prices"


def stage(name: str) -> dict[str, str]:
    """The tag naming an asset's stage: "ingest", "prices", "actions" or "warehouse"."""
    return {"stage": name}
