"""The kill campaign's outcomes and tables: one row per trial (the short campaign), or per
backend and phase with the zeros in plain sight (the full one), and the summary clause."""

from collections import defaultdict
from dataclasses import dataclass

from bench.kill_plan import Trial
from bench.reliability_table import Table

TRIAL_COLUMNS = [
    "trial", "backend", "scenario", "phase", "n", "killed at", "torn", "half-loaded",
    "debris → left after cleanup", "re-run", "converged", "seconds",
]
GROUP_COLUMNS = [
    "backend", "phase", "trials (fresh/refresh)", "killed", "torn", "half-loaded",
    "debris cleaned", "left after cleanup", "re-runs ok (slot freed)", "converged",
    "seconds per trial",
]


@dataclass
class Outcome:
    trial: Trial
    killed: bool
    where: str
    torn: list[str]
    half_loaded: list[str]
    debris: int
    leftovers: list[str]
    rerun: str  # "ok", "ok, slot freed", or what went wrong
    differing: list[str]
    seconds: float

    @property
    def converged(self) -> bool:
        return self.rerun.startswith("ok") and not self.differing


def summary(outcomes: list) -> str:
    kills = sum(o.killed for o in outcomes)
    torn = sum(len(o.torn) for o in outcomes)
    half = sum(len(o.half_loaded) for o in outcomes)
    left = sum(len(o.leftovers) for o in outcomes)
    converged = sum(o.converged for o in outcomes)
    return (f"{kills} kills in {len(outcomes)} trials, {torn} torn, {half} half-loaded, "
            f"{left} orphans, {converged} converged")


def trial_table(outcomes: list, seed: int) -> Table:
    table = Table(f"Kill campaign, short (seed {seed})", TRIAL_COLUMNS)
    for o in outcomes:
        t = o.trial
        table.add(t.number, t.backend, t.scenario, t.phase, t.n,
                  o.where if o.killed else "not reached", len(o.torn), len(o.half_loaded),
                  f"{o.debris} → {len(o.leftovers)}", o.rerun, "yes" if o.converged else "NO",
                  f"{o.seconds:.1f}")
    table.summary = summary(outcomes)
    return table


def grouped_table(outcomes: list, seed: int) -> Table:
    table = Table(f"Kill campaign (seed {seed}), by backend and phase", GROUP_COLUMNS)
    groups = defaultdict(list)
    for o in outcomes:
        groups[o.trial.backend, o.trial.phase].append(o)
    for (backend, phase), group in sorted(groups.items()):
        table.add(backend, phase, *_figures(group))
    table.add("**all**", "", *_figures(outcomes))
    table.summary = summary(outcomes)
    return table


def _figures(group: list) -> list:
    fresh = sum(o.trial.scenario == "fresh" for o in group)
    ok = [o for o in group if o.rerun.startswith("ok")]
    return [
        f"{len(group)} ({fresh}/{len(group) - fresh})",
        sum(o.killed for o in group),
        sum(len(o.torn) for o in group),
        sum(len(o.half_loaded) for o in group),
        sum(o.debris for o in group),
        sum(len(o.leftovers) for o in group),
        f"{len(ok)} ({sum('freed' in o.rerun for o in ok)})",
        sum(o.converged for o in group),
        f"{sum(o.seconds for o in group) / len(group):.1f}",
    ]
