"""When assets materialize by themselves (declarative automation, evaluated by the
`follow_upstream` sensor)."""

import dagster as dg

# A symbol added to the watchlist is a new, missing partition: fetch its full history.
ON_NEW_SYMBOL = dg.AutomationCondition.on_missing()

# Follow the upstream: run when it updates (a scheduled refresh, a backfill, the quota sensor),
# never past a failed blocking check (a bad answer must not reach the table).
FOLLOW_UPSTREAM = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("eager, unless an upstream blocking check failed")
