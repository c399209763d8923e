"""Enumerate every nondeterministic path of a function by re-executing it.

A function receives a ``Chooser``; every ``chooser.pick(label, n)`` is a branch point
with ``n`` alternatives. ``all_paths`` runs the function once per path, in
lexicographic order of the picks, so enumeration is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from checker.errors import InternalError

T = TypeVar("T")

MAX_PATHS = 100_000


class Chooser:
    """Replays a fixed prefix of picks, then takes alternative 0 and records arities."""

    __slots__ = ("_prefix", "_pos", "taken", "arities", "labels")

    def __init__(self, prefix: tuple[int, ...]) -> None:
        self._prefix = prefix
        self._pos = 0
        self.taken: list[int] = []
        self.arities: list[int] = []
        self.labels: list[str] = []

    def pick(self, label: str, n: int) -> int:
        """Index of the alternative taken at this branch point (0 <= index < n)."""
        if n <= 0:
            raise InternalError(f"choice {label!r} has no alternatives")
        pos = self._pos
        i = self._prefix[pos] if pos < len(self._prefix) else 0
        if i >= n:
            raise InternalError(f"choice {label!r} changed arity between runs (not deterministic)")
        self._pos = pos + 1
        self.taken.append(i)
        self.arities.append(n)
        self.labels.append(label)
        return i


def all_paths(fn: Callable[[Chooser], T]) -> list[tuple[Chooser, T]]:
    """``(chooser, result)`` for every path of ``fn``, in lexicographic order of picks.

    Exceptions raised by ``fn`` propagate.
    """
    first = Chooser(())
    out = [(first, fn(first))]
    if not first.taken:  # the common case: no branch point at all
        return out
    stack: list[tuple[int, ...]] = []
    _push_alternatives(stack, (), first)
    while stack:
        prefix = stack.pop()
        ch = Chooser(prefix)
        out.append((ch, fn(ch)))
        if len(out) > MAX_PATHS:
            raise InternalError(f"more than {MAX_PATHS} branches in one step: the spec is not finite here")
        _push_alternatives(stack, prefix, ch)
    return out


def _push_alternatives(stack: list[tuple[int, ...]], prefix: tuple[int, ...], ch: Chooser) -> None:
    """Push the untried alternatives past ``prefix`` so that they pop in lexicographic order."""
    alts: list[tuple[int, ...]] = []
    for j in range(len(prefix), len(ch.taken)):
        for alt in range(1, ch.arities[j]):
            alts.append(tuple(ch.taken[:j]) + (alt,))
    alts.sort()
    stack.extend(reversed(alts))
