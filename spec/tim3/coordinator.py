"""The TIM3 Coordinator in three versions.

* ``v1`` — as deployed: mint and burn flows of the seed, never sends ``UpdatePosition``,
  no ``msg.From`` checks, no rollback.
* ``v2`` — the seed's fix: ``v1`` plus ``UpdatePosition`` after a successful
  ``Mint-Response`` (seed 1.1) and after ``UnlockCollateral-Success`` (seed 1.2).
* ``v3`` — the project's corrected design: every handler checks ``msg.From``; a refused
  mint rolls back its lock; every refused request gets an error reply; the position is
  updated exactly when the supply changes (on ``Mint-Response`` success and on
  ``Burn-Response`` success, not after the unlock); a refused unlock is retried.
"""

from __future__ import annotations

from checker.model.spec import Ctx, Handler, ProcessDecl
from checker.model.values import FrozenMap, Message
from spec.tim3.states import CoordinatorState, Pending

LOCK, TOKEN, STATE = "lock", "token", "state"


def open_request(s: CoordinatorState, req: str, p: Pending) -> CoordinatorState:
    return CoordinatorState(s.pending.set(req, p))


def close_request(s: CoordinatorState, req: str) -> CoordinatorState:
    return CoordinatorState(s.pending.remove(req))


def set_stage(s: CoordinatorState, req: str, stage: str, update_sent: bool | None = None) -> CoordinatorState:
    p = s.pending[req]
    sent = p.update_sent if update_sent is None else update_sent
    return CoordinatorState(s.pending.set(req, Pending(p.user, p.op, p.amount, stage, sent)))


def find_request(s: CoordinatorState, msg: Message, ctx: Ctx) -> Pending:
    """The open request a response refers to; an unknown id raises (no effect, per AO)."""
    p: Pending | None = s.pending.get(msg.tag("Request"))
    if p is None:
        ctx.error(f"unknown request {msg.tag('Request')}")
    assert p is not None
    return p


def answer_user(ctx: Ctx, p: Pending, req: str, status: str) -> None:
    action = "MintTIM3-Response" if p.op == "mint" else "BurnTIM3-Response"
    ctx.send(p.user, action, Request=req, Status=status)


# ---------------------------------------------------------------- v1 (as deployed)

