"""Branch-free logic for property checks that every engine can evaluate.

A property check is plain Python over a world. The explicit engines see concrete
values; the z3 engines see symbolic integers whose comparisons are symbolic booleans,
and Python's ``and``/``or``/``any``/``all``/``if`` would have to *branch* on them. These
helpers combine plain and symbolic booleans without branching, so one check serves
both: with plain values they are ordinary ``and``/``or``; with symbolic ones they build
the formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def conj(conds: Iterable[Any]) -> Any:
    """The conjunction of plain or symbolic booleans (``True`` when empty)."""
    acc: Any = True
    for c in conds:
        if c is True:
            continue
        if c is False:
            return False
        acc = c if acc is True else acc & c
    return acc


def disj(conds: Iterable[Any]) -> Any:
    """The disjunction of plain or symbolic booleans (``False`` when empty)."""
    acc: Any = False
    for c in conds:
        if c is False:
            continue
        if c is True:
            return True
        acc = c if acc is False else acc | c
    return acc


def equal(a: Any, b: Any) -> Any:
    """``a == b`` for values that may be tuples holding symbolic leaves."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return False
        return conj(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return False
    return a == b


def same_multiset(a: Sequence[Any], b: Sequence[Any]) -> Any:
    """``a`` and ``b`` hold the same elements with the same multiplicities: the
    disjunction, over the one-to-one matchings of ``a`` onto ``b``, of all matched pairs
    being equal. Pairs that are plainly unequal (different strings, different lengths)
    prune the search, so keys such as ``(user, amount)`` stay cheap."""
    if len(a) != len(b):
        return False
    if not a:
        return True
    first, rest = a[0], a[1:]
    options = []
    for j, y in enumerate(b):
        e = equal(first, y)
        if e is False:
            continue
        tail = same_multiset(rest, tuple(b[:j]) + tuple(b[j + 1 :]))
        if tail is False:
            continue
        options.append(conj((e, tail)))
        if options[-1] is True:
            return True
    return disj(options)
