"""The engine registry: every engine by name, shared by the CLI (``check``, ``audit``)
and the pytest plugin.

An engine is a function ``(spec, config, progress, options) -> CheckResult``; ``options``
(``EngineOptions``) carries the settings only some engines read (``--depth`` for bmc,
``--runs``/``--steps`` for simulate, ``--method`` for prove). A new engine is one entry
in ``ENGINES`` (and a member of ``checker.result.Engine``): the CLI's ``--engine``
choices, its help text, ``audit`` and the plugin all come from here.

The engines themselves are imported when they run (the z3 ones pull in z3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from checker.config import CheckConfig
from checker.errors import UsageError
from checker.result import CheckResult, Engine, Stats
from checker.spec import Spec

ProgressFn = Callable[[Stats], None]


@dataclass(frozen=True)
class EngineOptions:
    """Settings of the non-default engines (``--depth``, ``--runs``, ``--steps``, ``--method``)."""

    depth: int = 10
    runs: int = 300
    steps: int = 60
    method: str = "auto"


Run = Callable[[Spec, CheckConfig, ProgressFn | None, EngineOptions], CheckResult]


@dataclass(frozen=True)
class EngineEntry:
    """One engine: how to run it and what ``--engine``'s help says of it."""

    name: Engine
    run: Run
    help: str


def _explore(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.explore import explore

    return explore(spec, config, progress)


def _simulate(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.simulate import simulate

    return simulate(spec, config, runs=o.runs, max_steps=o.steps)


def _bmc(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.bmc import bmc

    return bmc(spec, config, o.depth, progress)


def _prove(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.prove import prove

    return prove(spec, config, method=o.method, progress=progress)


ALL_PARTS = (Engine.EXPLORE, Engine.BMC, Engine.PROVE)


def _all(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    parts = [run_engine(spec, config, e, progress, o) for e in ALL_PARTS]
    first = parts[0]
    return CheckResult(first.spec_name, first.spec_source, first.scenario, config, Engine.ALL,
                       [r for part in parts for r in part.results], first.stats)


ENGINES: Mapping[Engine, EngineEntry] = MappingProxyType({
    e.name: e for e in (
        EngineEntry(Engine.EXPLORE, _explore, "exhaustive BFS"),
        EngineEntry(Engine.SIMULATE, _simulate, "random runs"),
        EngineEntry(Engine.BMC, _bmc, "z3, symbolic amounts"),
        EngineEntry(Engine.PROVE, _prove, "z3, unbounded"),
        EngineEntry(Engine.ALL, _all, "explore + bmc + prove"),
    )
})


def engine_named(name: str, flag: str = "--engine") -> Engine:
    """The engine called ``name``; ``UsageError`` naming ``flag`` and the choices otherwise."""
    try:
        engine = Engine(name)
    except ValueError:
        engine = None
    if engine is None or engine not in ENGINES:
        raise UsageError(f"{flag}: unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return engine


def run_engine(spec: Spec, config: CheckConfig, engine: Engine | str, progress: ProgressFn | None = None,
               opts: EngineOptions | None = None) -> CheckResult:
    """Run ``engine`` on ``spec`` under ``config``."""
    return ENGINES[engine_named(engine)].run(spec, config, progress, opts or EngineOptions())


def runner(engine: Engine | str, progress: ProgressFn | None = None,
           opts: EngineOptions | None = None) -> Callable[[Spec, CheckConfig], CheckResult]:
    """``run_engine`` with the engine and its settings fixed: ``(spec, config) -> result``."""
    entry = ENGINES[engine_named(engine)]
    o = opts or EngineOptions()
    return lambda spec, config: entry.run(spec, config, progress, o)


def engines_help() -> str:
    """``explore (exhaustive BFS), simulate (random runs), ...`` for ``--engine``'s help."""
    return ", ".join(f"{e.name} ({e.help})" for e in ENGINES.values())
