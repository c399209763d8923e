"""Helpers for the migration tests: configs and runs of ``spec.tim3.migration``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.result import CheckResult, HOLDS
from checker.model.spec import ProcessInstance, Spec
from spec.tim3.migration import SPEC, build


def config(*, symmetry: bool = True, **params: Any) -> CheckConfig:
    """A CheckConfig of the migration spec: defaults overridden by ``params``."""
    p = SPEC.default_params().set("collateral", None)
    for k, v in params.items():
        p = p.set(k, v)
    return CheckConfig(params=SPEC.resolve(p), symmetry=symmetry)


def run(spec: Spec = SPEC, *, symmetry: bool = True, **params: Any) -> CheckResult:
    """Explore ``spec`` exhaustively in the migration scenario given by ``params``."""
    return explore(spec, config(symmetry=symmetry, **params))


def failures(result: CheckResult) -> dict[str, int | str]:
    """Each property that does not hold: the length of its shortest counterexample, or
    its verdict where it has none (a ``sometimes`` goal never reached)."""
    out: dict[str, int | str] = {}
    for r in result.results:
        if r.verdict != HOLDS:
            out[r.name] = len(r.trace) if r.trace is not None else r.verdict
    return out


def with_process(pid: str, change: Callable[[ProcessInstance], ProcessInstance]) -> Spec:
    """The migration spec with process ``pid`` of every built system changed (a mutant)."""

    def built(params: Any) -> tuple[ProcessInstance, ...]:
        return tuple(change(i) if i.pid == pid else i for i in build(params))

    return dataclasses.replace(SPEC, build=built)
