"""Quality: the property gaps the mutants of issue 9 showed (item 6).

Each mutant is a copy of one process of the v3 system with one bug, built here through
the spec API. Each new property catches its mutant, with a pinned shortest
counterexample, while every property that existed before misses it (they all pass).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from checker.engines.progress import LassoTrace
from checker.interfaces.counterexample import counterexample_data, load_counterexample, write_counterexample
from checker.interfaces.render import render_markdown, step_rows
from checker.interfaces.replay import DIVERGED, NOT_REPRODUCED, VIOLATES, replay
from checker.model.semantics import Semantics
from checker.model.spec import Ctx, Handler, ProcessDecl, Spec
from checker.model.values import Message
from checker.result import HOLDS, VIOLATED, CheckResult
from spec.tim3 import SPEC
from spec.tim3 import coordinator as c
from spec.tim3 import managers as m
from spec.tim3.states import CoordinatorState, LockState, PositionState, TokenState
from tests.quality._support import ALL_BUT_STRICT, DESIGN_VERDICTS
from tests.tim3_helpers import config, run, shortest, verdicts


def with_process(name: str, pid: str, decl: ProcessDecl) -> Spec:
    """The TIM3 spec with process ``pid`` running ``decl`` (run it with version v3)."""

    def build(params: Any) -> Any:
        return tuple(dataclasses.replace(i, decl=decl) if i.pid == pid else i for i in SPEC.build(params))

    return dataclasses.replace(SPEC, name=f"tim3-mutant-{name}", build=build, process_decls=SPEC.process_decls + (decl,))


def replaced(decl: ProcessDecl, new: Handler) -> ProcessDecl:
    return dataclasses.replace(decl, label=f"{decl.label} (mutant)", handlers=c.replace_handler(decl.handlers, new))


def before_verdicts(r: CheckResult) -> dict[str, str]:
    return {k: v for k, v in verdicts(r).items() if k in DESIGN_VERDICTS}


# ------------------------------------------------------------------ supply-within-cap


def mint_cap_reached(s: TokenState, msg: Message, ctx: Ctx) -> TokenState:
    """Mutant: the cap check forgets the amount being minted (``supply >= cap`` instead of
    ``supply + amount > cap``), so a mint that crosses the cap goes through."""
    user, amount, req = msg.tag("User"), msg.tag("Amount"), msg.tag("Request")
    tags: dict[str, Any] = {"Request": req, "Amount": amount}
    if s.supply >= ctx.params["max_supply"] or ctx.fault("mint-fail"):
        ctx.reply(msg, "Mint-Response", Status="error", **tags)
        return s
    ctx.reply(msg, "Mint-Response", Status="success", **tags)
    return TokenState(s.balances.set(user, s.balances.get(user, 0) + amount), s.supply + amount,
                      s.applied.set(req, s.applied.get(req, 0) + amount))


CAP_MUTANT = with_process("cap-forgets-amount", "token",
                          replaced(m.TOKEN_MANAGER, Handler("Mint", "Mint", mint_cap_reached, sender="coordinator")))
CAP: dict[str, Any] = dict(version="v3", users=1, ops=2, amounts=(1, 2), max_supply=2)  # a cap that binds


def test_the_cap_binds_and_v3_keeps_it() -> None:
    r = run(**CAP)
    assert verdicts(r) == ALL_BUT_STRICT
    assert r.stats.states == 1154


def test_supply_within_cap_catches_a_cap_check_that_forgets_the_amount() -> None:
    r = run(CAP_MUTANT, **CAP)
    assert before_verdicts(r) == DESIGN_VERDICTS  # every property that existed misses it
    assert verdicts(r)["supply-within-cap"] == VIOLATED
    # two requests of five steps each (user, coordinator, lock, coordinator, token): 1 + 2 > cap 2
    assert shortest(r, "supply-within-cap") == 10
    trace = r.result("supply-within-cap").trace
    assert trace is not None and trace.steps[-1][0].handler == "Mint" and trace.steps[-1][1].procs[2].supply == 3
    assert r.stats.states == 1154


# ------------------------------------------------------------------ positions-match-per-user


def update_other_user(s: PositionState, msg: Message, ctx: Ctx) -> PositionState:
    """Mutant: the State Manager books the update to the next user (user1 → user2 → user1)."""
    users = ctx.pids("user")
    user = users[(users.index(msg.tag("User")) + 1) % len(users)]
    return PositionState(s.positions.set(user, s.positions.get(user, 0) + msg.tag("Amount")))


WRONG_USER = with_process("position-to-wrong-user", "state", replaced(
    m.STATE_MANAGER, Handler("UpdatePosition", "UpdatePosition", update_other_user, sender="coordinator")))


@pytest.mark.parametrize("symmetry", [True, False])
def test_per_user_positions_catch_a_position_booked_to_the_wrong_user(symmetry: bool) -> None:
    r = run(WRONG_USER, version="v3", users=2, ops=1, symmetry=symmetry)
    assert before_verdicts(r) == DESIGN_VERDICTS  # the sums, the obligations and the answers all balance
    assert verdicts(r)["positions-match-per-user"] == VIOLATED
    # user sends, coordinator, lock, coordinator, token, coordinator, state books it to the other user
    assert shortest(r, "positions-match-per-user") == 7
    trace = r.result("positions-match-per-user").trace
    assert trace is not None and trace.steps[-1][0].handler == "UpdatePosition"
    assert r.stats.states == (120 if symmetry else 225)


def test_per_user_positions_hold_for_v3_with_faults_and_the_adversary() -> None:
    r = run(version="v3", users=2, ops=1, faults=("lock-fail", "mint-fail", "unlock-fail"))
    assert verdicts(r) == ALL_BUT_STRICT
    a = run(version="v3", users=1, ops=2, faults=("adversary",))
    assert verdicts(a)["positions-match-per-user"] == HOLDS


def test_per_user_positions_see_v1_and_v2_bugs() -> None:
    assert verdicts(run(version="v1", users=1, ops=1))["positions-match-per-user"] == VIOLATED
    r = run(version="v2", users=1, ops=2, faults=("unlock-fail",))
    assert verdicts(r)["positions-match-per-user"] == VIOLATED


# ------------------------------------------------------------------ positions-match-supply's premise


def mint_response_never_closes(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Mutant: a successful mint is booked and answered but its pending entry never clears."""
    req = msg.tag("Request")
    p = c.expect_stage(s, msg, ctx, ("minting",))
    if msg.tag("Status") == "success":
        ctx.send(c.STATE, "UpdatePosition", User=p.user, Amount=p.amount)
        c.answer_user(ctx, p, req, "success")
        return c.set_stage(s, req, "done", update_sent=True)
    ctx.send(c.LOCK, "UnlockCollateral", Request=req, User=p.user, Amount=p.amount)
    return c.set_stage(s, req, "rollback")


