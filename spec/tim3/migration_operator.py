"""The release engineer: one operator process per migration plan.

Every step is an initiative the operator may take at any point of the interleaving
once its guard holds; what it sends travels like any AO message (unordered, async).

* ``seed`` — the seed's plan as written: the new coordinator is deployed alongside the
  old and both are authorised at the managers (the initial state); *switch*: point
  every user's frontend at the new one; *backfill* (any time after the switch):
  "reconstruct State Manager data from transaction history" — read the Token
  Manager's history and overwrite the positions with its totals; *rollback* (any time
  after the switch): point the frontends back at the old coordinator.
* ``cutoff`` — the obvious repair taken literally: record a cut-off at the Token
  Manager at the switch, backfill (adding) every entry before it, and let the new
  coordinator report everything after it. Rollback as in the seed.
* ``corrected`` — this project's plan: switch; *retire* the old coordinator at the Lock
  and Token Managers (it finishes what it started, new requests are refused with the
  usual failure reply) and wait for both acknowledgements; *inspect* the old
  coordinator (a dryrun of its open requests) until it has none — from then on it can
  never change the supply again, which is the cut-off; *backfill*: add, per user, the
  entries the **old** coordinator made (every one of them is before the cut-off); the
  new coordinator reports everything it does, before and after the cut-off. *Rollback*
  (any time after the switch, with no acknowledgement outstanding): flag the State
  Manager's positions as stale, reinstate the old coordinator if it was retired, and
  only once both managers have acknowledged, point the frontends back at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from checker.model.spec import Ctx, Handler, Initiative, ProcessDecl
from checker.model.values import FrozenMap, Message
from spec.tim3.migration_processes import LOCK, NEW, OLD, STATE, TOKEN
from spec.tim3.migration_states import OperatorState

PLANS = ("seed", "cutoff", "corrected")
Row = tuple[str, str, int, str]


def _frontends(ctx: Ctx, coordinator: str, generation: int) -> None:
    for user in ctx.pids("user"):
        ctx.send(user, "SetFrontend", Coordinator=coordinator, Generation=generation)


def totals(rows: Iterable[Row]) -> FrozenMap[str, int]:
    """Σ of the changes per user."""
    out: dict[str, int] = {}
    for _req, user, delta, _origin in rows:
        out[user] = out.get(user, 0) + delta
    return FrozenMap(out)


def history_rows(msg: Message, before_cutoff: bool = False) -> tuple[Row, ...]:
    """The entries of a ``History`` answer: the prior ones, then the log (only the part
    before the recorded cut-off when ``before_cutoff``)."""
    log: tuple[Row, ...] = msg.tag("Log")
    if before_cutoff:
        log = log[: msg.tag("Cutoff")]
    return tuple(msg.tag("Prior").values()) + log


def _backfill(ctx: Ctx, rows: tuple[Row, ...], mode: str) -> None:
    """Message payloads are maps, not tuples sorted by user id: renaming users (symmetry
    reduction) must map a message the operator sends to one it would send."""
    ctx.send(STATE, "Backfill", Mode=mode, Positions=totals(rows), Entries=FrozenMap({r[0]: r[2] for r in rows}))


# ---------------------------------------------------------------- seed


def switch(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Point every user's frontend at the new coordinator (with ``auth=single``, first
    configure every manager to accept it: the only way the new one can work there)."""
    if s.switched:
        return None
    if ctx.params.get("auth", "set") == "single":
        for manager in (LOCK, TOKEN, STATE):
            ctx.send(manager, "Configure", Coordinator=NEW)
    _frontends(ctx, NEW, 1)
    return replace(s, switched=True)


