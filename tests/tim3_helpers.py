"""Small helpers shared by the TIM3 tests: build a config and run the explorer."""

from __future__ import annotations

from typing import Any

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.result import CheckResult
from checker.model.spec import Spec
from spec.tim3 import SPEC


def config(
    *, faults: tuple[str, ...] = (), network: str = "unordered", symmetry: bool = True, **params: Any
) -> CheckConfig:
    """A CheckConfig for the TIM3 spec: defaults overridden by ``params``, derived values re-resolved."""
    p = SPEC.default_params().set("collateral", None).set("max_supply", None)
    for k, v in params.items():
        p = p.set(k, v)
    return CheckConfig(params=SPEC.resolve(p), faults=frozenset(faults), network=network, symmetry=symmetry)


def run(
    spec: Spec = SPEC, *, faults: tuple[str, ...] = (), network: str = "unordered", symmetry: bool = True,
    **params: Any,
) -> CheckResult:
    """Explore ``spec`` exhaustively in the scenario given by ``params``."""
    return explore(spec, config(faults=faults, network=network, symmetry=symmetry, **params))


def verdicts(result: CheckResult) -> dict[str, str]:
    return {r.name: r.verdict for r in result.results}


def shortest(result: CheckResult, prop: str) -> int:
    trace = result.result(prop).trace
    assert trace is not None, f"{prop} has no counterexample"
    return len(trace)
