"""The engine registry: every engine by name, shared by the CLI (``check``, ``audit``)
and the pytest plugin.

An engine is a function ``(spec, config, progress, options) -> CheckResult``; ``options``
(``EngineOptions``) carries the settings only some engines read (``--depth`` for bmc,
``--runs``/``--steps``/``--seed`` for simulate, ``--method`` for prove). A new engine is one entry
in ``ENGINES`` (and a member of ``checker.result.Engine``): the CLI's ``--engine``
choices, its help text, ``audit`` and the plugin all come from here.

The engines themselves are imported when they run (the z3 ones pull in z3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from checker.config import CheckConfig
from checker.errors import UsageError
from checker.result import CheckResult, Engine, Stats
from checker.model.spec import Spec

ProgressFn = Callable[[Stats], None]


BMC_DEPTH = 12  # bmc's default depth (the shipped spec's deepest witness is at depth 12)


@dataclass(frozen=True)
class EngineOptions:
    """Settings of the non-default engines (``--depth``, ``--runs``, ``--steps``, ``--method``,
    ``--max-shapes``). ``prove_configs``: the scenarios ``prove`` runs on instead of the
    check's own (the spec's ``command_scenarios["prove"]``), each property once per scenario."""

    depth: int = BMC_DEPTH
    runs: int = 300
    steps: int = 60
    method: str = "auto"
    max_shapes: int = 20_000
    prove_configs: tuple[CheckConfig, ...] = ()
    seed: int = 0  # simulate's --seed (checker.engines.simulate.DEFAULT_SEED)


Run = Callable[[Spec, CheckConfig, ProgressFn | None, EngineOptions], CheckResult]


@dataclass(frozen=True)
class EngineEntry:
    """One engine: how to run it and what ``--engine``'s help says of it."""

    name: Engine
    run: Run
    help: str


def _explore(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.engines.explore import explore

    return explore(spec, config, progress)


def _simulate(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.engines.simulate import simulate

    return simulate(spec, config, runs=o.runs, max_steps=o.steps, seed=o.seed)


def _bmc(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.engines.symbolic.bmc import bmc

    return bmc(spec, config, o.depth, progress)


def _prove(spec: Spec, config: CheckConfig, progress: ProgressFn | None, o: EngineOptions) -> CheckResult:
    from checker.engines.symbolic.prove import prove_engine

    return prove_engine(spec, config, o.prove_configs, o.method, o.max_shapes, progress)


def _differing(configs: Sequence[CheckConfig]) -> list[str]:
    """The parameters whose values differ among ``configs``."""
    first = configs[0].params
    return [n for n in first if any(c.params.get(n) != first[n] for c in configs)]


def scenario_label(config: CheckConfig, names: Sequence[str]) -> str:
    """``clients 3, ops 1``: the values of the parameters ``names`` in ``config``."""
    return ", ".join(f"{n} {config.params[n]}" for n in names if n in config.params)


def merge_prove_scenarios(spec: Spec, parts: Sequence[CheckResult], configs: Sequence[CheckConfig]) -> CheckResult:
    """``prove``'s results on its default scenarios (``Spec.command_scenarios["prove"]``),
    merged, the bound of each row naming the scenario's values."""
    names = list(dict.fromkeys(n for s in spec.command_scenarios.get("prove", ()) for n in s))
    flags = "/".join(p.option for n in names if (p := spec.param(n)) is not None)
    note = f"prove's default scenarios (no {flags} given)" if flags else "prove's scenarios"
    return merge_scenarios(parts, note, names or _differing(configs))


def parametric_scope(spec: Spec) -> str:
    """What a parametric proof covers, in the spec's words (its symmetric kinds)."""
    kinds = "/".join(spec.symmetric_kinds) or "symmetric"
    return f"any number of {kinds} processes and operations (the spec's parametric view)"


def merge_scenarios(parts: Sequence[CheckResult], note: str, names: Sequence[str]) -> CheckResult:
    """One result of the same engine run on several scenarios: every property once per
    scenario, its bound prefixed by the scenario's values of ``names`` (``[clients 3, ops 1]``);
    statistics summed."""
    first = parts[0]
    results = [dataclasses.replace(r, bound=f"[{scenario_label(part.config, names)}] {r.bound}",
                                   trace_config=r.trace_config or part.config)
               for part in parts for r in part.results]
    limits = [p.stats.limit_hit for p in parts if p.stats.limit_hit]
    stats = dataclasses.replace(first.stats, states=sum(p.stats.states for p in parts),
                                transitions=sum(p.stats.transitions for p in parts),
                                seconds=sum(p.stats.seconds for p in parts), limit_hit=limits[0] if limits else None)
    scenario = f"{note}: " + " | ".join(f"[{scenario_label(p.config, names)}] {p.scenario}" for p in parts)
    return CheckResult(first.spec_name, first.spec_source, scenario, first.config, first.engine, results, stats)


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
        EngineEntry(Engine.BMC, _bmc, "z3, symbolic data"),
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
