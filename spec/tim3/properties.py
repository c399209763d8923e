"""The TIM3 properties: the seven of DESIGN.md, and four that close gaps the mutants of
issue 9 showed (``positions-match-per-user``, ``supply-within-cap``,
``no-non-progress-cycle``, and ``positions-match-supply``'s premise, counted in its verdict)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.model.logic import conj
from checker.model.spec import Params, Property, StepInfo


def _positions(w: Any) -> int:
    return sum(w.state.positions.values())


def _nothing_pending(w: Any) -> bool:
    return not w.coordinator.pending


def _supply_change(info: StepInfo) -> Sequence[Any]:
    """A successful Mint/Burn at the Token Manager opens (user, signed change)."""
    if info.pid == "token" and info.kind == "deliver" and info.msg is not None and info.after.supply != info.before.supply:
        return ((info.msg.tag("User"), info.after.supply - info.before.supply),)
    return ()


def _position_applied(info: StepInfo) -> Sequence[Any]:
    """An UpdatePosition applied at the State Manager closes (user, signed change)."""
    if info.pid == "state" and info.kind == "deliver" and info.handler == "UpdatePosition" and info.msg is not None:
        return ((info.msg.tag("User"), info.msg.tag("Amount")),)
    return ()


def _inflight_balance(w: Any) -> bool:
    in_flight = sum(m.tag("Amount") for m in w.in_flight_of("UpdatePosition") if m.src == "coordinator" and m.dst == "state")
    applied = w.token.applied
    unsent = sum(applied.get(r, 0) for r, p in w.coordinator.pending.items() if not p.update_sent)
    return w.token.supply == _positions(w) + in_flight + unsent  # type: ignore[no-any-return]


def _within_cap(w: Any) -> bool:
    return w.token.supply <= w.params["max_supply"]  # type: ignore[no-any-return]


def _user_accounts(w: Any) -> dict[str, tuple[Any, Any, Any, Any]]:
    """Per user id: (net supply change the Token Manager booked to it, its position at the
    State Manager, Σ UpdatePosition amounts in flight for it, Σ supply changes of its open
    requests whose UpdatePosition is not yet sent)."""
    balances, positions, applied = w.token.balances, w.state.positions, w.token.applied
    flight: dict[str, list[Any]] = {}
    for m in w.in_flight_of("UpdatePosition"):
        if m.src == "coordinator" and m.dst == "state":
            flight.setdefault(m.tag("User"), []).append(m.tag("Amount"))
    unsent: dict[str, list[Any]] = {}
    for r, p in w.coordinator.pending.items():
        if not p.update_sent:
            unsent.setdefault(p.user, []).append(applied.get(r, 0))
    users = sorted(set(balances) | set(positions) | set(flight) | set(unsent))
    return {u: (balances.get(u, 0), positions.get(u, 0), sum(flight.get(u, ())), sum(unsent.get(u, ())))
            for u in users}


def _per_user_balance(w: Any) -> Any:
    return conj(booked == pos + fly + owed for booked, pos, fly, owed in _user_accounts(w).values())


def _collateral(w: Any) -> bool:
    locked = sum(w.lock.locked.values())
    supply = w.token.supply
    if w.quiescent:
        return supply == locked  # type: ignore[no-any-return]
    return supply <= locked  # type: ignore[no-any-return]


def _all_answered(w: Any) -> bool:
    if not _nothing_pending(w):
        return False
    return all(r.responses == 1 for u in w.of_kind("user") for r in u.requests.values())


def _user_outcome(op: str | None, status: str) -> Any:
    def goal(w: Any) -> bool:
        return any(
            r.status == status and (op is None or r.op == op) for u in w.of_kind("user") for r in u.requests.values()
        )

    return goal


def _required_goals(params: Params) -> Sequence[str]:
    goals = ["mint succeeds", "a request is refused"]
    if params["ops"] >= 2:
        goals.append("burn succeeds")
    return goals


def _fmt_map(m: Any) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in m.items()) + "}"


def _explain_positions(w: Any) -> str:
    return (
        f"Σ positions = {_positions(w)} {_fmt_map(w.state.positions)}, total supply = {w.token.supply} "
        f"(balances {_fmt_map(w.token.balances)}); pending at the coordinator: {len(w.coordinator.pending)}"
    )


def _explain_inflight(w: Any) -> str:
    in_flight = sum(m.tag("Amount") for m in w.in_flight_of("UpdatePosition") if m.src == "coordinator" and m.dst == "state")
    applied = w.token.applied
    unsent = sum(applied.get(r, 0) for r, p in w.coordinator.pending.items() if not p.update_sent)
    return (
        f"supply {w.token.supply} ≠ Σ positions {_positions(w)} + UpdatePosition in flight {in_flight} "
        f"+ unsent changes of open requests {unsent} (= {_positions(w) + in_flight + unsent})"
    )


def _explain_cap(w: Any) -> str:
    return (f"total supply {w.token.supply} > max supply {w.params['max_supply']} "
            f"(balances {_fmt_map(w.token.balances)})")


def _explain_per_user(w: Any) -> str:
    bad = [f"{u}: booked {b} ≠ position {p} + UpdatePosition in flight {f} + unsent {o}"
           for u, (b, p, f, o) in _user_accounts(w).items() if b != p + f + o]
    return "; ".join(bad) or "every user's account balances"


def _explain_collateral(w: Any) -> str:
    locked = sum(w.lock.locked.values())
    rel = "must equal" if w.quiescent else "must be ≤"
    return f"total supply {w.token.supply} {rel} locked collateral {locked} (locked {_fmt_map(w.lock.locked)})"


def _explain_answered(w: Any) -> str:
    pending = ", ".join(f"{r} ({p.op} {p.amount}, {p.stage})" for r, p in w.coordinator.pending.items())
    odd = ", ".join(
        f"{r}: {q.responses} responses" for u in w.of_kind("user") for r, q in u.requests.items() if q.responses != 1
    )
    return f"still pending at the coordinator: {pending or 'none'}; requests not answered exactly once: {odd or 'none'}"


PROPERTIES: tuple[Property, ...] = (
    Property(
        "update-follows-success",
        "response",
        "every successful mint/burn at the Token Manager is followed by an UpdatePosition applied at the State Manager",
        trigger=_supply_change,
        discharge=_position_applied,
        explain=_explain_positions,
    ),
    Property(
        "positions-match-supply",
        "at-quiescence",
        "no message in flight and nothing pending ⇒ Σ positions = total supply",
        check=lambda w: not _nothing_pending(w) or _positions(w) == w.token.supply,
        premise=_nothing_pending,  # the verdict counts the quiescent states where it is vacuous
        explain=_explain_positions,
    ),
    Property(
        "positions-match-supply-inflight",
        "always",
        "supply = Σ positions + Σ UpdatePosition deltas in flight + Σ supply changes of open requests not yet sent",
        check=_inflight_balance,
        explain=_explain_inflight,
    ),
    Property(
        "positions-match-supply-strict",
        "always",
        "Σ positions = total supply in every state (expected to fail: readers see stale positions)",
        check=lambda w: _positions(w) == w.token.supply,
        expected_to_fail=True,
        explain=_explain_positions,
    ),
    Property(
        "positions-match-per-user",
        "always",
        "for each user: the supply change booked to it at the Token Manager = its position + its UpdatePosition "
        "deltas in flight + the supply changes of its open requests not yet sent",
        check=_per_user_balance,
        explain=_explain_per_user,
    ),
    Property(
        "supply-within-cap",
        "always",
        "total supply ≤ the Token Manager's max-supply cap in every state",
        check=_within_cap,
        explain=_explain_cap,
    ),
    Property(
        "collateral-backs-supply",
        "always",
        "total supply ≤ locked collateral always; equal at quiescence",
        check=_collateral,
        kind_label="always+quiescence",
        explain=_explain_collateral,
    ),
    Property(
        "every-request-answered",
        "at-quiescence",
        "every user request got exactly one final response and left no pending entry",
        check=_all_answered,
        explain=_explain_answered,
    ),
    Property(
        "mint-and-burn-reachable",
        "sometimes",
        "a successful mint, a successful burn (with 2+ ops) and a refused request are reachable",
        goals={
            "mint succeeds": _user_outcome("mint", "success"),
            "burn succeeds": _user_outcome("burn", "success"),
            "a request is refused": _user_outcome(None, "error"),
        },
        required=_required_goals,
    ),
    Property(
        "no-non-progress-cycle",
        "progress",
        "no reachable cycle of states avoids quiescence (a retry loop that never settles; SPIN's non-progress cycles)",
        check=lambda w: w.quiescent,
    ),
)
