"""Lock Manager, Token Manager and State Manager (shared by every coordinator version).

Each accepts requests only from the coordinator (``sender="coordinator"``): these are
existing, deployed processes with ``msg.From`` checks.
"""

from __future__ import annotations

from typing import Any

from checker.model.spec import Ctx, Handler, ProcessDecl
from checker.model.values import Message
from spec.tim3.states import LockState, PositionState, TokenState

COORD = "coordinator"


def _lock(s: LockState, msg: Message, ctx: Ctx) -> LockState:
    user, amount = msg.tag("User"), msg.tag("Amount")
    free = s.free.get(user, 0)
    tags: dict[str, Any] = {"Request": msg.tag("Request"), "User": user, "Amount": amount}
    if free < amount or ctx.fault("lock-fail"):
        ctx.reply(msg, "LockCollateral-Failed", **tags)
        return s
    ctx.reply(msg, "LockCollateral-Success", **tags)
    return LockState(s.free.set(user, free - amount), s.locked.set(user, s.locked.get(user, 0) + amount))


def _unlock(s: LockState, msg: Message, ctx: Ctx) -> LockState:
    user, amount = msg.tag("User"), msg.tag("Amount")
    locked = s.locked.get(user, 0)
    tags: dict[str, Any] = {"Request": msg.tag("Request"), "User": user, "Amount": amount}
    if locked < amount or ctx.fault("unlock-fail"):
        ctx.reply(msg, "UnlockCollateral-Failed", **tags)
        return s
    ctx.reply(msg, "UnlockCollateral-Success", **tags)
    return LockState(s.free.set(user, s.free.get(user, 0) + amount), s.locked.set(user, locked - amount))


LOCK_MANAGER = ProcessDecl(
    kind="lock",
    label="Lock Manager",
    state_type=LockState,
    handlers=(
        Handler("LockCollateral", "LockCollateral", _lock, sender=COORD),
        Handler("UnlockCollateral", "UnlockCollateral", _unlock, sender=COORD),
    ),
)


def _mint(s: TokenState, msg: Message, ctx: Ctx) -> TokenState:
    user, amount, req = msg.tag("User"), msg.tag("Amount"), msg.tag("Request")
    tags: dict[str, Any] = {"Request": req, "Amount": amount}
    if s.supply + amount > ctx.params["max_supply"] or ctx.fault("mint-fail"):
        ctx.reply(msg, "Mint-Response", Status="error", **tags)
        return s
    ctx.reply(msg, "Mint-Response", Status="success", **tags)
    return TokenState(
        s.balances.set(user, s.balances.get(user, 0) + amount),
        s.supply + amount,
        s.applied.set(req, s.applied.get(req, 0) + amount),
    )


def _burn(s: TokenState, msg: Message, ctx: Ctx) -> TokenState:
    user, amount, req = msg.tag("User"), msg.tag("Amount"), msg.tag("Request")
    tags: dict[str, Any] = {"Request": req, "Amount": amount}
    balance = s.balances.get(user, 0)
    if balance < amount:
        ctx.reply(msg, "Burn-Response", Status="error", **tags)
        return s
    ctx.reply(msg, "Burn-Response", Status="success", **tags)
    return TokenState(
        s.balances.set(user, balance - amount),
        s.supply - amount,
        s.applied.set(req, s.applied.get(req, 0) - amount),
    )


TOKEN_MANAGER = ProcessDecl(
    kind="token",
    label="Token Manager",
    state_type=TokenState,
    handlers=(
        Handler("Mint", "Mint", _mint, sender=COORD),
        Handler("Burn", "Burn", _burn, sender=COORD),
    ),
)


def _update_position(s: PositionState, msg: Message, ctx: Ctx) -> PositionState:
    user = msg.tag("User")
    return PositionState(s.positions.set(user, s.positions.get(user, 0) + msg.tag("Amount")))


STATE_MANAGER = ProcessDecl(
    kind="state",
    label="State Manager",
    state_type=PositionState,
    handlers=(Handler("UpdatePosition", "UpdatePosition", _update_position, sender=COORD),),
)
