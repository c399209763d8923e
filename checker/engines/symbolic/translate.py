"""The one translator between spec values holding symbolic data and z3/concrete values.

Spec states and messages are frozen dataclasses, ``FrozenMap``s, tuples and
``Message``s whose leaves are concrete (str, int, bool, None) or symbolic (``SymInt``).
``rebuild`` walks such a value (``checker.model.walk``) and rebuilds it with every symbolic
leaf replaced; on it rest: structural keys (``skeleton``), the data slots of a value
(``shape_of``) and concretization under a z3 model. ``instantiate`` (a shape with fresh
variables) and ``order_key`` are walks too.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from dataclasses import dataclass
from typing import Any

import z3

from checker.errors import InternalError
from checker.engines.symbolic.values import Oracle, SymBool, SymInt
from checker.model.values import Message
from checker.model.walk import Walk, record_fields

Leaf = Callable[[SymInt, str], Any]


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A placeholder for a symbolic leaf in a structural key."""

    __walk_leaf__ = True  # a leaf to every walk (checker/model/walk.py)

    n: int


_PLAIN = (str, int, float, bool, Slot)


class _Rebuild(Walk):
    """``rebuild``: every ``SymInt`` leaf replaced by ``leaf(x, path)``; a leaf that is
    neither plain nor symbolic cannot be translated."""

    paths = True

    def __init__(self, leaf: Leaf) -> None:
        super().__init__()
        self.fn = leaf

    def leaf(self, value: Any, path: str) -> Any:
        if type(value) is SymInt:
            return self.fn(value, path)
        if value is None or isinstance(value, _PLAIN):
            return value
        if isinstance(value, SymBool):
            raise InternalError(f"a symbolic boolean stored in a state at {path or 'top'}")
        raise InternalError(f"cannot translate a {type(value).__name__} at {path or 'top'}")


def rebuild(obj: Any, leaf: Leaf, path: str = "") -> Any:
    """``obj`` with every ``SymInt`` leaf ``x`` at ``path`` replaced by ``leaf(x, path)``."""
    return _Rebuild(leaf).walk(obj, path)


def skeleton(obj: Any) -> Any:
    """A hashable structural key: symbolic leaves become ``Slot(z3 ast id)``.

    z3 hash-conses terms, so equal ids mean syntactically equal terms.
    """
    return rebuild(obj, lambda x, _p: Slot(x.e.get_id()))


def shape_of(obj: Any) -> tuple[Any, list[tuple[str, SymInt]]]:
    """The control shape of ``obj`` (leaves numbered in walk order) and its data slots."""
    found: list[tuple[str, SymInt]] = []

    def leaf(x: SymInt, path: str) -> Slot:
        found.append((path, x))
        return Slot(len(found) - 1)

    return rebuild(obj, leaf), found


class _Instantiate(Walk):
    def __init__(self, oracle: Oracle, variables: list[z3.ArithRef]) -> None:
        super().__init__()
        self.oracle, self.variables = oracle, variables

    def leaf(self, value: Any, path: str) -> Any:
        return SymInt(self.oracle, self.variables[value.n]) if type(value) is Slot else value


def instantiate(shape: Any, oracle: Oracle, variables: list[z3.ArithRef]) -> Any:
    """The shape with slot ``i`` holding the symbolic variable ``variables[i]``."""
    return _Instantiate(oracle, variables).walk(shape)


def concretize(obj: Any, model: z3.ModelRef) -> Any:
    """``obj`` with every symbolic leaf replaced by its integer value in ``model``."""
    return rebuild(obj, lambda x, _p: model_int(model, x.e))


def model_int(model: z3.ModelRef, e: z3.ArithRef) -> int:
    v = model.eval(e, model_completion=True)
    if not z3.is_int_value(v):
        raise InternalError(f"model gives no integer for {e}")
    return int(v.as_long())


class _OrderKey(Walk):
    """``order_key``: a tuple per value, led by a number per kind of value."""

    def leaf(self, v: Any, path: str) -> Any:
        if type(v) is SymInt:
            return (3, v.sort_key())
        if isinstance(v, bool):
            return (0, int(v))
        if isinstance(v, int):
            return (1, v)
        if isinstance(v, str):
            return (2, v)
        if v is None:
            return (-1, 0)
        raise InternalError(f"cannot order a {type(v).__name__}")

    def message(self, m: Message, path: str) -> Any:
        walk = self.walk
        return (4, m.src, m.dst, m.action, tuple([(k, walk(x)) for k, x in m.tags]))

    def sequence(self, t: tuple[Any, ...], path: str) -> Any:
        walk = self.walk
        return (5, tuple([walk(x) for x in t]))

    def mapping(self, m: Any, path: str) -> Any:
        """Entries ordered by their keys' order keys (any mapping, whatever its iteration order)."""
        walk = self.walk
        return (6, tuple(sorted([(walk(k), walk(v)) for k, v in m.items()], key=itemgetter(0))))

    def array(self, items: list[Any], path: str) -> Any:
        walk = self.walk
        return (7, tuple([walk(x) for x in items]))

    def collection(self, items: set[Any] | frozenset[Any], path: str) -> Any:
        walk = self.walk
        return (8, tuple(sorted([walk(x) for x in items])))

    def record(self, obj: Any, path: str) -> Any:
        walk = self.walk
        return (9, type(obj).__name__, tuple([walk(getattr(obj, n)) for n in record_fields(obj)]))


_ORDER_KEY = _OrderKey()


def order_key(v: Any) -> Any:
    """A deterministic total-order key for values that may hold symbolic leaves
    (plain and symbolic leaves, messages, tuples, lists, maps, sets, records: a map or
    set by its sorted entries, so equal values get equal keys)."""
    return _ORDER_KEY.walk(v)
