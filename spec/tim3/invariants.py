"""Strengthening invariants of TIM3 (v3), for ``tim3check prove --method kind``.

Each one is an ``always`` property that the prover proves together with the property
it strengthens (the conjunction must be inductive); none is ever assumed. They are the
readable part of a k-induction certificate: why supply, positions and collateral stay
in step while requests are open.

Vocabulary. An *open request* is an entry ``r ↦ p`` of the coordinator's ``pending``.
A message *about* ``r`` is one in flight between the system's own processes (never the
adversary's) whose ``Request`` tag is ``r``. ``applied(r)`` is the Token Manager's
``applied.get(r, 0)``: the supply change request ``r`` has caused.

They hold for the corrected coordinator (v3) with no fault and with the spec faults
(lock-fail, mint-fail, unlock-fail). They do not hold with lost messages (an open
request then has no message about it), nor for v1/v2.
"""

from __future__ import annotations

from typing import Any

from checker.model.logic import conj, same_multiset
from checker.model.spec import Property

_SYSTEM = ("coordinator", "lock", "token")


def _about(w: Any, req: str) -> list[Any]:
    """Messages in flight about request ``req`` between the system's own processes."""
    return [m for m in w.in_flight if m.src in _SYSTEM and m.get("Request") == req]


def _has(msgs: list[Any], action: str, status: str | None = None) -> bool:
    return any(m.action == action and (status is None or m.tag("Status") == status) for m in msgs)


def _applied(w: Any, req: str) -> Any:
    return w.token.applied.get(req, 0)


def amounts_positive(w: Any) -> Any:
    """Every open request and every MintTIM3/BurnTIM3 in flight has an amount ≥ 1."""
    return conj([p.amount >= 1 for p in w.coordinator.pending.values()]
                 + [m.tag("Amount") >= 1 for m in w.in_flight if m.action in ("MintTIM3", "BurnTIM3")])


def messages_carry_request_amount(w: Any) -> Any:
    """Every message about an open request that has an Amount carries the request's amount."""
    return conj(m.tag("Amount") == p.amount
                 for r, p in w.coordinator.pending.items() for m in _about(w, r) if m.get("Amount") is not None)


def supply_is_sum_of_applied(w: Any) -> Any:
    """The total supply is the sum of the supply changes applied per request."""
    return w.token.supply == sum(w.token.applied.values())


def change_sign(w: Any, req: str, p: Any) -> int:
    """The sign of the supply change an open request has caused, read off its stage
    and messages: +1 once a mint's successful Mint-Response is on its way; −1 once a
    burn's successful Burn-Response is on its way, and for good once it is unlocking;
    0 otherwise."""
    msgs = _about(w, req)
    if p.stage == "minting" and _has(msgs, "Mint-Response", "success"):
        return 1
    if p.stage == "unlocking" or (p.stage == "burning" and _has(msgs, "Burn-Response", "success")):
        return -1
    return 0


def expected_applied(w: Any, req: str, p: Any) -> Any:
    """The supply change an open request has caused: its amount times ``change_sign``."""
    sign = change_sign(w, req, p)
    return 0 if sign == 0 else (p.amount if sign > 0 else -p.amount)


def applied_matches_stage(w: Any) -> Any:
    """Each open request has caused exactly the supply change its stage says."""
    return conj(_applied(w, r) == expected_applied(w, r, p) for r, p in w.coordinator.pending.items())


def collateral_moved(w: Any, req: str, p: Any) -> Any:
    """The locked collateral an open request has moved so far: a mint has locked its
    amount once LockCollateral-Success is on its way, and until a rollback's
    UnlockCollateral-Success is on its way; a burn has unlocked its amount once its
    UnlockCollateral-Success is on its way."""
    msgs = _about(w, req)
    unlocked = _has(msgs, "UnlockCollateral-Success")
    if p.stage == "locking":
        return p.amount if _has(msgs, "LockCollateral-Success") else 0
    if p.stage == "minting" or (p.stage == "rollback" and not unlocked):
        return p.amount
    if p.stage == "unlocking" and unlocked:
        return -p.amount
    return 0


def collateral_accounting(w: Any) -> Any:
    """Locked collateral − supply = Σ over open requests of (collateral it has moved −
    supply change it has applied); a closed request has moved as much as it applied."""
    excess = sum(w.lock.locked.values()) - w.token.supply
    return excess == sum(collateral_moved(w, r, p) - _applied(w, r) for r, p in w.coordinator.pending.items())


RESPONSE = "update-follows-success"


def updates_owed(w: Any) -> list[tuple[Any, Any]]:
    """The position updates the system owes, as (user, signed amount): every
    UpdatePosition in flight from the coordinator to the State Manager, and every open
    request whose supply change has happened but whose UpdatePosition is not yet sent."""
    owed = [(m.tag("User"), m.tag("Amount")) for m in w.in_flight
            if m.action == "UpdatePosition" and m.src == "coordinator" and m.dst == "state"]
    for r, p in w.coordinator.pending.items():
        sign = change_sign(w, r, p)
        if sign != 0 and not p.update_sent:
            owed.append((p.user, p.amount if sign > 0 else -p.amount))
    return owed


def obligations_are_owed_updates(w: Any) -> Any:
    """The open obligations of update-follows-success (supply changes at the Token
    Manager not yet followed by their UpdatePosition) are, one for one, the position
    updates the system owes: an UpdatePosition in flight, or a changed request whose
    update is not yet sent."""
    open_ = w.obligations(RESPONSE)
    return True if open_ is None else same_multiset(list(open_), updates_owed(w))


def _inv(name: str, check: Any, obligations_of: str | None = None) -> Property:
    doc = " ".join((check.__doc__ or "").split())
    return Property(name, "always", doc, check=check, obligations_of=obligations_of)


INVARIANTS: tuple[Property, ...] = (
    _inv("inv-amounts-positive", amounts_positive),
    _inv("inv-messages-carry-request-amount", messages_carry_request_amount),
    _inv("inv-supply-is-sum-of-applied", supply_is_sum_of_applied),
    _inv("inv-applied-matches-stage", applied_matches_stage),
    _inv("inv-collateral-accounting", collateral_accounting),
    _inv("inv-obligations-are-owed-updates", obligations_are_owed_updates, obligations_of=RESPONSE),
)