NEVER_CLEARS = with_process("pending-never-clears", "coordinator", replaced(
    c.COORDINATORS["v3"], Handler("Mint-Response", "Mint-Response", mint_response_never_closes, sender=c.TOKEN)))


def test_positions_match_supply_says_when_its_premise_is_not_met() -> None:
    r = run(NEVER_CLEARS, version="v3", users=1, ops=1)
    pms = r.result("positions-match-supply")
    assert pms.verdict == HOLDS
    # the initial state and the states after a refused request are checked; after a mint, pending never clears
    assert pms.detail == "vacuous in 1 of 3 quiescent states (its premise is false there; checked in 2)"
    assert verdicts(r)["every-request-answered"] == VIOLATED  # the folded check: no pending entry left
    assert shortest(r, "every-request-answered") == 8  # the mint flow (7 steps), then the UpdatePosition lands


def test_positions_match_supply_has_no_note_when_nothing_is_skipped() -> None:
    assert run(version="v3", users=1, ops=2).result("positions-match-supply").detail == ""


# ------------------------------------------------------------------ non-progress cycles


def unlock_refuses_all_it_holds(s: LockState, msg: Message, ctx: Ctx) -> LockState:
    """Mutant: the unlock check is off by one (``locked <= amount`` refuses), so an unlock of
    everything the user has locked is refused, every time v3 retries it."""
    user, amount = msg.tag("User"), msg.tag("Amount")
    locked = s.locked.get(user, 0)
    tags: dict[str, Any] = {"Request": msg.tag("Request"), "User": user, "Amount": amount}
    if locked <= amount or ctx.fault("unlock-fail"):
        ctx.reply(msg, "UnlockCollateral-Failed", **tags)
        return s
    ctx.reply(msg, "UnlockCollateral-Success", **tags)
    return LockState(s.free.set(user, s.free.get(user, 0) + amount), s.locked.set(user, locked - amount))


STUCK_RETRY = with_process("unlock-off-by-one", "lock", replaced(
    m.LOCK_MANAGER, Handler("UnlockCollateral", "UnlockCollateral", unlock_refuses_all_it_holds, sender="coordinator")))
