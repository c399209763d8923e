"""Random simulation with Hypothesis: long random runs, shrunk to short counterexamples.

For scenarios too large to explore exhaustively. A run is driven by a list of small integers
(the i-th picks successor ``n % count`` of the i-th world; then the first successor
until the run ends); Hypothesis searches such
lists for one whose run violates a property and then shrinks it, so a counterexample
comes back short and readable. Simulation can find violations and witnesses; it can
never establish that a property holds, so an unviolated property is UNKNOWN (exit 3)
with the number of runs and steps tried. Deterministic: derandomized, no example
database, fixed seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from checker.config import CheckConfig
from checker.engines.explore import peak_rss_mb
from checker.engines.progress import unchecked
from checker.model.expectation import Form, expectation
from checker.model.property_eval import goals_met, required_goals, violated_at
from checker.result import (
    EXPECTED_FAIL,
    HOLDS,
    UNKNOWN,
    VIOLATED,
    CheckResult,
    Engine,
    PropertyResult,
    Stats,
    Trace,
    Verdict,
)
from checker.model.semantics import Semantics, Step, World
from checker.model.spec import HANDLER_STEPS, Property, Spec

DEFAULT_RUNS = 300
# Picks are drawn as booleans, never as integers: Hypothesis mixes constants found in
# the source of every loaded module into integer draws, which would make a run depend
# on what else was imported. Boolean draws take no constants, so runs are reproducible.
PICK_BITS = 8
DEFAULT_STEPS = 60


def simulate(
    spec: Spec, config: CheckConfig, runs: int = DEFAULT_RUNS, max_steps: int = DEFAULT_STEPS,
    progress: Callable[[Stats], None] | None = None,
) -> CheckResult:
    """Search ``runs`` random runs of at most ``max_steps`` steps per property."""
    sem = Semantics(spec, config)
    props = [p for p in spec.properties if config.properties is None or p.name in config.properties]
    stats = Stats(coverage={h: 0 for h in sem.handler_ids()},
                  reduction="none: random simulation counts the worlds of every run")
    start = time.perf_counter()
    lim = config.limits
    deadline = _Deadline(lim.timeout, lim.max_memory_mb)
    results = [_one(sem, p, runs, max_steps, stats, deadline) for p in props]
    stats.seconds = time.perf_counter() - start
    if progress is not None:
        progress(stats)
    return CheckResult(spec.name, spec.source, spec.describe(config.params), config, Engine.SIMULATE, results, stats)


class _Stop(Exception):
    """Raised inside Hypothesis's search once a limit is reached."""


class _Deadline:
    """``--timeout`` and ``--max-memory`` for simulation: once reached, every further run
    is skipped (Hypothesis then ends quickly) and unviolated properties are UNKNOWN with
    the limit named."""

    def __init__(self, timeout: float | None, max_memory_mb: int | None) -> None:
        self.timeout, self.max_memory_mb = timeout, max_memory_mb
        self.end = time.monotonic() + timeout if timeout is not None else None
        self.hit: str | None = None
        self.calls = 0

    def reached(self) -> bool:
        if self.hit is None:
            if self.end is not None and time.monotonic() >= self.end:
                self.hit = f"timeout {self.timeout:g}s"
            elif self.max_memory_mb is not None:
                self.calls += 1
                if self.calls % 32 == 0 and peak_rss_mb() >= self.max_memory_mb:
                    self.hit = f"max-memory {self.max_memory_mb} MB"
        return self.hit is not None


def _walk(sem: Semantics, picks: list[int], stats: Stats, max_steps: int,
          deadline: _Deadline | None = None) -> list[tuple[Step, World]] | None:
    """The run that ``picks`` selects: the i-th step takes successor ``picks[i] % count``,
    and after the picks run out the first successor, until no step is possible or
    ``max_steps`` (every run is driven to its end, where quiescence is checked; a
    shrunk list of picks therefore still gives a complete, short run)."""
    w = sem.initial()
    out: list[tuple[Step, World]] = []
    for i in range(max_steps):
        if deadline is not None and deadline.reached():
            stats.limit_hit = deadline.hit
            return None
        succs = list(sem.successors(w))
        if not succs:
            break
        n = picks[i] if i < len(picks) else 0
        step, w = succs[n % len(succs)]
        stats.transitions += 1
        if step.handler is not None and step.kind in HANDLER_STEPS:
            key = f"{sem.kind_of(step.pid)}:{step.handler}"
            stats.coverage[key] = stats.coverage.get(key, 0) + 1
        out.append((step, w))
    stats.max_depth = max(stats.max_depth, len(out))
    return out


