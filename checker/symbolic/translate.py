"""The one translator between spec values holding symbolic data and z3/concrete values.

Spec states and messages are frozen dataclasses, ``FrozenMap``s, tuples and
``Message``s whose leaves are concrete (str, int, bool, None) or symbolic (``SymInt``).
``rebuild`` walks such a value and rebuilds it with every symbolic leaf replaced; on it
rest: structural keys (``skeleton``), the data slots of a value (``data_slots``),
instantiation of a shape with fresh variables, and concretization under a z3 model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from checker.errors import InternalError
from checker.semantics import World
from checker.symbolic.values import Oracle, SymBool, SymInt
from checker.values import FrozenMap, Message

Leaf = Callable[[SymInt, str], Any]
_WORLD_FIELDS = ("procs", "net", "ghost", "faults_left", "injections_left")


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A placeholder for a symbolic leaf in a structural key."""

    n: int


def rebuild(obj: Any, leaf: Leaf, path: str = "") -> Any:
    """``obj`` with every ``SymInt`` leaf ``x`` at ``path`` replaced by ``leaf(x, path)``."""
    if isinstance(obj, SymInt):
        return leaf(obj, path)
    if obj is None or isinstance(obj, (str, int, float, bool, Slot)):
        return obj
    if isinstance(obj, SymBool):
        raise InternalError(f"a symbolic boolean stored in a state at {path or 'top'}")
    if isinstance(obj, Message):
        tags = tuple((k, rebuild(v, leaf, f"{path}.{k}")) for k, v in obj.tags)
        return Message(obj.src, obj.dst, obj.action, tags)
    if isinstance(obj, FrozenMap):
        return FrozenMap._raw({k: rebuild(v, leaf, f"{path}[{k}]") for k, v in obj.items()})
    if isinstance(obj, tuple):
        return tuple(rebuild(v, leaf, f"{path}[{i}]") for i, v in enumerate(obj))
    if isinstance(obj, list):
        return [rebuild(v, leaf, f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, World):  # derived hash fields are recomputed, not copied
        return World(*(rebuild(getattr(obj, n), leaf, f"{path}.{n}") for n in _WORLD_FIELDS))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        vals = {f.name: rebuild(getattr(obj, f.name), leaf, f"{path}.{f.name}") for f in dataclasses.fields(obj) if f.init}
        return type(obj)(**vals)
    raise InternalError(f"cannot translate a {type(obj).__name__} at {path or 'top'}")


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


def instantiate(shape: Any, oracle: Oracle, variables: list[z3.ArithRef]) -> Any:
    """The shape with slot ``i`` holding the symbolic variable ``variables[i]``."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, Slot):
            return SymInt(oracle, variables[obj.n])
        if isinstance(obj, Message):
            return Message(obj.src, obj.dst, obj.action, tuple((k, walk(v)) for k, v in obj.tags))
        if isinstance(obj, FrozenMap):
            return FrozenMap._raw({k: walk(v) for k, v in obj.items()})
        if isinstance(obj, tuple):
            return tuple(walk(v) for v in obj)
        if isinstance(obj, World):
            return World(*(walk(getattr(obj, n)) for n in _WORLD_FIELDS))
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return type(obj)(**{f.name: walk(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init})
        return obj

    return walk(shape)


def concretize(obj: Any, model: z3.ModelRef) -> Any:
    """``obj`` with every symbolic leaf replaced by its integer value in ``model``."""
    return rebuild(obj, lambda x, _p: model_int(model, x.e))


def model_int(model: z3.ModelRef, e: z3.ArithRef) -> int:
    v = model.eval(e, model_completion=True)
    if not z3.is_int_value(v):
        raise InternalError(f"model gives no integer for {e}")
    return int(v.as_long())


def order_key(v: Any) -> Any:
    """A deterministic total-order key for values that may hold symbolic leaves."""
    if isinstance(v, SymInt):
        return (3, v.sort_key())
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, int):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    if v is None:
        return (-1, 0)
    if isinstance(v, Message):
        return (4, v.src, v.dst, v.action, tuple((k, order_key(x)) for k, x in v.tags))
    if isinstance(v, tuple):
        return (5, tuple(order_key(x) for x in v))
    raise InternalError(f"cannot order a {type(v).__name__}")