RETRY: dict[str, Any] = dict(version="v3", users=1, ops=1, faults=("mint-fail",))  # a refused mint is rolled back by an unlock


@pytest.mark.parametrize("symmetry", [True, False])
def test_a_retry_that_is_refused_forever_is_a_non_progress_cycle(symmetry: bool) -> None:
    r = run(STUCK_RETRY, symmetry=symmetry, **RETRY)
    assert before_verdicts(r) == DESIGN_VERDICTS  # never quiescent again: every quiescence property passes
    res = r.result("no-non-progress-cycle")
    assert res.verdict == VIOLATED and r.exit_code == 1
    trace = res.trace
    assert isinstance(trace, LassoTrace)
    assert (trace.cycle_start, trace.cycle_length) == (6, 2)
    assert res.bound == "lasso: stem 6 steps, cycle 2 steps"
    assert [s.handler for s, _ in trace.steps[6:]] == ["UnlockCollateral", "UnlockCollateral-Failed"]
    assert trace.steps[-1][1] == trace.steps[5][1]  # the cycle closes
    assert all(w.net for _, w in trace.steps[5:])  # and is never quiescent
    assert r.stats.states == 18


def test_v3_retries_under_unlock_fail_but_makes_progress() -> None:
    """v3's retry is no non-progress cycle: the fault budget bounds the refusals."""
    r = run(version="v3", users=1, ops=2, faults=("unlock-fail",))
    assert verdicts(r) == ALL_BUT_STRICT
    assert r.stats.transitions > r.stats.states  # the graph has joins: dedup is exercised


def test_a_saved_lasso_replays_and_a_tampered_one_does_not(tmp_path: Path) -> None:
    cfg = config(**RETRY)
    r = run(STUCK_RETRY, **RETRY)
    data = counterexample_data(r, r.result("no-non-progress-cycle"), Semantics(STUCK_RETRY, cfg))
    assert data["cycle"] == {"start": 6, "length": 2}
    assert [s.get("cycle", False) for s in data["steps"]] == [False] * 6 + [True] * 2
    assert "steps 7–8 lead back to the state after step 6" in data["violation"]
    loaded = load_counterexample(write_counterexample(data, tmp_path))
    out = replay(STUCK_RETRY, loaded)
    assert out.status == VIOLATES, out.message
    # a cut cycle no longer ends in the recorded final state: the file was edited
    cut = dict(loaded, steps=loaded["steps"][:-1], length=7, cycle={"start": 6, "length": 1})
    out = replay(STUCK_RETRY, cut)
    assert out.status == NOT_REPRODUCED and "final state is not the recorded one" in out.message
    moved = dict(loaded, cycle={"start": 5, "length": 3})
    out = replay(STUCK_RETRY, moved)
    assert out.status == DIVERGED and "does not close" in out.message, out.message
    fixed = replay(SPEC, dict(loaded, spec=dict(loaded["spec"], name=SPEC.name)))
    assert fixed.status == DIVERGED and fixed.step == 7  # the shipped Lock Manager unlocks: the first cycle step differs


# ------------------------------------------------------------------ the z3 prover on the new invariants


def test_prove_proves_the_new_invariants_of_v3_and_refutes_the_cap_mutant() -> None:
    """1 user × 1 op, any amounts, collateral and cap: PROVED only with a re-checked
    certificate; the mutant's cap violation is found by z3 at once (any amount will do)."""
    from checker.engines.symbolic.prove import prove
    from checker.result import PROVED

    names = ["positions-match-per-user", "supply-within-cap"]
    ok = prove(SPEC, config(version="v3", users=1, ops=1), properties=names)
    assert [(x.name, x.verdict) for x in ok.results] == [(n, PROVED) for n in names]
    bad = prove(CAP_MUTANT, config(version="v3", users=1, ops=1), properties=["supply-within-cap"])
    assert [x.verdict for x in bad.results] == [VIOLATED]
    v1 = prove(SPEC, config(version="v1", users=1, ops=1), properties=["positions-match-per-user"])
    assert [x.verdict for x in v1.results] == [VIOLATED]


def test_a_lasso_marks_its_cycle_steps_in_the_rendered_trace() -> None:
    cfg = config(**RETRY)
    r = run(STUCK_RETRY, **RETRY)
    data = counterexample_data(r, r.result("no-non-progress-cycle"), Semantics(STUCK_RETRY, cfg))
    numbers = [row[0] for row in step_rows(data)]
    assert numbers == ["1", "2", "3", "4", "5", "6", "7 ↻", "8 ↻"]
    assert "| 7 ↻ |" in render_markdown(data)
