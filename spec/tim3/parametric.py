"""TIM3 as a per-request (parametric) system, for proofs for any number of users and
operations (``checker.engines.symbolic.parametric.prove_parametric``).

The view. A request ``r`` (AO's message id ``user#n``) has a record:

* ``stage``: ``unsent`` (its user has not sent it), ``new`` (its ``MintTIM3``/``BurnTIM3``
  is on its way), the coordinator's pending stage (``locking minting rollback burning
  unlocking``) while it is open there, ``closed`` once the coordinator has answered;
* ``chan``: the one message about ``r`` in flight (``Action`` or ``Action:Status``), or
  ``none``; ``op``, ``amount`` (picked by the user, any amount ≥ 1);
* ``sent``: the coordinator's ``update_sent`` while it is open (``False`` otherwise);
* ``status``/``responses``: what its user has recorded of the answers;
* ``applied``: the Token Manager's supply change for ``r``.

Besides: ``supply``, ``positions`` (Σ positions at the State Manager), ``locked_total``
(Σ locked collateral); per user ``free``, ``locked``, ``balance``; two multisets over
``(user, delta)``: ``updates`` (``UpdatePosition`` in flight) and ``obligations`` (the
open obligations of ``update-follows-success``); parameters ``collateral`` and
``max_supply``. ``quiescent`` = nothing in flight: ``chan = none`` for every request and
``updates`` empty.

Each handler of TIM3 is one or more rules below (one per outcome); ``view_of`` maps a
concrete world to its view, and ``checker.engines.parametric_check.check_view`` checks that
every concrete step is one rule (and every rule enabled in a reachable view happens).
The rules of the coordinator differ per version; the managers and users are shared.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from checker.model.parametric_spec import (
    AMOUNT, KEYVAL, Add, AllKeys, AllReq, And, Ctl, Discharge, Expr, Fault, In, KeyRule, KeySum, Lin, Not, Or,
    ParametricSystem, ParametricView, PProperty, PState, Rec, ReqCount, ReqSum, Rule, ToField, ToGlobal, ToKey,
    ToUser, ViewError, eq, fld, ge, glob, implies, kmap, le, lt, ne, param, total, umap,
)
from checker.model.spec import Params, View
from spec.tim3.users import request_id

PENDING = ("locking", "minting", "rollback", "burning", "unlocking")
STAGES: tuple[Ctl, ...] = ("unsent", "new", *PENDING, "closed")
CHANS: tuple[Ctl, ...] = (
    "none", "MintTIM3", "BurnTIM3", "LockCollateral", "LockCollateral-Success", "LockCollateral-Failed", "Mint",
    "Mint-Response:success", "Mint-Response:error", "Burn", "Burn-Response:success", "Burn-Response:error",
    "UnlockCollateral", "UnlockCollateral-Success", "UnlockCollateral-Failed", "MintTIM3-Response:success",
    "MintTIM3-Response:error", "BurnTIM3-Response:success", "BurnTIM3-Response:error")
CONTROL: tuple[tuple[str, tuple[Ctl, ...]], ...] = (
    ("stage", STAGES), ("chan", CHANS), ("op", ("none", "mint", "burn")), ("sent", (False, True)),
    ("status", ("none", "open", "success", "error")))
INITIAL: tuple[tuple[str, Ctl], ...] = (("stage", "unsent"), ("chan", "none"), ("op", "none"), ("sent", False),
                                         ("status", "none"))
INT_FIELDS = ("applied", "responses")
# who sends each Action about a request to whom ("user": the request's own user)
ENDPOINTS = {
    "MintTIM3": ("user", "coordinator"), "BurnTIM3": ("user", "coordinator"),
    "LockCollateral": ("coordinator", "lock"), "UnlockCollateral": ("coordinator", "lock"),
    "LockCollateral-Success": ("lock", "coordinator"), "LockCollateral-Failed": ("lock", "coordinator"),
    "UnlockCollateral-Success": ("lock", "coordinator"), "UnlockCollateral-Failed": ("lock", "coordinator"),
    "Mint": ("coordinator", "token"), "Burn": ("coordinator", "token"),
    "Mint-Response": ("token", "coordinator"), "Burn-Response": ("token", "coordinator"),
    "MintTIM3-Response": ("coordinator", "user"), "BurnTIM3-Response": ("coordinator", "user"),
}
RESPONSE = "update-follows-success"
SPEC_FAULTS = frozenset({"lock-fail", "mint-fail", "unlock-fail"})


def _rule(name: str, actor: str, pre: dict[str, tuple[Ctl, ...]], post: dict[str, Ctl],
          guard: tuple[Expr, ...] = (), effects: tuple[Any, ...] = (), fresh: bool = False) -> Rule:
    return Rule(name, actor, tuple(pre.items()), tuple(post.items()), guard, effects, fresh)


def _on(chan: str, *stages: str, op: str | None = None) -> dict[str, tuple[Ctl, ...]]:
    pre: dict[str, tuple[Ctl, ...]] = {"chan": (chan,)}
    if stages:
        pre["stage"] = stages
    if op is not None:
        pre["op"] = (op,)
    return pre


def _close(answer: str) -> dict[str, Ctl]:
    return {"stage": "closed", "chan": answer, "sent": False}


def _update(sign: int) -> Add:
    """The coordinator sends UpdatePosition(user, sign · amount)."""
    return Add(ToKey("updates", sign * AMOUNT), Lin((), 1))


def _add(target: Any, value: Lin) -> Add:
    return Add(target, value)


ONE = Lin((), 1)

USER_RULES: tuple[Rule, ...] = (
    _rule("user: send MintTIM3", "user", {"stage": ("unsent",)},
          {"stage": "new", "chan": "MintTIM3", "op": "mint", "status": "open"}, fresh=True),
    _rule("user: send BurnTIM3", "user", {"stage": ("unsent",)},
          {"stage": "new", "chan": "BurnTIM3", "op": "burn", "status": "open"}, fresh=True),
    *(_rule(f"user: {a}:{s}", "user", _on(f"{a}:{s}"), {"chan": "none", "status": s},
            effects=(Add(ToField("responses"), ONE),))
      for a in ("MintTIM3-Response", "BurnTIM3-Response") for s in ("success", "error")),
)

_FREE_OK = ge(umap("free"), AMOUNT)
_LOCKED_OK = ge(umap("locked"), AMOUNT)
_CAP_OK = le(glob("supply") + AMOUNT, param("max_supply"))
_BALANCE_OK = ge(umap("balance"), AMOUNT)

MANAGER_RULES: tuple[Rule, ...] = (
    _rule("lock: LockCollateral locked", "lock", _on("LockCollateral"), {"chan": "LockCollateral-Success"},
          (_FREE_OK,), (_add(ToUser("free"), -AMOUNT), _add(ToUser("locked"), AMOUNT),
                        _add(ToGlobal("locked_total"), AMOUNT))),
    _rule("lock: LockCollateral refused (free < amount)", "lock", _on("LockCollateral"),
          {"chan": "LockCollateral-Failed"}, (lt(umap("free"), AMOUNT),)),
    _rule("lock: LockCollateral refused (lock-fail)", "lock", _on("LockCollateral"),
          {"chan": "LockCollateral-Failed"}, (_FREE_OK, Fault("lock-fail"))),
    _rule("lock: UnlockCollateral unlocked", "lock", _on("UnlockCollateral"), {"chan": "UnlockCollateral-Success"},
          (_LOCKED_OK,), (_add(ToUser("free"), AMOUNT), _add(ToUser("locked"), -AMOUNT),
                          _add(ToGlobal("locked_total"), -AMOUNT))),
    _rule("lock: UnlockCollateral refused (locked < amount)", "lock", _on("UnlockCollateral"),
          {"chan": "UnlockCollateral-Failed"}, (lt(umap("locked"), AMOUNT),)),
    _rule("lock: UnlockCollateral refused (unlock-fail)", "lock", _on("UnlockCollateral"),
          {"chan": "UnlockCollateral-Failed"}, (_LOCKED_OK, Fault("unlock-fail"))),
    _rule("token: Mint minted", "token", _on("Mint"), {"chan": "Mint-Response:success"}, (_CAP_OK,),
          (_add(ToUser("balance"), AMOUNT), _add(ToGlobal("supply"), AMOUNT), _add(ToField("applied"), AMOUNT),
           _add(ToKey("obligations", AMOUNT), ONE))),
    _rule("token: Mint refused (above max supply)", "token", _on("Mint"), {"chan": "Mint-Response:error"},
          (Not(_CAP_OK),)),
    _rule("token: Mint refused (mint-fail)", "token", _on("Mint"), {"chan": "Mint-Response:error"},
          (_CAP_OK, Fault("mint-fail"))),
    _rule("token: Burn burned", "token", _on("Burn"), {"chan": "Burn-Response:success"}, (_BALANCE_OK,),
          (_add(ToUser("balance"), -AMOUNT), _add(ToGlobal("supply"), -AMOUNT), _add(ToField("applied"), -AMOUNT),
           _add(ToKey("obligations", -AMOUNT), ONE))),
    _rule("token: Burn refused (balance < amount)", "token", _on("Burn"), {"chan": "Burn-Response:error"},
          (lt(umap("balance"), AMOUNT),)),
)

STATE_RULES: tuple[KeyRule, ...] = (
    KeyRule("state: UpdatePosition applied", "state", "updates",
            (Add(ToKey("updates", KEYVAL), Lin((), -1)), Add(ToGlobal("positions"), KEYVAL),
             Discharge("obligations", KEYVAL))),
)

_C = "coordinator"
COMMON_COORDINATOR: tuple[Rule, ...] = (
    _rule("coordinator: MintTIM3", _C, _on("MintTIM3", "new"), {"stage": "locking", "chan": "LockCollateral"}),
    _rule("coordinator: BurnTIM3", _C, _on("BurnTIM3", "new"), {"stage": "burning", "chan": "Burn"}),
    _rule("coordinator: LockCollateral-Success", _C, _on("LockCollateral-Success", "locking"),
          {"stage": "minting", "chan": "Mint"}),
    _rule("coordinator: LockCollateral-Failed", _C, _on("LockCollateral-Failed", "locking"),
          _close("MintTIM3-Response:error")),
    _rule("coordinator: Burn-Response refused", _C, _on("Burn-Response:error", "burning"),
          _close("BurnTIM3-Response:error")),
)

V1_COORDINATOR: tuple[Rule, ...] = COMMON_COORDINATOR + (
    _rule("coordinator: Mint-Response minted (answers; no UpdatePosition)", _C,
          _on("Mint-Response:success", "minting"), _close("MintTIM3-Response:success")),
    _rule("coordinator: Mint-Response refused (answers error; lock kept)", _C, _on("Mint-Response:error", "minting"),
          _close("MintTIM3-Response:error")),
    _rule("coordinator: Burn-Response burned (unlock)", _C, _on("Burn-Response:success", "burning"),
          {"stage": "unlocking", "chan": "UnlockCollateral"}),
    _rule("coordinator: UnlockCollateral-Success (answers)", _C,
          _on("UnlockCollateral-Success", "unlocking", op="burn"), _close("BurnTIM3-Response:success")),
    _rule("coordinator: UnlockCollateral-Failed (answers error)", _C,
          _on("UnlockCollateral-Failed", "unlocking", op="burn"), _close("BurnTIM3-Response:error")),
)

V2_COORDINATOR: tuple[Rule, ...] = COMMON_COORDINATOR + (
    _rule("coordinator: Mint-Response minted (UpdatePosition +amount, answers)", _C,
          _on("Mint-Response:success", "minting"), _close("MintTIM3-Response:success"), effects=(_update(1),)),
    V1_COORDINATOR[6],
    V1_COORDINATOR[7],
    _rule("coordinator: UnlockCollateral-Success (UpdatePosition -amount, answers)", _C,
          _on("UnlockCollateral-Success", "unlocking", op="burn"), _close("BurnTIM3-Response:success"),
          effects=(_update(-1),)),
    V1_COORDINATOR[9],
)

V3_COORDINATOR: tuple[Rule, ...] = COMMON_COORDINATOR + (
    V2_COORDINATOR[5],
    _rule("coordinator: Mint-Response refused (roll the lock back)", _C, _on("Mint-Response:error", "minting"),
          {"stage": "rollback", "chan": "UnlockCollateral"}),
    _rule("coordinator: Burn-Response burned (UpdatePosition -amount, unlock)", _C,
          _on("Burn-Response:success", "burning"), {"stage": "unlocking", "chan": "UnlockCollateral", "sent": True},
          effects=(_update(-1),)),
    _rule("coordinator: UnlockCollateral-Success (burn: answers)", _C,
          _on("UnlockCollateral-Success", "unlocking", op="burn"), _close("BurnTIM3-Response:success")),
    _rule("coordinator: UnlockCollateral-Success (rollback: answers error)", _C,
          _on("UnlockCollateral-Success", "rollback", op="mint"), _close("MintTIM3-Response:error")),
    _rule("coordinator: UnlockCollateral-Failed (retry the unlock)", _C,
          _on("UnlockCollateral-Failed", "unlocking", "rollback"), {"chan": "UnlockCollateral"}),
)

COORDINATOR_RULES = {"v1": V1_COORDINATOR, "v2": V2_COORDINATOR, "v3": V3_COORDINATOR}

_OPEN = In("stage", PENDING)

SUMS = (
    ReqSum("unsent_changes", ((And((_OPEN, In("sent", (False,)))), fld("applied")),),
           "Σ supply changes of open requests whose UpdatePosition is not sent"),
    ReqSum("collateral_excess", (
        (And((In("stage", ("locking",)), In("chan", ("LockCollateral-Success",)))), AMOUNT),
        (In("stage", ("minting",)), AMOUNT),
        (And((In("stage", ("rollback",)), Not(In("chan", ("UnlockCollateral-Success",))))), AMOUNT),
        (And((In("stage", ("unlocking",)), In("chan", ("UnlockCollateral-Success",)))), -AMOUNT),
        (_OPEN, -fld("applied"))),
        "Σ over open requests of (collateral it has moved − supply change it has applied)"),
    ReqCount("owed", And((_OPEN, In("sent", (False,)), ne(fld("applied"), 0))), fld("applied"),
             "open requests whose supply change happened and whose UpdatePosition is not sent, by (user, change)"),
    KeySum("updates_in_flight", "updates", "Σ deltas of UpdatePosition in flight"),
)

INVARIANTS: tuple[tuple[str, str, Expr], ...] = (
    ("supply-accounted", "supply = Σ positions + Σ UpdatePosition in flight + Σ unsent changes of open requests",
     eq(glob("supply"), glob("positions") + total("updates_in_flight") + total("unsent_changes"))),
    ("collateral-accounted", "Σ locked − supply = Σ over open requests of (collateral moved − supply applied)",
     eq(glob("locked_total") - glob("supply"), total("collateral_excess"))),
    ("obligations-are-owed-updates", "the open obligations are, key by key, the UpdatePositions in flight plus the "
     "changed open requests whose update is not sent",
     AllKeys(eq(kmap("obligations"), kmap("updates") + kmap("owed")))),
)

QUIESCENT: Expr = And((AllReq(In("chan", ("none",))), AllKeys(eq(kmap("updates"), 0))))


def _at_quiescence(e: Expr) -> Expr:
    return implies(QUIESCENT, e)


PROPERTIES = (
    PProperty("update-follows-success", _at_quiescence(AllKeys(eq(kmap("obligations"), 0))),
              "at quiescence no obligation (a supply change without its applied UpdatePosition) is open"),
    PProperty("positions-match-supply",
              _at_quiescence(implies(AllReq(Not(_OPEN)), eq(glob("positions"), glob("supply")))),
              "quiescent and nothing pending ⇒ Σ positions = supply"),
    PProperty("positions-match-supply-inflight",
              eq(glob("supply"), glob("positions") + total("updates_in_flight") + total("unsent_changes")),
              "supply = Σ positions + Σ UpdatePosition in flight + Σ unsent changes of open requests"),
    PProperty("positions-match-supply-strict", eq(glob("positions"), glob("supply")), "Σ positions = supply"),
    PProperty("collateral-backs-supply",
              And((le(glob("supply"), glob("locked_total")), _at_quiescence(eq(glob("supply"), glob("locked_total"))))),
              "supply ≤ Σ locked always; equal at quiescence"),
    PProperty("every-request-answered",
              _at_quiescence(AllReq(And((Not(_OPEN), Or((In("stage", ("unsent",)), eq(fld("responses"), 1))))))),
              "at quiescence no request is pending and every sent one got exactly one answer"),
)


def parametric_system(params: Params, faults: frozenset[str]) -> ParametricSystem | str:
    """The per-request system of coordinator ``params['version']`` with ``faults``, or
    why there is none (the engine faults loss, handler-error and adversary)."""
    version = params["version"]
    if version not in COORDINATOR_RULES:
        return f"no parametric view of coordinator {version!r}"
    if params.get("impl", "python") != "python":
        return "the parametric view is of the Python model (--impl python)"
    other = sorted(faults - SPEC_FAULTS)
    if other:
        return (f"the parametric view does not model the fault(s) {', '.join(other)} "
                f"(only {', '.join(sorted(SPEC_FAULTS))})")
    return ParametricSystem(
        name=f"TIM3 coordinator {version}, per request", control=CONTROL, initial=INITIAL, int_fields=INT_FIELDS,
        globals=("supply", "positions", "locked_total"),
        user_maps=(("free", "collateral"), ("locked", 0), ("balance", 0)), key_maps=("updates", "obligations"),
        params=(("collateral", 0), ("max_supply", 0)),
        rules=USER_RULES + COORDINATOR_RULES[version] + MANAGER_RULES, key_rules=STATE_RULES, sums=SUMS,
        invariants=INVARIANTS, quiescent=QUIESCENT, properties=PROPERTIES, faults=frozenset(faults))


def requests_of(params: Params) -> dict[str, str]:
    """Every request id of the scenario → its user."""
    users = [f"user{i + 1}" for i in range(params["users"])]
    return {request_id(u, n): u for u in users for n in range(params["ops"])}


def view_of(w: View, params: Params) -> PState:
    """The parametric view of the concrete world ``w`` (raises ``ViewError`` when ``w``
    holds something the view has no place for: two messages about one request, a
    message that is about no request, an amount that is not the request's)."""
    reqs = requests_of(params)
    users = sorted(set(reqs.values()))
    pending = w.coordinator.pending
    about: dict[str, list[Any]] = {r: [] for r in reqs}
    updates: Counter[tuple[str, int]] = Counter()
    for m in w.in_flight:
        if m.action == "UpdatePosition" and m.src == "coordinator" and m.dst == "state":
            updates[(m.tag("User"), m.tag("Amount"))] += 1
            continue
        r = m.get("Request")
        if r not in about or m.action not in ENDPOINTS:
            raise ViewError(f"a message about no request of the scenario is in flight: {m.describe()}")
        about[r].append(m)
    records: dict[str, Rec] = {}
    for r, u in reqs.items():
        ureq = w[u].requests.get(r)
        p = pending.get(r)
        msgs = about[r]
        if len(msgs) > 1:
            raise ViewError(f"{len(msgs)} messages about {r} in flight: " + "; ".join(m.describe() for m in msgs))
        chan = "none"
        amount = ureq.amount if ureq is not None else 0
        if msgs:
            m = msgs[0]
            src, dst = ENDPOINTS[m.action]
            if (m.src, m.dst) != (u if src == "user" else src, u if dst == "user" else dst):
                raise ViewError(f"unexpected endpoints of {m.describe()}")
            if m.get("Amount", amount) != amount or m.get("User", u) != u:
                raise ViewError(f"{m.describe()} does not carry {r}'s user {u} and amount {amount}")
            chan = m.action + (f":{m.tag('Status')}" if m.get("Status") is not None else "")
        if p is not None:
            if ureq is None or (p.user, p.op, p.amount) != (u, ureq.op, ureq.amount):
                raise ViewError(f"pending entry of {r} {p} does not match what {u} sent")
            stage = p.stage
        elif ureq is None:
            stage = "unsent"
        else:
            stage = "new" if chan in ("MintTIM3", "BurnTIM3") else "closed"
        ctl: tuple[Ctl, ...] = (stage, chan, ureq.op if ureq is not None else "none",
                                bool(p.update_sent) if p is not None else False,
                                ureq.status if ureq is not None else "none")
        records[r] = Rec(u, amount, ctl, (w.token.applied.get(r, 0), ureq.responses if ureq is not None else 0))
    obligations = w.obligations(RESPONSE)
    if obligations is None:
        raise ViewError(f"the world does not track the obligations of {RESPONSE} (select every property)")
    lock, token = w.lock, w.token
    return PState.make(
        records, users,
        {"supply": token.supply, "positions": sum(w.state.positions.values()),
         "locked_total": sum(lock.locked.values())},
        {"free": {u: lock.free.get(u, 0) for u in users}, "locked": {u: lock.locked.get(u, 0) for u in users},
         "balance": {u: token.balances.get(u, 0) for u in users}},
        {"updates": dict(updates), "obligations": dict(Counter(tuple(o) for o in obligations))},
        {"collateral": params["collateral"], "max_supply": params["max_supply"]})


# small scenarios on which prove_parametric checks the view against the concrete
# semantics (with the scenario's faults): default data, and tight data under which the
# Lock Manager refuses for want of free collateral, the Token Manager refuses a mint
# above the cap (also one user's mint against another's) and a burn above the balance
SCENARIOS: tuple[dict[str, Any], ...] = (
    {"users": 1, "ops": 1}, {"users": 1, "ops": 2}, {"users": 2, "ops": 1},
    {"users": 1, "ops": 2, "amounts": (1, 2), "collateral": 2, "max_supply": 1},
    {"users": 2, "ops": 1, "amounts": (1, 2), "collateral": 1, "max_supply": 1},
)

PARAMETRIC = ParametricView(system=parametric_system, view=view_of, scenarios=SCENARIOS)
