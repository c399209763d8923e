"""Symmetry's soundness, checked on the first worlds: swapping two users must commute with
the step relation and keep every property's verdict.

Symmetry reduction assumes that the processes of a ``symmetric_kinds`` kind are
interchangeable. The initial state is checked exactly (``Symmetry``); handlers and
properties are checked here on the first ``GUARD_CHECKS`` keys the explorer canonicalises:
for each group, with ``swap`` exchanging its first two processes,

* ``{swap(k') | k -> k'} == {k'' | swap(k) -> k''}`` (the successors correspond), and
* every selected property is violated in ``k`` iff it is violated in ``swap(k)``, and
  every goal of a ``sometimes`` property is met in both or in neither.

A mismatch is a ``SpecError`` naming the step (process, handler, message) or the property
that tells the two users apart, and the fix (``--no-symmetry``, or treat users alike). It
is a sample: asymmetry that first shows after ``GUARD_CHECKS`` worlds is not caught.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checker.errors import SpecError
from checker.model.property_eval import goal_met, required_goals, violated_at
from checker.model.expectation import Form, expectation
from checker.model.semantics import Key, Step

if TYPE_CHECKING:
    from checker.engines.symmetry import Symmetry

GUARD_CHECKS = 200


class SymmetryGuard:
    """Checks ``GUARD_CHECKS`` keys (``check``), then nothing (``left`` is 0)."""

    def __init__(self, sym: Symmetry, checks: int | None = None) -> None:
        self.sym = sym
        self.left = GUARD_CHECKS if checks is None else checks
        sem = sym.sem
        wanted = sem.config.properties
        self.props = [p for p in sem.spec.properties if wanted is None or p.name in wanted]
        self.swaps = sym.swaps()

    def check(self, key: Key) -> None:
        """Raise ``SpecError`` if swapping two users of a group does not commute at ``key``."""
        self.left -= 1
        sem, sym = self.sym.sem, self.sym
        for a, b, plan in self.swaps:
            other = sym.renamed_key(key, plan)
            if other == key:
                continue
            self._properties(key, other, a, b)
            mine = {sym.renamed_key(k, plan): step for step, k in sem.expand(key)}
            theirs = {k: step for step, k in sem.expand(other)}
            if mine.keys() != theirs.keys():
                extra = [mine[k] for k in mine.keys() - theirs.keys()]
                step = extra[0] if extra else theirs[next(iter(theirs.keys() - mine.keys()))]
                raise SpecError(
                    f"{sem.spec.source}: {_what(step)} does not commute with swapping {a} and {b} "
                    f"(a handler or initiative treats one {sem.impls[sem.index[a]].kind} specially), so "
                    "symmetry over them is unsound; make it treat them alike, or run with --no-symmetry")

    def _properties(self, key: Key, other: Key, a: str, b: str) -> None:
        sem = self.sym.sem
        w, v = sem.world_of(key), sem.world_of(other)
        vw, vv = sem.view(w), sem.view(v)
        for p in self.props:
            exp = expectation(p)
            if exp.form is Form.REACHABLE:
                differ = [g for g in required_goals(sem, p)
                          if goal_met(sem, p, g, vw, exp) != goal_met(sem, p, g, vv, exp)]
            else:
                differ = ["its check"] if violated_at(sem, p, w, vw) != violated_at(sem, p, v, vv) else []
            if differ:
                raise SpecError(
                    f"{sem.spec.source}: property {p.name!r} ({differ[0]}) tells {a} and {b} apart: swapping them "
                    "changes its verdict, so symmetry over them is unsound; state it for every user alike, "
                    "or run with --no-symmetry")


def _what(step: Step) -> str:
    """A step in words: which process ran what on which message."""
    on = f" on {step.msg.action} from {step.msg.src}" if step.msg is not None else ""
    return f"the {step.kind} step of {step.pid} ({step.handler or 'no handler'}{on})"
