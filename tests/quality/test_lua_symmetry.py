"""Quality: symmetry reduction on the Lua TIM3 (``--impl lua``, users interchangeable).

With symmetry the Lua processes' snapshots are renamed inside Lua (``AoProcess.rename``)
and each Lua process checks that renaming the users commutes with its first deliveries
(``checker/ao/commute.py``). Pinned here: the verdicts and shortest counterexamples are
those of symmetry off, the orbit counts, and a Lua mutant that singles out ``user1`` is
refused with a ``SpecError`` (run with --no-symmetry) instead of explored unsoundly.

Orbit counts are the model's except where AO message ids tell apart two messages the
model cannot (``tests/quality/test_lua_tim3.py``): v3 at 2 users × 2 ops has 45,451
orbits in Lua and 44,253 in the model (90,601 and 88,209 states without symmetry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import checker.ao.commute as commute
import checker.engines.symmetry_guard as symmetry_guard
from checker.errors import InternalError, SpecError
from checker.engines.explore import explore
from checker.result import HOLDS, VIOLATED, CheckResult
from spec.tim3 import SPEC
from spec.tim3.lua_observe import lua_file
from spec.tim3.lua_system import with_sources
from tests.tim3_helpers import config, verdicts


def lua(symmetry: bool, spec: Any = SPEC, faults: tuple[str, ...] = (), **params: Any) -> CheckResult:
    return explore(spec, config(impl="lua", symmetry=symmetry, faults=faults, **params))


def shortest_traces(r: CheckResult) -> dict[str, int]:
    return {p.name: len(p.trace) for p in r.results if p.trace is not None}


def test_v3_two_users_two_ops_symmetry_on_pinned() -> None:
    on, off = lua(True, version="v3", users=2, ops=2), lua(False, version="v3", users=2, ops=2)
    assert on.stats.reduction == "symmetry over user"
    assert on.stats.states == 45_451 and off.stats.states == 90_601
    assert verdicts(on) == verdicts(off)
    assert shortest_traces(on) == shortest_traces(off)
    assert explore(SPEC, config(version="v3", users=2, ops=2)).stats.states == 44_253  # the model's orbits


def test_v1_two_users_two_ops_symmetry_on_violates_as_off() -> None:
    on, off = lua(True, version="v1", users=2, ops=2), lua(False, version="v1", users=2, ops=2)
    assert on.stats.states == 17_578 and off.stats.states == 34_969
    assert verdicts(on) == verdicts(off)
    assert verdicts(on)["update-follows-success"] == VIOLATED and verdicts(on)["positions-match-supply"] == VIOLATED
    assert shortest_traces(on) == shortest_traces(off)
    assert shortest_traces(on)["positions-match-supply"] == 7
    assert explore(SPEC, config(version="v1", users=2, ops=2)).stats.states == 17_578  # the model's orbits


@pytest.mark.parametrize(("version", "faults", "users", "ops", "orbits", "states"), [
    ("v2", ("unlock-fail",), 2, 1, 120, 225),
    ("v3", ("lock-fail", "mint-fail", "unlock-fail"), 2, 1, 240, 465),
    ("v3", ("adversary",), 2, 1, 11_130, 22_050),
    ("v1", ("adversary",), 2, 1, 10_180, 20_178),
    ("v3", (), 3, 1, 680, 3_375),
])
def test_faults_and_three_users_symmetry_on_as_off(version: str, faults: tuple[str, ...], users: int, ops: int,
                                                   orbits: int, states: int) -> None:
    on = lua(True, faults=faults, version=version, users=users, ops=ops)
    off = lua(False, faults=faults, version=version, users=users, ops=ops)
    assert (on.stats.states, off.stats.states) == (orbits, states)
    assert verdicts(on) == verdicts(off)
    assert shortest_traces(on) == shortest_traces(off)


# ------------------------------------------------------------------ a Lua mutant that singles out user1

UPDATE = "Positions[user] = (Positions[user] or 0) + tonumber(msg.Tags.Amount)"


def state_mutant(tmp_path: Path, new: str) -> Any:
    text = lua_file("state").read_text(encoding="utf-8")
    assert text.count(UPDATE) == 1
    path = tmp_path / "state_mutant.lua"
    path.write_text(text.replace(UPDATE, new), encoding="utf-8")
    return with_sources({"state": path})


def test_a_state_manager_that_singles_out_user1_is_refused_with_symmetry(tmp_path: Path) -> None:
    # user1's positions count double: the initial state is symmetric (no position yet),
    # only a delivery shows the difference
    spec = state_mutant(tmp_path, 'Positions[user] = (Positions[user] or 0) + tonumber(msg.Tags.Amount) '
                                  '* (user == "user1" and 2 or 1)')
    with pytest.raises(SpecError) as e:
        lua(True, spec, version="v3", users=2, ops=1)
    text = str(e.value)
    assert text.startswith("state: symmetry reduction is unsound for this Lua process")
    assert "coordinator → state: UpdatePosition" in text and "(handler UpdatePosition)" in text
    assert "the new state differs" in text and "--no-symmetry" in text
    off = lua(False, spec, version="v3", users=2, ops=1)  # what --no-symmetry then says
    assert verdicts(off)["positions-match-supply"] == VIOLATED


def test_a_mutant_that_only_records_user1_is_refused_although_every_property_holds(tmp_path: Path) -> None:
    # nothing a property reads changes, but the states do: the reduction would be unsound
    spec = state_mutant(tmp_path, 'if user == "user1" then Audit = (Audit or 0) + 1 end\n  ' + UPDATE)
    with pytest.raises(SpecError, match="state: symmetry reduction is unsound"):
        lua(True, spec, version="v3", users=2, ops=1)
    off = lua(False, spec, version="v3", users=2, ops=1)
    assert all(v in (HOLDS, "EXPECTED-FAIL") for v in verdicts(off).values())


def test_without_the_check_the_mutant_is_explored_unsoundly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # why the check is there: with it off, the reduced search of a mutant that ignores
    # user2's updates is no quotient of the real one (here the explorer cannot even
    # rebuild a counterexample trace through the representatives)
    spec = state_mutant(tmp_path, 'if user == "user2" then return end\n  ' + UPDATE)
    assert verdicts(lua(False, spec, version="v3", users=2, ops=1))["positions-match-supply"] == VIOLATED
    with pytest.raises(SpecError, match="unsound"):
        lua(True, spec, version="v3", users=2, ops=1)
    monkeypatch.setattr(commute, "CHECKED_DELIVERIES", 0)
    # the Lua check off: the world-level guard (every implementation) still refuses it
    with pytest.raises(SpecError, match="does not commute with swapping user1 and user2"):
        lua(True, spec, version="v3", users=2, ops=1)
    monkeypatch.setattr(symmetry_guard, "GUARD_CHECKS", 0)
    with pytest.raises(InternalError, match="no concrete step reaches the next representative"):
        lua(True, spec, version="v3", users=2, ops=1)
