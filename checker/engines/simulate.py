"""Random simulation: seeded random runs, swarm-biased, shrunk to short counterexamples.

For scenarios too large to explore exhaustively. ``runs`` runs of at most ``max_steps``
steps each; every property is judged on every world of every run (one pass for all of
them). Run ``r`` draws from ``random.Random("<seed>:<r>")`` (``--seed``; the default is
fixed, so the same command gives the same verdicts and traces), and is a *swarm* run:
it first draws its own weights for the kinds of step (delivering a message, a process's
initiative, a step that spends a fault, an adversary injection), so that some runs
deliver replies before new requests start, some take every fault they can and some
none, and then picks each step with those weights. The shortest violating run found
for a property is shrunk (chunks of steps removed while the rest still replays and the
property still fails: delta debugging), and cut at its first violating world.

Simulation finds violations and witnesses; it never establishes that a property holds:
a property without a violation is UNKNOWN (exit 3), "no violation in N runs of ≤ S
steps, seed K". ``--timeout``, ``--max-memory`` and a stop request (``checker.stop``)
end the runs early (UNKNOWN naming the limit; violations found so far are kept).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from checker import stop
from checker.config import CheckConfig
from checker.engines.explore import peak_rss_mb
from checker.engines.progress import unchecked
from checker.model.expectation import Form, expectation
from checker.model.property_eval import goals_met, required_goals, violated_at
from checker.model.semantics import Semantics, Step, World
from checker.model.spec import HANDLER_STEPS, Property, Spec, StepKind
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

DEFAULT_RUNS = 300
DEFAULT_STEPS = 60
DEFAULT_SEED = 0
# the weights a swarm run draws for each kind of step (a weight of 0 never happens: a
# run must still be able to take every kind of step when nothing else is enabled)
SWARM_WEIGHTS = (0.05, 1.0, 20.0)
SHRINK_REPLAYS = 4_000  # replays one shrink may try (each replays a candidate run)

Run = list[tuple[Step, World]]


def simulate(
    spec: Spec, config: CheckConfig, runs: int = DEFAULT_RUNS, max_steps: int = DEFAULT_STEPS,
    progress: Callable[[Stats], None] | None = None, seed: int = DEFAULT_SEED,
) -> CheckResult:
    """``runs`` seeded random runs of at most ``max_steps`` steps, every property judged
    on every world; violations and witnesses shrunk (see the module docstring)."""
    sem = Semantics(spec, config)
    props = [p for p in spec.properties if config.properties is None or p.name in config.properties]
    sim = _Simulation(sem, props, runs, max_steps, seed, progress)
    sim.run_all()
    results = [sim.verdict(p) for p in props]
    sim.stats.seconds = time.perf_counter() - sim.start
    if progress is not None:
        progress(sim.stats)
    return CheckResult(spec.name, spec.source, spec.describe(config.params), config, Engine.SIMULATE, results,
                       sim.stats)


class _Limits:
    """``--timeout``, ``--max-memory`` and stop requests, checked before every step."""

    def __init__(self, timeout: float | None, max_memory_mb: int | None) -> None:
        self.timeout, self.max_memory_mb = timeout, max_memory_mb
        self.end = time.monotonic() + timeout if timeout is not None else None
        self.hit: str | None = None
        self.calls = 0

    def reached(self) -> bool:
        if self.hit is None:
            reason = stop.requested()
            if reason is not None:
                self.hit = reason
            elif self.end is not None and time.monotonic() >= self.end:
                self.hit = f"timeout {self.timeout:g}s"
            elif self.max_memory_mb is not None:
                self.calls += 1
                if self.calls % 256 == 0 and peak_rss_mb() >= self.max_memory_mb:
                    self.hit = f"max-memory {self.max_memory_mb} MB"
        return self.hit is not None


@dataclass
class _Found:
    """The shortest run found so far that shows one target (a violation or a goal)."""

    run: Run
    index: int  # the run number it came from
    shrunk: bool = False


@dataclass
class _Target:
    """What a run may show: property ``prop`` violated (``goal`` None) or its ``goal`` met."""

    prop: Property
    goal: str | None
    shows: Callable[[World], bool]
    found: _Found | None = field(default=None)


class _Simulation:
    def __init__(self, sem: Semantics, props: list[Property], runs: int, max_steps: int, seed: int,
                 progress: Callable[[Stats], None] | None) -> None:
        self.sem, self.runs, self.max_steps, self.seed, self.progress = sem, runs, max_steps, seed, progress
        self.stats = Stats(coverage={h: 0 for h in sem.handler_ids()})  # states: the worlds of every run
        self.start = time.perf_counter()
        lim = sem.config.limits
        self.limits = _Limits(lim.timeout, lim.max_memory_mb)
        self.done_runs = 0
        self.targets: list[_Target] = []
        for p in props:
            exp = expectation(p)
            if exp.form is Form.REACHABLE:
                self.targets += [_Target(p, g, _goal_test(sem, p, g)) for g in required_goals(sem, p)]
            elif exp.at_worlds:
                self.targets.append(_Target(p, None, _violation_test(sem, p)))

    # ---------------------------------------------------------------- the runs

    def run_all(self) -> None:
        """Every run (until a limit), then every target's run shrunk."""
        try:
            for r in range(self.runs):
                if self.limits.reached():
                    break
                self._one(r)
                self.done_runs = r + 1
                if all(t.found is not None and len(t.found.run) <= 1 for t in self.targets):
                    break
            for t in self.targets:
                if t.found is not None:
                    self._shrink(t)
        except stop.Stopped as e:  # a handler stopped mid-delivery: what was found so far stays
            self.limits.hit = self.limits.hit or e.reason
        self.stats.limit_hit = self.limits.hit

    def _one(self, r: int) -> None:
        """Run number ``r``: its swarm weights, then up to ``max_steps`` weighted steps;
        each world is judged for every target not yet shown by a shorter run."""
        sem, stats = self.sem, self.stats
        rng = random.Random(f"{self.seed}:{r}")
        weights = {k: rng.choice(SWARM_WEIGHTS) for k in ("deliver", "initiative", "fault", "inject")}
        w = sem.initial()
        run: Run = []
        self._judge(run, w, r)
        for _ in range(self.max_steps):
            if self.limits.reached():
                return
            succs = list(sem.successors(w))
            if not succs:
                break
            ws = [weights[_weight_kind(w, s, w2)] for s, w2 in succs]
            step, w = succs[rng.choices(range(len(succs)), ws)[0]]
            run.append((step, w))
            self._count(step)
            self._judge(run, w, r)
        stats.states += len(run) + 1
        stats.max_depth = max(stats.max_depth, len(run))

    def _judge(self, run: Run, w: World, r: int) -> None:
        for t in self.targets:
            if (t.found is None or len(t.found.run) > len(run)) and t.shows(w):
                t.found = _Found(list(run), r)

    def _count(self, step: Step) -> None:
        self.stats.transitions += 1
        if step.handler is not None and step.kind in HANDLER_STEPS:
            key = f"{self.sem.kind_of(step.pid)}:{step.handler}"
            self.stats.coverage[key] = self.stats.coverage.get(key, 0) + 1

    # ---------------------------------------------------------------- shrinking

    def _shrink(self, t: _Target) -> None:
        """Delta debugging on ``t``'s run: remove chunks of steps (halves, quarters, …,
        single steps) while the remaining steps replay and still show ``t``."""
        assert t.found is not None
        steps = [s for s, _ in t.found.run]
        budget = [SHRINK_REPLAYS]
        n = 2
        while len(steps) >= 1 and budget[0] > 0:
            size = max(1, len(steps) // n)
            shrunk = False
            for i in range(0, len(steps), size):
                if budget[0] <= 0 or self.limits.reached():
                    break
                shorter = self._replay(steps[:i] + steps[i + size:], t, budget)
                if shorter is not None:
                    steps = [s for s, _ in shorter]
                    t.found = _Found(shorter, t.found.index, True)
                    shrunk = True
                    break
            if shrunk:
                n = max(n - 1, 2)
            elif size == 1:
                break
            else:
                n = min(n * 2, len(steps))
        t.found.shrunk = True

    def _replay(self, steps: Sequence[Step], t: _Target, budget: list[int]) -> Run | None:
        """The run that takes ``steps`` in order (matched by ``Step.key``), cut at the
        first world that shows ``t``; None if a step is not enabled or none shows it."""
        budget[0] -= 1
        sem = self.sem
        w = sem.initial()
        if t.shows(w):
            return []
        out: Run = []
        for want in steps:
            key = want.key()
            for s, w2 in sem.successors(w):
                if s.key() == key:
                    break
            else:
                return None
            w = w2
            out.append((s, w))
            if t.shows(w):
                return out
        return None

    # ---------------------------------------------------------------- verdicts

    def scope(self) -> str:
        """What the runs tried: the text of every verdict without a violation."""
        cut = self.limits.hit
        if cut is not None:
            return (f"{self.done_runs} runs of ≤ {self.max_steps} steps, seed {self.seed}, "
                    f"before the limit (stopped: {cut})")
        return f"{self.done_runs} runs of ≤ {self.max_steps} steps, seed {self.seed}"

    def verdict(self, p: Property) -> PropertyResult:
        sem = self.sem
        init = sem.initial()
        tail = f"; {sem.spec.describe(sem.config.params)}"
        never = " (random simulation: not exhaustive, never proves)"

        def result(verdict: Verdict, bound: str, trace: Run | None = None, detail: str = "") -> PropertyResult:
            tr = Trace(init, tuple(trace)) if trace is not None else None
            scoped = bound if verdict in (VIOLATED, EXPECTED_FAIL) else bound + tail  # (a trace shows its scenario)
            return PropertyResult(p.name, p.shown_kind, p.meaning, verdict, scoped, p.expected_to_fail, tr,
                                  detail, engine=Engine.SIMULATE)

        if expectation(p).form is Form.PROGRESS:  # a random run is finite: it never shows a cycle
            return unchecked(p, Engine.SIMULATE, self.scope())
        mine = [t for t in self.targets if t.prop is p]
        if expectation(p).form is Form.REACHABLE:
            seen = [f"{t.goal} in {len(t.found.run)} steps" for t in mine if t.found is not None]
            missing = [t.goal for t in mine if t.found is None]
            if missing:
                return result(UNKNOWN, f"no witness for {', '.join(map(repr, missing))} in {self.scope()}{never}",
                              detail=f"witnessed: {', '.join(seen) or 'none'}")
            longest = max((t.found for t in mine if t.found is not None), key=lambda f: len(f.run), default=None)
            return result(HOLDS, f"witnessed: {', '.join(seen)} (seed {self.seed})",
                          longest.run if longest is not None else [])
        found = mine[0].found if mine else None
        if found is None:
            return result(UNKNOWN, f"no violation in {self.scope()}{never}")
        how = "shrunk" if found.shrunk else "found (not shrunk: stopped)"
        verdict = EXPECTED_FAIL if p.expected_to_fail else VIOLATED
        return result(verdict, f"{how} counterexample: {len(found.run)} steps (not guaranteed shortest), "
                               f"seed {self.seed}, run {found.index}", found.run)


def _goal_test(sem: Semantics, p: Property, g: str) -> Callable[[World], bool]:
    return lambda w: g in goals_met(sem, p, w)


def _violation_test(sem: Semantics, p: Property) -> Callable[[World], bool]:
    return lambda w: violated_at(sem, p, w)


def _weight_kind(w: World, step: Step, after: World) -> str:
    """The swarm weight a step takes: ``fault`` when it spends the fault budget, else by kind."""
    if after.faults_left < w.faults_left:
        return "fault"
    if step.kind == StepKind.INITIATIVE:
        return "initiative"
    if step.kind == StepKind.INJECT:
        return "inject"
    return "deliver"