def _picks(bits: list[tuple[bool, ...]]) -> list[int]:
    """Each tuple of booleans as an integer (most significant first)."""
    return [sum(1 << i for i, b in enumerate(reversed(t)) if b) for t in bits]


def _search(sem: Semantics, bad: Callable[[list[tuple[Step, World]]], bool], runs: int, max_steps: int,
            stats: Stats, deadline: _Deadline) -> list[tuple[Step, World]] | None:
    """The shrunk run whose prefix first satisfies ``bad``, or None within ``runs`` runs."""

    best: list[list[int]] = []  # the last (most shrunk) picks whose run satisfied ``bad``

    def hit(picks: list[int]) -> bool:
        steps = _walk(sem, picks, stats, max_steps, deadline)
        if steps is None:  # a limit is reached: end the search now
            raise _Stop()
        stats.states += len(steps) + 1
        if any(bad(steps[:k]) for k in range(len(steps) + 1)):
            best[:] = [picks]
            return True
        return False

    if deadline.reached():
        stats.limit_hit = deadline.hit
        return None

    cfg = settings(
        max_examples=runs, derandomize=True, database=None, deadline=None,
        phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
    )
    try:
        bits = find(st.lists(st.tuples(*[st.booleans()] * PICK_BITS), max_size=max_steps),
                    lambda b: hit(_picks(b)), settings=cfg)
        picks = _picks(bits)
    except NoSuchExample:
        return None
    except _Stop:  # stopped by a limit: the smallest run found so far, if any
        if not best:
            return None
        picks = best[0]
    steps = _walk(sem, picks, stats, max_steps)
    assert steps is not None
    for k in range(len(steps) + 1):  # cut at the first world that shows it
        if bad(steps[:k]):
            return steps[:k]
    return steps


def _one(sem: Semantics, p: Property, runs: int, max_steps: int, stats: Stats, deadline: _Deadline) -> PropertyResult:
    init = sem.initial()

    def scope() -> str:
        if stats.limit_hit is not None:
            return f"the random runs tried before the limit (stopped: {stats.limit_hit}; simulation never proves)"
        return f"{runs} random runs of ≤ {max_steps} steps (simulation never proves)"

    def last(steps: list[tuple[Step, World]]) -> World:
        return steps[-1][1] if steps else init

    def result(verdict: Verdict, bound: str, trace: list[tuple[Step, World]] | None = None,
               detail: str = "") -> PropertyResult:
        t = Trace(init, tuple(trace)) if trace is not None else None
        return PropertyResult(p.name, p.shown_kind, p.meaning, verdict, bound, p.expected_to_fail, t, detail,
                              engine=Engine.SIMULATE)

    if expectation(p).form is Form.PROGRESS:  # a random run is finite: it never shows a cycle
        return unchecked(p, Engine.SIMULATE, scope())
    if expectation(p).form is Form.REACHABLE:
        run: list[tuple[Step, World]] | None = []
        found: list[str] = []
        for g in required_goals(sem, p):

            def witnessed(steps: list[tuple[Step, World]], g: str = g) -> bool:
                return g in goals_met(sem, p, last(steps))

            run = _search(sem, witnessed, runs, max_steps, stats, deadline)
            if run is None:
                return result(UNKNOWN, f"no witness for {g!r} in {scope()}", detail=f"witnessed: {', '.join(found)}")
            found.append(f"{g} in {len(run)} steps")
        return result(HOLDS, "witnessed: " + ", ".join(found), run)
    run = _search(sem, lambda steps: violated_at(sem, p, last(steps)), runs, max_steps, stats, deadline)
    if run is None:
        return result(UNKNOWN, f"no violation in {scope()}")
    verdict = EXPECTED_FAIL if p.expected_to_fail else VIOLATED
    return result(verdict, f"shrunk counterexample: {len(run)} steps (not guaranteed shortest)", run)