def mint_request(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Seed step 1→2: MintTIM3 from a user; lock the collateral."""
    req, amount = msg.tag("Request"), msg.tag("Amount")
    ctx.send(LOCK, "LockCollateral", Request=req, User=msg.src, Amount=amount)
    return open_request(s, req, Pending(msg.src, "mint", amount, "locking"))


def lock_success(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Seed step 3→4: collateral locked; ask the Token Manager to mint."""
    p = find_request(s, msg, ctx)
    ctx.send(TOKEN, "Mint", Request=msg.tag("Request"), User=p.user, Amount=p.amount)
    return set_stage(s, msg.tag("Request"), "minting")


def lock_failed(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Lock refused: answer the user with an error."""
    p = find_request(s, msg, ctx)
    answer_user(ctx, p, msg.tag("Request"), "error")
    return close_request(s, msg.tag("Request"))


def mint_response_v1(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Seed step 5→6: answer the user. Never tells the State Manager (the bug)."""
    p = find_request(s, msg, ctx)
    answer_user(ctx, p, msg.tag("Request"), "success" if msg.tag("Status") == "success" else "error")
    return close_request(s, msg.tag("Request"))


def burn_request(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Burn step 1: BurnTIM3 from a user; ask the Token Manager to burn."""
    req, amount = msg.tag("Request"), msg.tag("Amount")
    ctx.send(TOKEN, "Burn", Request=req, User=msg.src, Amount=amount)
    return open_request(s, req, Pending(msg.src, "burn", amount, "burning"))


def burn_response(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Burn step 2: burned, so unlock the collateral; refused, so answer with an error."""
    p = find_request(s, msg, ctx)
    if msg.tag("Status") != "success":
        answer_user(ctx, p, msg.tag("Request"), "error")
        return close_request(s, msg.tag("Request"))
    ctx.send(LOCK, "UnlockCollateral", Request=msg.tag("Request"), User=p.user, Amount=p.amount)
    return set_stage(s, msg.tag("Request"), "unlocking")


def unlock_success_v1(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Burn step 3: collateral unlocked; answer the user."""
    p = find_request(s, msg, ctx)
    answer_user(ctx, p, msg.tag("Request"), "success")
    return close_request(s, msg.tag("Request"))


def unlock_failed(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Unlock refused: answer the user with an error (the burn already happened)."""
    p = find_request(s, msg, ctx)
    answer_user(ctx, p, msg.tag("Request"), "error")
    return close_request(s, msg.tag("Request"))


# ---------------------------------------------------------------- v2 (the seed's fix)

def mint_response_v2(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Seed 1.1: after a successful Mint-Response, send UpdatePosition(+Amount)."""
    p = find_request(s, msg, ctx)
    if msg.tag("Status") == "success":
        ctx.send(STATE, "UpdatePosition", User=p.user, Amount=msg.tag("Amount"))
    answer_user(ctx, p, msg.tag("Request"), "success" if msg.tag("Status") == "success" else "error")
    return close_request(s, msg.tag("Request"))


def unlock_success_v2(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Seed 1.2: after UnlockCollateral-Success, send UpdatePosition(-Amount)."""
    p = find_request(s, msg, ctx)
    ctx.send(STATE, "UpdatePosition", User=p.user, Amount=-msg.tag("Amount"))
    answer_user(ctx, p, msg.tag("Request"), "success")
    return close_request(s, msg.tag("Request"))


# ---------------------------------------------------------------- v3 (corrected)

def expect_stage(s: CoordinatorState, msg: Message, ctx: Ctx, stages: tuple[str, ...]) -> Pending:
    p = find_request(s, msg, ctx)
    if p.stage not in stages:
        ctx.error(f"request {msg.tag('Request')} is {p.stage}, not {'/'.join(stages)}")
    return p


def mint_request_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    if msg.tag("Request") in s.pending:
        ctx.error(f"duplicate request {msg.tag('Request')}")
    return mint_request(s, msg, ctx)


def burn_request_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    if msg.tag("Request") in s.pending:
        ctx.error(f"duplicate request {msg.tag('Request')}")
    return burn_request(s, msg, ctx)


def lock_success_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    expect_stage(s, msg, ctx, ("locking",))
    return lock_success(s, msg, ctx)


def lock_failed_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    expect_stage(s, msg, ctx, ("locking",))
    return lock_failed(s, msg, ctx)


def mint_response_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Minted: UpdatePosition(+amount) and answer. Refused: roll the lock back first."""
    req = msg.tag("Request")
    p = expect_stage(s, msg, ctx, ("minting",))
    if msg.tag("Status") == "success":
        ctx.send(STATE, "UpdatePosition", User=p.user, Amount=p.amount)
        answer_user(ctx, p, req, "success")
        return close_request(s, req)
    ctx.send(LOCK, "UnlockCollateral", Request=req, User=p.user, Amount=p.amount)
    return set_stage(s, req, "rollback")


def burn_response_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Burned: the supply changed now, so UpdatePosition(-amount) now; then unlock."""
    req = msg.tag("Request")
    p = expect_stage(s, msg, ctx, ("burning",))
    if msg.tag("Status") != "success":
        answer_user(ctx, p, req, "error")
        return close_request(s, req)
    ctx.send(STATE, "UpdatePosition", User=p.user, Amount=-p.amount)
    ctx.send(LOCK, "UnlockCollateral", Request=req, User=p.user, Amount=p.amount)
    return set_stage(s, req, "unlocking", update_sent=True)


def unlock_success_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Unlocked: a burn succeeded; a rollback means the mint was refused."""
    req = msg.tag("Request")
    p = expect_stage(s, msg, ctx, ("unlocking", "rollback"))
    answer_user(ctx, p, req, "success" if p.stage == "unlocking" else "error")
    return close_request(s, req)


def unlock_failed_v3(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """Unlock refused: retry it (the collateral is owed; the request stays open)."""
    req = msg.tag("Request")
    p = expect_stage(s, msg, ctx, ("unlocking", "rollback"))
    ctx.send(LOCK, "UnlockCollateral", Request=req, User=p.user, Amount=p.amount)
    return s


def coordinator_decl(version: str, handlers: tuple[Handler, ...]) -> ProcessDecl:
    return ProcessDecl(kind="coordinator", label=f"Coordinator {version}", state_type=CoordinatorState, handlers=handlers)


V1_HANDLERS: tuple[Handler, ...] = (
    Handler("MintTIM3", "MintTIM3", mint_request),
    Handler("LockCollateral-Success", "LockCollateral-Success", lock_success),
    Handler("LockCollateral-Failed", "LockCollateral-Failed", lock_failed),
    Handler("Mint-Response", "Mint-Response", mint_response_v1),
    Handler("BurnTIM3", "BurnTIM3", burn_request),
    Handler("Burn-Response", "Burn-Response", burn_response),
    Handler("UnlockCollateral-Success", "UnlockCollateral-Success", unlock_success_v1),
    Handler("UnlockCollateral-Failed", "UnlockCollateral-Failed", unlock_failed),
)


def replace_handler(handlers: tuple[Handler, ...], new: Handler) -> tuple[Handler, ...]:
    """aos ``Handlers.add`` with an existing name: replaced in place."""
    return tuple(new if h.name == new.name else h for h in handlers)


V2_HANDLERS = replace_handler(
    replace_handler(V1_HANDLERS, Handler("Mint-Response", "Mint-Response", mint_response_v2)),
    Handler("UnlockCollateral-Success", "UnlockCollateral-Success", unlock_success_v2),
)

V3_HANDLERS: tuple[Handler, ...] = (
    Handler("MintTIM3", "MintTIM3", mint_request_v3),
    Handler("LockCollateral-Success", "LockCollateral-Success", lock_success_v3, sender=LOCK),
    Handler("LockCollateral-Failed", "LockCollateral-Failed", lock_failed_v3, sender=LOCK),
    Handler("Mint-Response", "Mint-Response", mint_response_v3, sender=TOKEN),
    Handler("BurnTIM3", "BurnTIM3", burn_request_v3),
    Handler("Burn-Response", "Burn-Response", burn_response_v3, sender=TOKEN),
    Handler("UnlockCollateral-Success", "UnlockCollateral-Success", unlock_success_v3, sender=LOCK),
    Handler("UnlockCollateral-Failed", "UnlockCollateral-Failed", unlock_failed_v3, sender=LOCK),
)

COORDINATORS: dict[str, ProcessDecl] = {
    "v1": coordinator_decl("v1", V1_HANDLERS),
    "v2": coordinator_decl("v2", V2_HANDLERS),
    "v3": coordinator_decl("v3", V3_HANDLERS),
}


def empty_coordinator() -> CoordinatorState:
    return CoordinatorState(FrozenMap())
