"""The kill campaign's trials (`bench.kill_campaign`), drawn from `random.Random(seed)`: which
backend, which phase, which time the phase's point is reached (n), from which state."""

import random
from collections import Counter
from dataclasses import dataclass

from bench.kill_point.kill_hooks import PHASES
from bench.kill_state import BACKENDS
from stock_assets.alphavantage.api import SERIES_KEY
from stock_assets.alphavantage.sample import bundled_series

FRESH, REFRESH = "fresh", "refresh"  # a refresh starts from a good run's state, answers behind
SESSIONS_BEHIND = 5  # how far a refresh's starting state is behind the answers served now


def sessions_behind(function: str, symbol: str) -> dict | None:
    """The bundled series as it was `SESSIONS_BEHIND` sessions ago."""
    payload = bundled_series(function, symbol)
    if payload is None:
        return None
    series = dict(list(payload[SERIES_KEY].items())[SESSIONS_BEHIND:])
    meta = {**payload["Meta Data"], "3. Last Refreshed": next(iter(series))}
    return {"Meta Data": meta, SERIES_KEY: series}


@dataclass(frozen=True)
class Trial:
    number: int
    backend: str
    phase: str
    n: int
    scenario: str

    def describe(self) -> str:
        return f"trial {self.number} ({self.backend}, {self.scenario}, {self.phase}:{self.n})"



def plan(rng: random.Random, counts: dict[tuple[str, str], Counter], kills: int,
         surprises: list[str]) -> list[Trial]:
    """`kills` trials cycling over every (backend, phase) in a seeded order: a scenario in which
    a clean run reaches the point, and n up to the times it does (`counts`, by backend and
    scenario); a point no clean run reaches is a surprise."""
    cells = [(backend, phase) for backend in BACKENDS for phase in PHASES]
    for backend, phase in cells:
        if not any(counts[backend, s][phase] for s in (FRESH, REFRESH)):
            surprises.append(f"{backend}: a clean run never reaches {phase}: the kill "
                                      "point is not where the phase is done any more")
    trials: list[Trial] = []
    while len(trials) < kills:
        order = cells[:]
        rng.shuffle(order)
        for backend, phase in order:
            scenarios = [s for s in (FRESH, REFRESH) if counts[backend, s][phase]]
            if not scenarios:
                continue
            scenario = rng.choice(scenarios)
            n = rng.randint(1, counts[backend, scenario][phase])
            trials.append(Trial(len(trials) + 1, backend, phase, n, scenario))
    return trials[:kills]


def short_plan(rng: random.Random) -> list[Trial]:
    """One trial per backend from a fresh state, at the first time a seeded phase is reached
    (merge is not: a first load stages nothing)."""
    phases = [phase for phase in PHASES if phase != "merge"]
    return [Trial(number, backend, rng.choice(phases), 1, FRESH)
            for number, backend in enumerate(BACKENDS, start=1)]
