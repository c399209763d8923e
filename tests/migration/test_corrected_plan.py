"""The corrected plan holds, and each of its steps is needed: leave one out (a mutant)
and a release property fails, with a pinned shortest counterexample.

This is also what makes the HOLDS verdicts of ``test_plans`` honest: the properties
can fail on this model, and do, as soon as the plan is weakened.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checker.result import HOLDS
from checker.model.spec import Ctx, Handler, Initiative, ProcessDecl
from checker.model.values import Message
from spec.tim3.coordinator import replace_handler
from spec.tim3.migration_operator import (
    CORRECTED,
    _backfill,
    _frontends,
    ask_history,
    history_rows,
    inspect_old,
    retire,
    rollback_corrected,
)
from spec.tim3.migration_processes import LOCK, MIGRATION_TOKEN, OLD, TOKEN, _mint, _status, _token
from spec.tim3.migration_states import MTokenState, OperatorState
from tests.migration.helpers import failures, run, with_process


def _operator(decl: ProcessDecl) -> Any:
    return with_process("operator", lambda i: dataclasses.replace(i, decl=decl))


def _initiatives(**changes: Any) -> ProcessDecl:
    """CORRECTED with some initiatives replaced (a function) or removed (None)."""
    out = []
    for it in CORRECTED.initiatives:
        fn = changes.get(it.name, it.fn)
        if fn is not None:
            out.append(Initiative(it.name, fn))
    return dataclasses.replace(CORRECTED, initiatives=tuple(out))


def _backfill_once_retired(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """No drain: backfill as soon as both managers acknowledged the retirement."""
    if not s.retired or s.waiting or s.rolled_back:
        return None
    return ask_history(s, ctx)


def _inspect_without_retiring(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """No retirement: wait for the old coordinator to be idle, then call it drained."""
    return inspect_old(dataclasses.replace(s, retired=s.switched), ctx)


def _history_with(mode: str, only_old: bool) -> ProcessDecl:
    def history(s: OperatorState, msg: Message, ctx: Ctx) -> OperatorState:
        if s.backfill != "asked":
            ctx.error("no history was asked for")
        rows = history_rows(msg)
        _backfill(ctx, tuple(r for r in rows if r[3] == OLD) if only_old else rows, mode)
        return dataclasses.replace(s, backfill="sent")

    return dataclasses.replace(CORRECTED, handlers=replace_handler(CORRECTED.handlers,
                                                                   Handler("History", "History", history, sender=TOKEN)))


def _rollback_without_stale(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    if not s.switched or s.rolled_back or s.waiting:
        return None
    if s.retired:
        for manager in (LOCK, TOKEN):
            ctx.send(manager, "Reinstate-Coordinator", Coordinator=OLD)
        return dataclasses.replace(s, rolled_back=True, waiting=2)
    return dataclasses.replace(s, rolled_back=True)


def _rollback_at_once(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Reinstate and switch the frontends back in one step, without waiting for the acks."""
    after = rollback_corrected(s, ctx)
    if after is None:
        return None
    _frontends(ctx, OLD, 2)
    return dataclasses.replace(after, switched_back=True)


def _hard_mint(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    """Retirement that also refuses the retired coordinator's Mint (its lock is granted)."""
    if _status(s.auth, msg, ctx) == "retired":
        ctx.reply(msg, "Mint-Response", Request=msg.tag("Request"), Amount=msg.tag("Amount"), Status="error")
        return _token(s, refused=s.refused.set(msg.tag("Request"), msg.src))
    return _mint(s, msg, ctx)


HARD_TOKEN = dataclasses.replace(MIGRATION_TOKEN, handlers=replace_handler(MIGRATION_TOKEN.handlers,
                                                                          Handler("Mint", "Mint", _hard_mint)))


def _token_decl(decl: ProcessDecl) -> Any:
    return with_process("token", lambda i: dataclasses.replace(i, decl=decl))


MUTANTS = {
    # name: (spec, {property: shortest counterexample, or the verdict of an unreached goal}, states)
    "no drain (backfill once retired)": (_operator(_initiatives(inspect=None, backfill=_backfill_once_retired)),
                                         {"release-positions-match-supply": 18, "migration-reachable": "VIOLATED"},
                                         9603),
    "no retirement (drain only)": (_operator(_initiatives(retire=None, inspect=_inspect_without_retiring)),
                                   {"release-positions-match-supply": 16, "migration-reachable": "VIOLATED"}, 11585),
    "backfill every entry": (_operator(_history_with("add", only_old=False)),
                             {"release-positions-match-supply": 22, "no-double-count": 19}, 14939),
    "backfill overwrites": (_operator(_history_with("overwrite", only_old=True)),
                            {"release-positions-match-supply": 22}, 14433),
    "rollback without the stale flag": (_operator(_initiatives(rollback=_rollback_without_stale)),
                                        {"rollback-positions-flagged": 3}, 7647),
    "switch back without waiting": (_operator(_initiatives(rollback=_rollback_at_once, **{"switch-back": None})),
                                    {"rollback-old-keeps-working": 19}, 27103),
    "retirement refuses the old Mint": (_token_decl(HARD_TOKEN), {"release-collateral-backs-supply": 14}, 15363),
}

# handlers the corrected plan never needs: the other plans' steps, and unlock failures
# (no faults in the migration scenario)
UNUSED = ["coordinator:UnlockCollateral-Failed", "lock:Configure", "token:Configure", "token:Record-Cutoff",
          "state:Configure"]


def test_corrected_plan_holds_every_property() -> None:
    r = run(plan="corrected")
    assert all(x.verdict == HOLDS for x in r.results), [(x.name, x.verdict) for x in r.results]
    assert r.stats.never_fired == UNUSED


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_step_of_the_corrected_plan_is_needed(name: str) -> None:
    spec, expected, states = MUTANTS[name]
    r = run(spec, plan="corrected")
    assert failures(r) == expected
    assert r.stats.states == states


def test_no_drain_loses_an_old_mint_finishing_after_the_backfill() -> None:
    spec, _, _ = MUTANTS["no drain (backfill once retired)"]
    trace = run(spec, plan="corrected").result("release-positions-match-supply").trace
    assert trace is not None
    steps = [s for s, _ in trace.steps]
    i_hist = next(i for i, s in enumerate(steps) if s.handler == "GetHistory")
    i_mint = next(i for i, s in enumerate(steps) if s.handler == "Mint")
    msg = steps[i_mint].msg
    assert msg is not None and msg.src == OLD and i_hist < i_mint
