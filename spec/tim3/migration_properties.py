"""Properties of the release (``spec.tim3.migration``): what the migration from the
deployed coordinator to the fixed one must keep true, in the kinds of DESIGN.md.

They read the processes ``old``, ``new``, ``lock``, ``token``, ``state``, ``operator``
and the users. Positions are compared with balances per user (which implies
Σ positions = supply): a double count for one user cannot hide a loss for another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.model.spec import Params, Property


def _fmt(m: Any) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in m.items()) + "}"


def _positions_equal_balances(w: Any) -> bool:
    pos, bal = w.state.positions, w.token.balances
    return all(pos.get(u, 0) == bal.get(u, 0) for u in set(pos) | set(bal))


def _release_done(w: Any) -> bool:
    op = w.operator
    return bool(op.switched and not op.rolled_back and w.state.backfilled)


def _release_positions(w: Any) -> bool:
    return not _release_done(w) or _positions_equal_balances(w)


def _explain_positions(w: Any) -> str:
    pos = w.state.positions
    return (
        f"positions {_fmt(pos)} (Σ {sum(pos.values())}) vs balances {_fmt(w.token.balances)} "
        f"(supply {w.token.supply}); stale flag {w.state.stale}; backfilled {w.state.backfilled}; "
        f"counted {_fmt(w.state.counted)}"
    )


def _counted_once(w: Any) -> bool:
    return all(n <= 1 for n in w.state.counted.values())


def _explain_counted(w: Any) -> str:
    twice = ", ".join(f"{r} ×{n}" for r, n in w.state.counted.items() if n > 1)
    return f"supply changes counted more than once in the positions: {twice or 'none'}; {_explain_positions(w)}"


def _requests(w: Any) -> list[tuple[str, Any]]:
    return [(r, q) for u in w.of_kind("user") for r, q in u.requests.items()]


def _all_answered(w: Any) -> bool:
    if w.old.pending or w.new.pending:
        return False
    return all(q.responses == 1 for _, q in _requests(w))


def _explain_answered(w: Any) -> str:
    pending = ", ".join(f"{c}: {r} ({p.op} {p.amount}, {p.stage})" for c in ("old", "new")
                        for r, p in w[c].pending.items())
    odd = ", ".join(f"{r} (to {q.target}): {q.responses} answers" for r, q in _requests(w) if q.responses != 1)
    return f"open at a coordinator: {pending or 'none'}; requests not answered exactly once: {odd or 'none'}"


def _refused_for_retirement(w: Any) -> set[str]:
    return set(w.lock.refused) | set(w.token.refused)


def _old_keeps_working(w: Any) -> bool:
    if not w.operator.rolled_back:
        return True
    refused = _refused_for_retirement(w)
    return all(q.responses == 1 and r not in refused for r, q in _requests(w) if q.after_rollback)


def _explain_old_working(w: Any) -> str:
    refused = _refused_for_retirement(w)
    bad = ", ".join(
        f"{r} ({q.op} to {q.target}: {q.status}{', refused: old coordinator retired' if r in refused else ''})"
        for r, q in _requests(w) if q.after_rollback and (q.responses != 1 or r in refused)
    )
    return f"requests sent after the switch back that did not get their normal answer: {bad or 'none'}"


def _flagged_after_rollback(w: Any) -> bool:
    return not w.operator.rolled_back or w.state.stale or _positions_equal_balances(w)


def _collateral(w: Any) -> bool:
    locked = sum(w.lock.locked.values())
    return bool(w.token.supply == locked if w.quiescent else w.token.supply <= locked)


def _explain_collateral(w: Any) -> str:
    rel = "must equal" if w.quiescent else "must be ≤"
    return f"total supply {w.token.supply} {rel} locked collateral {sum(w.lock.locked.values())} ({_fmt(w.lock.locked)})"


def _outcome(target: str, op: str, status: str = "success", after_rollback: bool | None = None) -> Any:
    def goal(w: Any) -> bool:
        return any(q.target == target and q.op == op and q.status == status
                   and (after_rollback is None or q.after_rollback == after_rollback) for _, q in _requests(w))

    return goal


def _required(params: Params) -> Sequence[str]:
    goals = ["a frontend switched", "mint via old succeeds", "mint via new succeeds", "backfill applied",
             "a frontend switched back", "mint via old after the rollback succeeds"]
    if params["plan"] == "corrected":
        goals += ["old coordinator drained", "a request refused: old coordinator retired"]
    return goals


MIGRATION_PROPERTIES: tuple[Property, ...] = (
    Property(
        "release-positions-match-supply",
        "at-quiescence",
        "after the switch and the backfill, with no rollback: every user's position = its TIM3 balance "
        "(so Σ positions = supply)",
        check=_release_positions,
        explain=_explain_positions,
    ),
    Property(
        "no-double-count",
        "always",
        "no mint or burn is counted twice in the positions (by the new coordinator and by the backfill)",
        check=_counted_once,
        explain=_explain_counted,
    ),
    Property(
        "no-request-lost",
        "at-quiescence",
        "every request (those in flight at the old coordinator when the frontend switched included) got "
        "exactly one answer and none is left open at either coordinator",
        check=_all_answered,
        explain=_explain_answered,
    ),
    Property(
        "rollback-old-keeps-working",
        "at-quiescence",
        "after a rollback, every request sent to the old coordinator after the switch back got its answer "
        "and none was refused because of the migration",
        check=_old_keeps_working,
        explain=_explain_old_working,
    ),
    Property(
        "rollback-positions-flagged",
        "at-quiescence",
        "after a rollback, the positions equal the balances or the State Manager flags them as stale",
        check=_flagged_after_rollback,
        explain=_explain_positions,
    ),
    Property(
        "release-collateral-backs-supply",
        "always",
        "total supply ≤ locked collateral always; equal at quiescence (no collateral stranded by the migration)",
        check=_collateral,
        kind_label="always+quiescence",
        explain=_explain_collateral,
    ),
    Property(
        "migration-reachable",
        "sometimes",
        "the switch, mints through both coordinators, the backfill, the rollback and a mint after it "
        "are reachable (and, for the corrected plan, the drain and a refusal of a late request)",
        goals={
            "a frontend switched": lambda w: any(u.pointer == "new" for u in w.of_kind("user")),
            "mint via old succeeds": _outcome("old", "mint"),
            "mint via new succeeds": _outcome("new", "mint"),
            "backfill applied": lambda w: bool(w.state.backfilled),
            "a frontend switched back": lambda w: any(u.generation == 2 for u in w.of_kind("user")),
            "mint via old after the rollback succeeds": _outcome("old", "mint", after_rollback=True),
            "old coordinator drained": lambda w: bool(w.operator.drained),
            "a request refused: old coordinator retired": lambda w: bool(_refused_for_retirement(w)),
        },
        required=_required,
    ),
)
