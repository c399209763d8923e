"""One traversal over the values of states and messages: ``Walk``.

A value is a *leaf* (``str``, ``int``, ``float``, ``bool``, ``None``, and any type the
walk does not take apart, such as a symbolic integer) or a *node* of one of these
kinds, and this module is the one place that knows how each kind is taken apart and put
back together (``node_of``, ``record_fields``):

* ``MESSAGE`` (``checker.model.values.Message``): the values of its tags (with ``names``, also
  its sender, target, Action and tag names);
* ``MAP`` (``FrozenMap``, any mapping, rebuilt as a ``dict``): its values (with ``names``,
  also its keys; a ``FrozenMap`` is then rebuilt sorted by its new keys);
* ``TUPLE``, ``LIST``, ``SET`` (set, frozenset): their items;
* ``RECORD`` (a dataclass instance: a local state, ``World``): its init fields, except
  those whose field metadata is ``DERIVED`` (``World.phash``, recomputed on rebuild).

A dataclass that is a leaf to every walk (``translate.Slot``) says so with a class
attribute ``__walk_leaf__ = True``.

Every function that recurses over values is a ``Walk`` subclass: the default methods
rebuild each node as the same kind of value from its walked parts (a structural map:
``translate.rebuild``, ``translate.instantiate``, ``shape_symmetry.renumber``,
``symmetry.rename_value``), and a subclass that produces something else overrides the
node methods too (``counterexample.to_json``, ``conformance.typed``,
``translate.order_key``). So a new kind of value (a Lua table snapshot, say) is taught
here once: as one of the node kinds, or as a new one with its default rebuild.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Any

from checker.model.values import FrozenMap, Message

DERIVED: Mapping[str, bool] = MappingProxyType({"derived": True})  # field(metadata=DERIVED): not walked


class Node(IntEnum):
    """How a value is taken apart (see the module docstring)."""

    LEAF = 0
    MESSAGE = 1
    MAP = 2
    TUPLE = 3
    LIST = 4
    SET = 5
    RECORD = 6


def _classify(cls: type) -> Node:
    if getattr(cls, "__walk_leaf__", False):
        return Node.LEAF
    if issubclass(cls, Message):  # a NamedTuple: before tuple
        return Node.MESSAGE
    if issubclass(cls, Mapping):
        return Node.MAP
    if issubclass(cls, tuple):
        return Node.TUPLE
    if issubclass(cls, list):
        return Node.LIST
    if issubclass(cls, (set, frozenset)):
        return Node.SET
    if dataclasses.is_dataclass(cls):
        return Node.RECORD
    return Node.LEAF


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init and not f.metadata.get("derived"))


_node_of = functools.cache(_classify)
_record_fields = functools.cache(_fields)


def node_of(value: Any) -> Node:
    """The node kind of ``value`` (cached per type)."""
    cls: type = type(value)
    return _node_of(cls)


def record_fields(obj: Any) -> tuple[str, ...]:
    """The fields of a record (a dataclass instance) a walk visits: its init fields, in
    declaration order, except the ``DERIVED`` ones (cached per type)."""
    cls: type = type(obj)
    return _record_fields(cls)


class Walk:
    """A traversal of a value (see the module docstring).

    ``walk(value, path)`` dispatches on the node kind of ``value``. With ``paths``, each
    part gets a readable path (``.field``, ``[key]``, ``[index]``, ``.Tag``) appended to its
    parent's; without, paths stay ``""``. With ``names``, message names and map keys are
    walked too (as leaves or nodes). Subclasses override ``leaf`` and, to build something
    other than the same kind of value, the node methods.
    """

    paths = False
    names = False

    def __init__(self) -> None:
        self._by_node: tuple[Callable[[Any, str], Any], ...] = (
            self.leaf, self.message, self.mapping, self.sequence, self.array, self.collection, self.record,
        )

    def walk(self, value: Any, path: str = "") -> Any:
        cls: type = type(value)
        return self._by_node[_node_of(cls)](value, path)

    __call__ = walk

    # -- leaves ---------------------------------------------------------------------

    def leaf(self, value: Any, path: str) -> Any:
        return value

    # -- nodes: by default rebuilt as the same kind of value ----------------------------

    def message(self, m: Message, path: str) -> Any:
        walk, p = self.walk, self.paths
        if not self.names:
            return Message(m.src, m.dst, m.action, tuple((k, walk(v, f"{path}.{k}" if p else "")) for k, v in m.tags))
        return Message(walk(m.src, path), walk(m.dst, path), walk(m.action, path),
                       tuple((walk(k, path), walk(v, f"{path}.{k}" if p else "")) for k, v in m.tags))

    def mapping(self, m: Mapping[Any, Any], path: str) -> Any:
        walk, p = self.walk, self.paths
        if self.names:
            d = {walk(k, path): walk(v, f"{path}[{k}]" if p else "") for k, v in m.items()}
            return FrozenMap(d) if isinstance(m, FrozenMap) else d
        d = {k: walk(v, f"{path}[{k}]" if p else "") for k, v in m.items()}
        return FrozenMap._raw(d) if isinstance(m, FrozenMap) else d

    def sequence(self, t: tuple[Any, ...], path: str) -> Any:
        """A tuple."""
        walk = self.walk
        if self.paths:
            return tuple(walk(v, f"{path}[{i}]") for i, v in enumerate(t))
        return tuple([walk(v, "") for v in t])

    def array(self, items: list[Any], path: str) -> Any:
        """A list."""
        walk, p = self.walk, self.paths
        return [walk(v, f"{path}[{i}]" if p else "") for i, v in enumerate(items)]

    def collection(self, items: set[Any] | frozenset[Any], path: str) -> Any:
        """A set or frozenset."""
        return type(items)(self.walk(v, path) for v in items)

    def record(self, obj: Any, path: str) -> Any:
        walk, p = self.walk, self.paths
        cls: type = type(obj)
        return cls(**{n: walk(getattr(obj, n), f"{path}.{n}" if p else "") for n in _record_fields(cls)})
