"""The processes of the migration scenario other than the operator.

* The two coordinators are the model's own (``spec.tim3.coordinator``): the old one is
  ``v1`` as deployed, the new one ``v2`` or ``v3``. ``tracked`` wraps their handlers
  so that every ``UpdatePosition`` carries, as a *ghost* tag, the ``Request`` it
  reports (the State Manager ignores it except to count, for the property
  ``no-double-count``, how often each supply change is counted). The old coordinator
  also answers the owner's ``Inspect`` (aos's built-in ``Eval``, read through a dryrun:
  how many requests it has open).
* The Lock and Token Managers accept a *set* of coordinators (``auth``), changed by the
  operator: ``Retire-Coordinator`` (it may finish the requests it started but not start
  new ones: the Lock Manager refuses its ``LockCollateral``, the Token Manager its
  ``Burn``, each with the usual failure reply), ``Reinstate-Coordinator``. The Token
  Manager keeps its history (``Entry``: request, user, change, ``msg.From``), answers
  ``GetHistory`` and records a cut-off (``Record-Cutoff``).
* The State Manager applies ``UpdatePosition`` from the coordinators it accepts,
  ``Backfill`` (overwrite or add) and ``Mark-Stale`` from the operator.
* With ``auth=single`` every manager accepts one coordinator id, and the operator's
  ``Configure(Coordinator=c)`` replaces it (as ``Configure`` in ``spec/tim3/lua/``):
  accepting the new coordinator stops accepting the old one.
* Users send each request to the coordinator their frontend points at; the operator's
  ``SetFrontend`` (with a generation: a newer setting is never undone by an older one
  that arrives late) changes it — the frontend deployment reaching each user's browser
  at its own time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.model.spec import Ctx, Handler, Initiative, Params, ProcessDecl
from checker.model.values import FrozenMap, Message
from spec.tim3.migration_states import (
    AuthMap,
    Entry,
    MLockState,
    MPositionState,
    MTokenState,
    MUserRequest,
    MUserState,
)
from spec.tim3.states import CoordinatorState
from spec.tim3.users import request_id

OLD, NEW, OPERATOR = "old", "new", "operator"
LOCK, TOKEN, STATE = "lock", "token", "state"
COORDINATOR_IDS = (OLD, NEW)


# ---------------------------------------------------------------- coordinators


class _TrackingCtx:
    """``ctx`` for a coordinator handler: adds the ghost ``Request`` of the message being
    handled to every ``UpdatePosition`` it sends; everything else passes through."""

    __slots__ = ("_ctx", "_req")

    def __init__(self, ctx: Ctx, req: Any) -> None:
        self._ctx = ctx
        self._req = req

    @property
    def self_id(self) -> str:
        return self._ctx.self_id

    @property
    def params(self) -> Params:
        return self._ctx.params

    def send(self, dst: str, action: str, **tags: Any) -> None:
        if action == "UpdatePosition":
            tags["Request"] = self._req
        self._ctx.send(dst, action, **tags)

    def reply(self, msg: Message, action: str, **tags: Any) -> None:
        self.send(msg.src, action, **tags)

    def fault(self, name: str) -> bool:
        return self._ctx.fault(name)

    def choose(self, label: str, options: Sequence[Any]) -> Any:
        return self._ctx.choose(label, options)

    def choose_value(self, label: str, domain: str) -> Any:
        return self._ctx.choose_value(label, domain)

    def error(self, reason: str) -> Any:
        return self._ctx.error(reason)

    def pids(self, kind: str) -> tuple[str, ...]:
        return self._ctx.pids(kind)


def _tracked_fn(fn: Any) -> Any:
    def run(s: Any, msg: Message, ctx: Ctx) -> Any:
        return fn(s, msg, _TrackingCtx(ctx, msg.get("Request")))

    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run


def _inspect(s: CoordinatorState, msg: Message, ctx: Ctx) -> CoordinatorState:
    """aos ``Eval`` by the owner (a dryrun): how many requests are open."""
    ctx.reply(msg, "Inspect-Response", Pending=len(s.pending))
    return s


def tracked(decl: ProcessDecl, label: str, inspectable: bool = False) -> ProcessDecl:
    """``decl`` with the ghost ``Request`` on its UpdatePosition messages (and the
    owner's ``Inspect`` when ``inspectable``), labelled ``label``."""
    handlers = tuple(Handler(h.name, h.action, _tracked_fn(h.fn), h.sender) for h in decl.handlers)
    if inspectable:
        handlers += (Handler("Inspect", "Inspect", _inspect, sender=OPERATOR),)
    return ProcessDecl(kind=decl.kind, label=label, state_type=decl.state_type, handlers=handlers)


# ---------------------------------------------------------------- managers


def _status(auth: AuthMap, msg: Message, ctx: Ctx) -> str:
    """The sender's standing; a sender that is no coordinator raises (no effect)."""
    st: str | None = auth.get(msg.src)
    if st is None:
        ctx.error(f"{msg.src} is not an authorised coordinator")
    assert st is not None
    return st


def _lock(s: MLockState, msg: Message, ctx: Ctx) -> MLockState:
    user, amount, req = msg.tag("User"), msg.tag("Amount"), msg.tag("Request")
    tags: dict[str, Any] = {"Request": req, "User": user, "Amount": amount}
    if _status(s.auth, msg, ctx) == "retired":
        ctx.reply(msg, "LockCollateral-Failed", **tags)
        return MLockState(s.free, s.locked, s.auth, s.refused.set(req, msg.src))
    free = s.free.get(user, 0)
    if free < amount:
        ctx.reply(msg, "LockCollateral-Failed", **tags)
        return s
    ctx.reply(msg, "LockCollateral-Success", **tags)
    return MLockState(s.free.set(user, free - amount), s.locked.set(user, s.locked.get(user, 0) + amount), s.auth,
                      s.refused)


def _unlock(s: MLockState, msg: Message, ctx: Ctx) -> MLockState:
    user, amount = msg.tag("User"), msg.tag("Amount")
    _status(s.auth, msg, ctx)  # a retired coordinator may still finish its burns
    locked = s.locked.get(user, 0)
    tags: dict[str, Any] = {"Request": msg.tag("Request"), "User": user, "Amount": amount}
    if locked < amount:
        ctx.reply(msg, "UnlockCollateral-Failed", **tags)
        return s
    ctx.reply(msg, "UnlockCollateral-Success", **tags)
    return MLockState(s.free.set(user, s.free.get(user, 0) + amount), s.locked.set(user, locked - amount), s.auth,
                      s.refused)


def _set_auth(auth: AuthMap, msg: Message, ctx: Ctx) -> AuthMap:
    coord = msg.tag("Coordinator")
    if coord not in auth:
        ctx.error(f"unknown coordinator {coord}")
    ctx.reply(msg, "Ack", Of=msg.action)
    return auth.set(coord, "retired" if msg.action == "Retire-Coordinator" else "active")


def _lock_auth(s: MLockState, msg: Message, ctx: Ctx) -> MLockState:
    return MLockState(s.free, s.locked, _set_auth(s.auth, msg, ctx), s.refused)


def configured(msg: Message) -> AuthMap:
    """``Configure(Coordinator=c)`` of a single-id manager: c replaces whoever it accepted."""
    return FrozenMap({msg.tag("Coordinator"): "active"})


def _lock_configure(s: MLockState, msg: Message, ctx: Ctx) -> MLockState:
    return MLockState(s.free, s.locked, configured(msg), s.refused)


MIGRATION_LOCK = ProcessDecl(
    kind="lock",
    label="Lock Manager",
    state_type=MLockState,
    handlers=(
        Handler("LockCollateral", "LockCollateral", _lock),
        Handler("UnlockCollateral", "UnlockCollateral", _unlock),
        Handler("Retire-Coordinator", "Retire-Coordinator", _lock_auth, sender=OPERATOR),
        Handler("Reinstate-Coordinator", "Reinstate-Coordinator", _lock_auth, sender=OPERATOR),
        Handler("Configure", "Configure", _lock_configure, sender=OPERATOR),
    ),
)


def _token(s: MTokenState, *, balances: Any = None, supply: int | None = None, log: tuple[Entry, ...] | None = None,
           auth: AuthMap | None = None, cutoff: int | None = None, refused: Any = None) -> MTokenState:
    return MTokenState(
        s.balances if balances is None else balances,
        s.supply if supply is None else supply,
        s.prior,
        s.log if log is None else log,
        s.auth if auth is None else auth,
        s.cutoff if cutoff is None else cutoff,
        s.refused if refused is None else refused,
    )


def _mint(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    """A retired coordinator may still mint: its Mint follows a lock granted before."""
    user, amount, req = msg.tag("User"), msg.tag("Amount"), msg.tag("Request")
    _status(s.auth, msg, ctx)
    ctx.reply(msg, "Mint-Response", Request=req, Amount=amount, Status="success")
    return _token(s, balances=s.balances.set(user, s.balances.get(user, 0) + amount), supply=s.supply + amount,
                  log=s.log + (Entry(req, user, amount, msg.src),))


def _burn(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    user, amount, req = msg.tag("User"), msg.tag("Amount"), msg.tag("Request")
    tags: dict[str, Any] = {"Request": req, "Amount": amount}
    if _status(s.auth, msg, ctx) == "retired":
        ctx.reply(msg, "Burn-Response", Status="error", **tags)
        return _token(s, refused=s.refused.set(req, msg.src))
    balance = s.balances.get(user, 0)
    if balance < amount:
        ctx.reply(msg, "Burn-Response", Status="error", **tags)
        return s
    ctx.reply(msg, "Burn-Response", Status="success", **tags)
    return _token(s, balances=s.balances.set(user, balance - amount), supply=s.supply - amount,
                  log=s.log + (Entry(req, user, -amount, msg.src),))


def _token_auth(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    return _token(s, auth=_set_auth(s.auth, msg, ctx))


def _token_configure(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    return _token(s, auth=configured(msg))


def _record_cutoff(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    ctx.reply(msg, "Ack", Of=msg.action)
    return _token(s, cutoff=len(s.log))


def entry_tuple(e: Entry) -> tuple[str, str, int, str]:
    """An entry as it travels in a message: (request, user, change, origin)."""
    return (e.req, e.user, e.delta, e.origin)


def _get_history(s: MTokenState, msg: Message, ctx: Ctx) -> MTokenState:
    """The owner reads the history (a dryrun): the prior entries (by request id), the
    log in order, and the cut-off (an index into the log, -1 if none was recorded)."""
    prior = FrozenMap({r: entry_tuple(e) for r, e in s.prior.items()})
    ctx.reply(msg, "History", Prior=prior, Log=tuple(entry_tuple(e) for e in s.log), Cutoff=s.cutoff)
    return s


MIGRATION_TOKEN = ProcessDecl(
    kind="token",
    label="Token Manager",
    state_type=MTokenState,
    handlers=(
        Handler("Mint", "Mint", _mint),
        Handler("Burn", "Burn", _burn),
        Handler("Retire-Coordinator", "Retire-Coordinator", _token_auth, sender=OPERATOR),
        Handler("Reinstate-Coordinator", "Reinstate-Coordinator", _token_auth, sender=OPERATOR),
        Handler("Configure", "Configure", _token_configure, sender=OPERATOR),
        Handler("Record-Cutoff", "Record-Cutoff", _record_cutoff, sender=OPERATOR),
        Handler("GetHistory", "GetHistory", _get_history, sender=OPERATOR),
    ),
)


def _update_position(s: MPositionState, msg: Message, ctx: Ctx) -> MPositionState:
    _status(s.auth, msg, ctx)
    user, req = msg.tag("User"), msg.get("Request")
    counted = s.counted.set(req, s.counted.get(req, 0) + 1) if req is not None else s.counted
    return MPositionState(s.positions.set(user, s.positions.get(user, 0) + msg.tag("Amount")), s.stale,
                          s.backfilled, counted, s.auth)


def _backfill(s: MPositionState, msg: Message, ctx: Ctx) -> MPositionState:
    """``Mode=overwrite``: positions := the given totals; ``Mode=add``: positions += them.
    ``Entries`` names the supply changes the totals count (for the ghost ``counted``)."""
    totals: FrozenMap[str, int] = msg.tag("Positions")
    reqs: FrozenMap[str, int] = msg.tag("Entries")
    if msg.tag("Mode") == "overwrite":
        return MPositionState(totals, s.stale, True, FrozenMap({r: 1 for r in reqs}), s.auth)
    positions, counted = s.positions, s.counted
    for user, total in totals.items():
        positions = positions.set(user, positions.get(user, 0) + total)
    for r in reqs:
        counted = counted.set(r, counted.get(r, 0) + 1)
    return MPositionState(positions, s.stale, True, counted, s.auth)


def _mark_stale(s: MPositionState, msg: Message, ctx: Ctx) -> MPositionState:
    return MPositionState(s.positions, True, s.backfilled, s.counted, s.auth)


def _state_configure(s: MPositionState, msg: Message, ctx: Ctx) -> MPositionState:
    return MPositionState(s.positions, s.stale, s.backfilled, s.counted, configured(msg))


MIGRATION_STATE = ProcessDecl(
    kind="state",
    label="State Manager",
    state_type=MPositionState,
    handlers=(
        Handler("UpdatePosition", "UpdatePosition", _update_position),
        Handler("Backfill", "Backfill", _backfill, sender=OPERATOR),
        Handler("Mark-Stale", "Mark-Stale", _mark_stale, sender=OPERATOR),
        Handler("Configure", "Configure", _state_configure, sender=OPERATOR),
    ),
)


# ---------------------------------------------------------------- users


def send_request(s: MUserState, ctx: Ctx) -> MUserState | None:
    """The next operation, to the coordinator the frontend points at."""
    if s.issued >= ctx.params["ops"]:
        return None
    op = ctx.choose("op", ("mint", "burn"))
    amount = ctx.choose_value("amount", "amount")
    req = request_id(ctx.self_id, s.issued)
    ctx.send(s.pointer, "MintTIM3" if op == "mint" else "BurnTIM3", Request=req, Amount=amount)
    r = MUserRequest(op, amount, s.pointer, s.generation >= 2)
    return MUserState(s.pointer, s.generation, s.issued + 1, s.requests.set(req, r))


def set_frontend(s: MUserState, msg: Message, ctx: Ctx) -> MUserState:
    """The frontend's new coordinator id, unless a newer setting is already in place."""
    gen = msg.tag("Generation")
    if gen <= s.generation:
        return s
    return MUserState(msg.tag("Coordinator"), gen, s.issued, s.requests)


def receive_answer(s: MUserState, msg: Message, ctx: Ctx) -> MUserState:
    """Record an answer from the coordinator the request went to."""
    req = msg.tag("Request")
    r: MUserRequest | None = s.requests.get(req)
    if r is None or r.target != msg.src:
        ctx.error(f"answer to unknown request {req} from {msg.src}")
    assert r is not None
    done = MUserRequest(r.op, r.amount, r.target, r.after_rollback, msg.tag("Status"), r.responses + 1)
    return MUserState(s.pointer, s.generation, s.issued, s.requests.set(req, done))


MIGRATION_USER = ProcessDecl(
    kind="user",
    label="User",
    state_type=MUserState,
    handlers=(
        Handler("SetFrontend", "SetFrontend", set_frontend, sender=OPERATOR),
        Handler("MintTIM3-Response", "MintTIM3-Response", receive_answer),
        Handler("BurnTIM3-Response", "BurnTIM3-Response", receive_answer),
    ),
    initiatives=(Initiative("send-request", send_request),),
)
