"""Quality: the checker finds the known TIM3 bugs, with pinned shortest counterexamples.

Each test seeds a real bug (a shipped coordinator version or a mutant of v3) and pins
the shortest counterexample length and the distinct-state count, so a regression in
the explorer (missed states, longer traces) fails here.
"""

from __future__ import annotations

import dataclasses

from checker.result import EXPECTED_FAIL, HOLDS, VIOLATED
from spec.tim3.coordinator import COORDINATORS
from tests.symbolic.mutants import coordinator_variant, mutants
from tests.tim3_helpers import run, shortest, verdicts


def test_v1_never_updates_positions() -> None:
    """The deployed coordinator: a successful mint is never reflected at the State Manager."""
    r = run(version="v1", users=1, ops=1)
    v = verdicts(r)
    assert v["update-follows-success"] == VIOLATED
    assert v["positions-match-supply"] == VIOLATED
    assert v["positions-match-supply-inflight"] == VIOLATED
    # user sends, coordinator, lock, coordinator, token, coordinator, user gets reply
    assert shortest(r, "update-follows-success") == 7
    assert shortest(r, "positions-match-supply") == 7
    # the coordinator closes the request without an UpdatePosition: visible one step earlier
    assert shortest(r, "positions-match-supply-inflight") == 6
    assert r.stats.states == 13
    # the checker's version of the seed's "Process Flow Diagram shows State Manager activity"
    assert "state:UpdatePosition" in r.stats.never_fired


def test_v1_counterexample_is_the_mint_flow_of_the_seed() -> None:
    r = run(version="v1", users=1, ops=1)
    trace = r.result("positions-match-supply").trace
    assert trace is not None
    handlers = [s.handler for s, _ in trace.steps]
    assert handlers == [
        "send-request", "MintTIM3", "LockCollateral", "LockCollateral-Success", "Mint", "Mint-Response",
        "MintTIM3-Response",
    ]
    final = trace.steps[-1][1]
    assert not any(m.action == "UpdatePosition" for s, _ in trace.steps for m in s.sends)
    assert final.net == ()


def test_v2_unlock_fail_burn_without_position_update() -> None:
    """The seed's fix is incomplete: burn confirmed, unlock refused, no UpdatePosition."""
    r = run(version="v2", users=1, ops=2, faults=("unlock-fail",))
    assert verdicts(r)["positions-match-supply"] == VIOLATED
    assert shortest(r, "positions-match-supply") == 15
    trace = r.result("positions-match-supply").trace
    assert trace is not None
    kinds = [(s.handler, dict(s.choices).get("unlock-fail")) for s, _ in trace.steps]
    assert ("UnlockCollateral", True) in kinds
    assert r.stats.states == 307


def test_v2_mint_refused_leaves_collateral_locked() -> None:
    """v2 never rolls back the lock of a refused mint: collateral no longer equals supply."""
    r = run(version="v2", users=1, ops=2, faults=("mint-fail",))
    v = verdicts(r)
    assert v["collateral-backs-supply"] == VIOLATED
    assert v["positions-match-supply"] == HOLDS
    assert shortest(r, "collateral-backs-supply") == 7


def test_adversary_breaks_v2_which_has_no_sender_checks() -> None:
    r = run(version="v2", users=1, ops=2, faults=("adversary",))
    v = verdicts(r)
    assert v["positions-match-supply-inflight"] == VIOLATED
    assert v["positions-match-supply"] == VIOLATED
    assert shortest(r, "positions-match-supply-inflight") == 4
    trace = r.result("positions-match-supply-inflight").trace
    assert trace is not None
    assert any(s.kind == "inject" for s, _ in trace.steps)
    assert r.stats.states == 25475


def test_adversary_breaks_v3_once_sender_checks_are_removed() -> None:
    """The sender checks are what protects v3: remove them and the adversary wins."""
    open_handlers = tuple(dataclasses.replace(h, sender=None) for h in COORDINATORS["v3"].handlers)
    mutant = coordinator_variant("no-sender-checks", open_handlers)
    r = run(mutant, version="v3", users=1, ops=1, faults=("adversary",))
    assert verdicts(r)["positions-match-supply-inflight"] == VIOLATED
    r3 = run(version="v3", users=1, ops=1, faults=("adversary",))
    assert verdicts(r3)["positions-match-supply-inflight"] == HOLDS


def test_mutant_missing_burn_update_is_caught() -> None:
    """v3 with the burn's UpdatePosition deleted: caught as a response violation."""
    r = run(mutants()["missing-burn-update"], version="v3", users=1, ops=2)
    v = verdicts(r)
    assert v["update-follows-success"] == VIOLATED
    assert v["positions-match-supply"] == VIOLATED
    assert v["positions-match-supply-strict"] == EXPECTED_FAIL