def rollback_seed(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """The seed's rollback: point the frontends back at the old coordinator."""
    if not s.switched or s.rolled_back:
        return None
    _frontends(ctx, OLD, 2)
    return replace(s, rolled_back=True, switched_back=True)


def ask_history(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Backfill, first half: read the Token Manager's history (any time after the switch)."""
    if not s.switched or s.backfill != "no":
        return None
    ctx.send(TOKEN, "GetHistory")
    return replace(s, backfill="asked")


def history_seed(s: OperatorState, msg: Message, ctx: Ctx) -> OperatorState:
    """Backfill, second half: overwrite the positions with the history's totals."""
    if s.backfill != "asked":
        ctx.error("no history was asked for")
    _backfill(ctx, history_rows(msg), "overwrite")
    return replace(s, backfill="sent")


SEED = ProcessDecl(
    kind="operator",
    label="Operator (seed plan)",
    state_type=OperatorState,
    handlers=(Handler("History", "History", history_seed, sender=TOKEN),),
    initiatives=(Initiative("switch", switch), Initiative("backfill", ask_history), Initiative("rollback", rollback_seed)),
)


# ---------------------------------------------------------------- cutoff (literal)


def switch_with_cutoff(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Switch the frontends and record a cut-off at the Token Manager."""
    if s.switched:
        return None
    _frontends(ctx, NEW, 1)
    ctx.send(TOKEN, "Record-Cutoff")
    return replace(s, switched=True, waiting=1)


def ask_history_after_cutoff(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    if s.waiting:
        return None
    return ask_history(s, ctx)


def history_cutoff(s: OperatorState, msg: Message, ctx: Ctx) -> OperatorState:
    """Add every entry before the recorded cut-off."""
    if s.backfill != "asked":
        ctx.error("no history was asked for")
    _backfill(ctx, history_rows(msg, before_cutoff=True), "add")
    return replace(s, backfill="sent")


def ack(s: OperatorState, msg: Message, ctx: Ctx) -> OperatorState:
    """A manager acknowledged an authorisation change or the cut-off."""
    if s.waiting <= 0:
        ctx.error("no acknowledgement expected")
    return replace(s, waiting=s.waiting - 1)


CUTOFF = ProcessDecl(
    kind="operator",
    label="Operator (cut-off plan)",
    state_type=OperatorState,
    handlers=(Handler("History", "History", history_cutoff, sender=TOKEN), Handler("Ack", "Ack", ack)),
    initiatives=(
        Initiative("switch", switch_with_cutoff),
        Initiative("backfill", ask_history_after_cutoff),
        Initiative("rollback", rollback_seed),
    ),
)


# ---------------------------------------------------------------- corrected


def retire(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """After the switch: the old coordinator may finish its requests, not start new ones."""
    if not s.switched or s.rolled_back or s.retired or s.waiting:
        return None
    for manager in (LOCK, TOKEN):
        ctx.send(manager, "Retire-Coordinator", Coordinator=OLD)
    return replace(s, retired=True, waiting=2)


def inspect_old(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Once retired everywhere: does the old coordinator still have open requests?"""
    if not s.retired or s.waiting or s.drained or s.inspecting or s.rolled_back:
        return None
    ctx.send(OLD, "Inspect")
    return replace(s, inspecting=True)


def inspected(s: OperatorState, msg: Message, ctx: Ctx) -> OperatorState:
    """None open: the old coordinator is drained (the cut-off); else inspect again later."""
    if not s.inspecting:
        ctx.error("no inspection asked for")
    return replace(s, inspecting=False, drained=msg.tag("Pending") == 0)


def ask_history_when_drained(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    if not s.drained or s.rolled_back:
        return None
    return ask_history(s, ctx)


def history_corrected(s: OperatorState, msg: Message, ctx: Ctx) -> OperatorState:
    """Add, per user, every entry the old coordinator made (the new one reports its own)."""
    if s.backfill != "asked":
        ctx.error("no history was asked for")
    _backfill(ctx, tuple(r for r in history_rows(msg) if r[3] == OLD), "add")
    return replace(s, backfill="sent")


def rollback_corrected(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Flag the positions stale; reinstate the old coordinator if retired."""
    if not s.switched or s.rolled_back or s.waiting:
        return None
    ctx.send(STATE, "Mark-Stale")
    if s.retired:
        for manager in (LOCK, TOKEN):
            ctx.send(manager, "Reinstate-Coordinator", Coordinator=OLD)
        return replace(s, rolled_back=True, waiting=2)
    return replace(s, rolled_back=True)


def switch_back(s: OperatorState, ctx: Ctx) -> OperatorState | None:
    """Once the old coordinator is accepted again everywhere: the frontends back to it."""
    if not s.rolled_back or s.waiting or s.switched_back:
        return None
    _frontends(ctx, OLD, 2)
    return replace(s, switched_back=True)


CORRECTED = ProcessDecl(
    kind="operator",
    label="Operator (corrected plan)",
    state_type=OperatorState,
    handlers=(
        Handler("History", "History", history_corrected, sender=TOKEN),
        Handler("Ack", "Ack", ack),
        Handler("Inspect-Response", "Inspect-Response", inspected, sender=OLD),
    ),
    initiatives=(
        Initiative("switch", switch),
        Initiative("retire", retire),
        Initiative("inspect", inspect_old),
        Initiative("backfill", ask_history_when_drained),
        Initiative("rollback", rollback_corrected),
        Initiative("switch-back", switch_back),
    ),
)

OPERATORS: dict[str, ProcessDecl] = {"seed": SEED, "cutoff": CUTOFF, "corrected": CORRECTED}
