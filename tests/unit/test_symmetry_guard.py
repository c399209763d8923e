"""Symmetry is used only when it is true: a handler or a property that singles out one user
is detected (the guard of checker/engines/symmetry_guard.py) and refused with a clear
message; without symmetry the same spec runs and its verdicts are the real ones."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checker.errors import SpecError
from checker.model.spec import Ctx, ProcessDecl, Property, Spec
from checker.model.values import Message
from spec.tim3 import SPEC
from spec.tim3.states import PositionState
from tests.tim3_helpers import run, shortest, verdicts


def _favouring_user1(s: PositionState, msg: Message, ctx: Ctx) -> PositionState:
    """The State Manager, except that user1's position is booked twice."""
    user = msg.tag("User")
    extra = msg.tag("Amount") if user == "user1" else 0
    return PositionState(s.positions.set(user, s.positions.get(user, 0) + msg.tag("Amount") + extra))


def _with_state_handler(fn: Any) -> Spec:
    def build(params: Any) -> Any:
        procs = SPEC.build(params)
        out = []
        for p in procs:
            if p.pid == "state":
                decl = p.decl
                assert isinstance(decl, ProcessDecl)
                handler = dataclasses.replace(decl.handlers[0], fn=fn)
                p = dataclasses.replace(p, decl=dataclasses.replace(decl, handlers=(handler,)))
            out.append(p)
        return tuple(out)

    return dataclasses.replace(SPEC, build=build)


def test_a_handler_that_singles_out_a_user_refuses_symmetry() -> None:
    spec = _with_state_handler(_favouring_user1)
    with pytest.raises(SpecError, match=r"the deliver step of state \(UpdatePosition on UpdatePosition from "
                                         r"coordinator\) does not commute with swapping user1 and user2.*--no-symmetry"):
        run(spec, version="v3", users=2, ops=1)
    # without symmetry: the real verdict, with the real shortest counterexample
    plain = run(spec, version="v3", users=2, ops=1, symmetry=False)
    assert verdicts(plain)["positions-match-supply"] == "VIOLATED"
    assert shortest(plain, "positions-match-supply") == 8


def test_a_property_that_singles_out_a_user_refuses_symmetry() -> None:
    only_user1 = Property(
        name="user1-never-positive", kind="always", meaning="user1 never holds a position",
        check=lambda v: v.of_kind("state")[0].positions.get("user1", 0) <= 0, expected_to_fail=True,
    )
    spec = dataclasses.replace(SPEC, properties=SPEC.properties + (only_user1,))
    with pytest.raises(SpecError, match=r"property 'user1-never-positive' \(its check\) tells user1 and user2 apart"):
        run(spec, version="v3", users=2, ops=1)


def test_the_shipped_spec_passes_the_guard_under_every_fault() -> None:
    r = run(version="v2", users=2, ops=1, faults=("lock-fail", "mint-fail", "unlock-fail", "adversary"))
    assert r.stats.states > 200  # the guard's sample was taken in full
