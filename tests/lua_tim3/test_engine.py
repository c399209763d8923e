"""The Lua processes through the engines (``--impl lua --conform``): every explored step
of the Lua conforms to the model, and the model's properties give the Lua the verdicts
they give the model (v1 and v2 violate what the model says they violate; v3 holds)."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import pytest

from checker.engines.explore import explore
from checker.result import CheckResult
from spec.tim3 import SPEC
from tests.tim3_helpers import config

FAULTS = ("lock-fail", "mint-fail", "unlock-fail")


@cache
def _pair(version: str, faults: tuple[str, ...], users: int, ops: int) -> tuple[CheckResult, CheckResult]:
    kw: dict[str, Any] = {"version": version, "users": users, "ops": ops, "faults": faults}
    lua = explore(SPEC, dataclasses.replace(config(impl="lua", **kw), conform=True))
    model = explore(SPEC, config(**kw))
    return lua, model


def _verdicts(r: CheckResult) -> dict[str, str]:
    return {p.name: p.verdict for p in r.results if p.name != "conforms-to-model"}


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("faults, users, ops", [((), 1, 2), (FAULTS, 1, 2), (("adversary",), 2, 1)])
def test_lua_conforms_and_gets_the_models_verdicts(version: str, faults: tuple[str, ...], users: int, ops: int) -> None:
    lua, model = _pair(version, faults, users, ops)
    assert lua.result("conforms-to-model").verdict == "HOLDS", lua.result("conforms-to-model").detail
    assert _verdicts(lua) == _verdicts(model)


def test_v1_lua_violates_what_the_seed_reports() -> None:
    lua, _ = _pair("v1", (), 1, 2)
    assert _verdicts(lua)["update-follows-success"] == "VIOLATED"
    assert _verdicts(lua)["positions-match-supply"] == "VIOLATED"
