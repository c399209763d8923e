"""Mutants of the v3 coordinator: each reintroduces one known class of bug.

Built only through the spec API (``replace_handler``, ``dataclasses.replace``), so every
engine runs exactly the same mutant.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from checker.model.spec import Ctx, Handler, Params, ProcessInstance, Spec
from checker.model.values import Message
from spec.tim3 import SPEC
from spec.tim3 import coordinator as c
from spec.tim3.states import CoordinatorState, Pending


def burn_response_no_update(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Mutant: a successful burn never sends UpdatePosition(-amount)."""
    req = msg.tag("Request")
    p = c.expect_stage(s, msg, ctx, ("burning",))
    if msg.tag("Status") != "success":
        c.answer_user(ctx, p, req, "error")
        return c.close_request(s, req)
    ctx.send(c.LOCK, "UnlockCollateral", Request=req, User=p.user, Amount=p.amount)
    return c.set_stage(s, req, "unlocking", update_sent=True)


def lock_success_early_update(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Mutant: UpdatePosition(+amount) is sent when the mint is requested, not confirmed."""
    p = c.expect_stage(s, msg, ctx, ("locking",))
    req = msg.tag("Request")
    ctx.send(c.TOKEN, "Mint", Request=req, User=p.user, Amount=p.amount)
    ctx.send(c.STATE, "UpdatePosition", User=p.user, Amount=p.amount)
    return c.set_stage(s, req, "minting", update_sent=True)


def mint_response_no_early_update(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    req = msg.tag("Request")
    p = c.expect_stage(s, msg, ctx, ("minting",))
    if msg.tag("Status") == "success":
        c.answer_user(ctx, p, req, "success")
        return c.close_request(s, req)
    ctx.send(c.LOCK, "UnlockCollateral", Request=req, User=p.user, Amount=p.amount)
    return c.set_stage(s, req, "rollback")


def mint_response_no_rollback(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Mutant: a refused mint is answered with an error but its lock is never released."""
    req = msg.tag("Request")
    p = c.expect_stage(s, msg, ctx, ("minting",))
    if msg.tag("Status") == "success":
        ctx.send(c.STATE, "UpdatePosition", User=p.user, Amount=p.amount)
        c.answer_user(ctx, p, req, "success")
        return c.close_request(s, req)
    c.answer_user(ctx, p, req, "error")
    return c.close_request(s, req)


def _by_user(s: CoordinatorState, msg: Message, ctx: Ctx, stages: tuple[str, ...]) -> tuple[str, Pending]:
    """The first open request of the message's user in one of ``stages`` (the bug)."""
    user = msg.get("User")
    if user is None:
        known = s.pending.get(msg.tag("Request"))
        user = known.user if known is not None else None
    for req, p in s.pending.items():
        if p.user == user and p.stage in stages:
            return req, p
    ctx.error(f"no open request of {user}")
    raise AssertionError("unreachable")


def lock_success_by_user(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Mutant: the lock confirmation is correlated by user, not by request id."""
    req, p = _by_user(s, msg, ctx, ("locking",))
    ctx.send(c.TOKEN, "Mint", Request=req, User=p.user, Amount=p.amount)
    return c.set_stage(s, req, "minting")


def _mutant(name: str, *handlers: Handler) -> Spec:
    hs = c.V3_HANDLERS
    for h in handlers:
        hs = c.replace_handler(hs, h)
    return coordinator_variant(name, hs)


def coordinator_variant(name: str, handlers: tuple[Handler, ...]) -> Spec:
    """The TIM3 spec whose coordinator (run it with version v3) has ``handlers``."""
    decl = dataclasses.replace(c.COORDINATORS["v3"], label=f"Coordinator v3 mutant {name}", handlers=handlers)

    def build(params: Params) -> tuple[ProcessInstance, ...]:
        insts = SPEC.build(params)
        return tuple(dataclasses.replace(i, decl=decl) if i.pid == "coordinator" else i for i in insts)

    return dataclasses.replace(SPEC, name=f"tim3-mutant-{name}", build=build,
                               process_decls=SPEC.process_decls + (decl,))


def mutants() -> dict[str, Spec]:
    """name -> mutant spec (run with version v3)."""
    L = c.LOCK
    return {
        "missing-burn-update": _mutant(
            "missing-burn-update", Handler("Burn-Response", "Burn-Response", burn_response_no_update, sender=c.TOKEN)),
        "update-before-mint-confirmed": _mutant(
            "update-before-mint-confirmed",
            Handler("LockCollateral-Success", "LockCollateral-Success", lock_success_early_update, sender=L),
            Handler("Mint-Response", "Mint-Response", mint_response_no_early_update, sender=c.TOKEN)),
        "no-rollback-on-refused-mint": _mutant(
            "no-rollback-on-refused-mint",
            Handler("Mint-Response", "Mint-Response", mint_response_no_rollback, sender=c.TOKEN)),
        "request-matched-by-user": _mutant(
            "request-matched-by-user",
            Handler("LockCollateral-Success", "LockCollateral-Success", lock_success_by_user, sender=L)),
    }


# The scenario in which the explicit engine (small amount domain, enough collateral,
# non-binding cap) can see each mutant's bug, and the properties that catch it.
MUTANT_SCENARIOS: dict[str, dict[str, Any]] = {
    "missing-burn-update": {"ops": 2, "faults": (), "props": ("positions-match-supply", "update-follows-success")},
    "update-before-mint-confirmed": {"ops": 1, "faults": (), "props": ("positions-match-supply-inflight",)},
    "no-rollback-on-refused-mint": {"ops": 1, "faults": ("mint-fail",), "props": ("collateral-backs-supply",)},
    "request-matched-by-user": {"ops": 2, "faults": (), "props": ("collateral-backs-supply",)},
}
