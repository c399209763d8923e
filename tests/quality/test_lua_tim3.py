"""Quality: the Lua TIM3 (spec/tim3/lua/, run by checker/ao) gets the model's verdicts,
and --conform catches Lua mutants where the model is right and the code is wrong.

State counts are pinned. The Lua state space is the model's (symmetry off: a Lua
snapshot is not renamed) except where AO message ids tell apart two messages the model
cannot: two equal UpdatePosition messages of one user (two mints of the same amount)
are one multiset entry twice in the model, two messages with their own ids in Lua.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from checker.config import CheckConfig
from checker.engines.explore import explore
from checker.result import EXPECTED_FAIL, HOLDS, VIOLATED, CheckResult
from spec.tim3 import SPEC
from spec.tim3.lua_observe import lua_file
from spec.tim3.lua_system import with_sources
from tests.tim3_helpers import config, verdicts

GATE = ("update-follows-success", "positions-match-supply", "positions-match-supply-inflight",
        "collateral-backs-supply", "every-request-answered", "mint-and-burn-reachable")


def lua(faults: tuple[str, ...] = (), conform: bool = False, spec: Any = SPEC, **params: Any) -> CheckResult:
    cfg: CheckConfig = dataclasses.replace(config(impl="lua", faults=faults, symmetry=False, **params), conform=conform)
    return explore(spec, cfg)


def test_v1_in_lua_violates_as_the_model_with_the_same_state_count() -> None:
    r = lua(version="v1", users=2, ops=2)
    model = explore(SPEC, config(version="v1", users=2, ops=2, symmetry=False))
    assert verdicts(r) == verdicts(model)
    assert verdicts(r)["update-follows-success"] == VIOLATED
    assert verdicts(r)["positions-match-supply"] == VIOLATED
    assert r.stats.states == model.stats.states == 34_969
    assert len(r.result("positions-match-supply").trace or ()) == 7


def test_v2_in_lua_violates_under_unlock_fail() -> None:
    r = lua(("unlock-fail",), version="v2", users=1, ops=2)
    v = verdicts(r)
    assert v["update-follows-success"] == VIOLATED and v["positions-match-supply"] == VIOLATED
    assert len(r.result("positions-match-supply").trace or ()) == 15
    assert r.stats.states == 311


@pytest.mark.parametrize("faults", [(), ("lock-fail",), ("mint-fail",), ("unlock-fail",), ("adversary",)])
def test_v3_in_lua_holds_every_gate_property_and_conforms(faults: tuple[str, ...]) -> None:
    r = lua(faults, conform=True, version="v3", users=1, ops=2)
    v = verdicts(r)
    assert all(v[p] == HOLDS for p in GATE), v
    assert v["positions-match-supply-strict"] == EXPECTED_FAIL
    assert v["conforms-to-model"] == HOLDS


def test_v3_in_lua_two_users_two_ops_pinned() -> None:
    r = lua(version="v3", users=2, ops=2)
    assert all(verdicts(r)[p] == HOLDS for p in GATE)
    # the model has 88,209 states without symmetry: the 2,392 more are AO message ids
    # telling two equal UpdatePosition messages of one user apart (module docstring)
    assert r.stats.states == 90_601


def test_v1_and_v2_in_lua_conform_to_their_models() -> None:
    for version, faults in (("v1", ()), ("v2", ("unlock-fail",))):
        assert verdicts(lua(faults, conform=True, version=version, users=1, ops=2))["conforms-to-model"] == HOLDS


# ------------------------------------------------------------------ mutants: model right, code wrong


def mutant(tmp_path: Path, pid: str, file_key: str, old: str, new: str) -> Any:
    text = lua_file(file_key).read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {file_key}"
    path = tmp_path / f"{pid}_mutant.lua"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return with_sources({pid: path})


def divergence(r: CheckResult) -> tuple[int, str]:
    res = r.result("conforms-to-model")
    assert res.verdict == VIOLATED, res
    assert res.trace is not None
    return len(res.trace), res.detail


def test_update_position_tags_the_state_manager_does_not_read(tmp_path: Path) -> None:
    spec = mutant(tmp_path, "coordinator", "v3", "      Amount = tostring(delta),", "      Quantity = tostring(delta),")
    n, why = divergence(lua(conform=True, spec=spec, version="v3", users=1, ops=1))
    assert n == 6  # the coordinator's Mint-Response: its UpdatePosition lacks Amount
    assert "coordinator on Mint-Response" in why and "the code sent" in why


def test_an_amount_that_travels_as_one_point_zero(tmp_path: Path) -> None:
    spec = mutant(tmp_path, "coordinator", "v3", "    Amount = tostring(amount)\n", "    Amount = tostring(amount / 1)\n")
    r = lua(conform=True, spec=spec, version="v3", users=1, ops=1)
    n, why = divergence(r)
    assert n == 2  # the MintTIM3 handler sends LockCollateral with Amount "1.0"
    assert "1.0" in why


def test_a_handler_that_matches_the_wrong_action(tmp_path: Path) -> None:
    spec = mutant(tmp_path, "state", "state", 'hasMatchingTag("Action", "UpdatePosition")',
                  'hasMatchingTag("Action", "Update-Position")')
    r = lua(conform=True, spec=spec, version="v3", users=1, ops=1)
    n, why = divergence(r)
    assert n == 7 and "no handler (Inbox)" in why
    assert verdicts(r)["positions-match-supply"] == VIOLATED  # the properties see it too


def test_a_reply_without_the_field_the_coordinator_correlates_on(tmp_path: Path) -> None:
    spec = mutant(tmp_path, "lock", "lock", "local reply = { Request = msg.Tags.Request, User = user,",
                  "local reply = { User = user,")
    n, why = divergence(lua(conform=True, spec=spec, version="v3", users=1, ops=1))
    assert n == 3 and "the code sent" in why


def test_the_same_lua_on_an_aos_that_normalises_tag_names() -> None:
    """aos 2.0.4 title-cased incoming tag names (TokenManager -> Tokenmanager): the Lua
    TIM3 reads msg.Tags.LockManager at boot, so its Config stays empty and the
    coordinator sends to an empty id, which the checker reports, with the file and line."""
    r = lua(version="v3", users=1, ops=1, aos="normalized-tags")
    found = {x.name for x in r.results if x.kind == "finding"}
    assert "unknown-target@coordinator_v3.lua:117" in found
    assert verdicts(r)["mint-and-burn-reachable"] == VIOLATED
    assert all(v != VIOLATED for k, v in verdicts(lua(version="v3", users=1, ops=1, aos="require-json")).items())
