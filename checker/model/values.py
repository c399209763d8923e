"""Immutable, hashable values used in states and messages.

``FrozenMap`` is a small persistent mapping (copy on write, cached hash) for per-user
tables such as balances and positions. ``Message`` is one AO message in flight.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, NamedTuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping with sorted iteration and a cached hash.

    ``set``/``remove`` return a new map; the original never changes.
    """

    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._d: dict[K, V] = dict(sorted(items.items())) if items else {}
        self._h: int | None = None

    @classmethod
    def _raw(cls, d: dict[K, V]) -> FrozenMap[K, V]:
        m: FrozenMap[K, V] = cls.__new__(cls)
        m._d = d
        m._h = None
        return m

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def get(self, key: K, default: Any = None) -> Any:  # faster than the Mapping mixin
        return self._d.get(key, default)

    def items(self) -> Any:
        return self._d.items()

    def values(self) -> Any:
        return self._d.values()

    def __hash__(self) -> int:
        h = self._h
        if h is None:
            h = hash(tuple(self._d.items()))
            self._h = h
        return h

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._d == other._d
        return NotImplemented

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self._d.items()) + "}"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """A copy with ``key`` bound to ``value`` (keys kept sorted)."""
        d = dict(self._d)
        if key in d:
            d[key] = value
            return FrozenMap._raw(d)
        d[key] = value
        return FrozenMap._raw(dict(sorted(d.items())))

    def remove(self, key: K) -> FrozenMap[K, V]:
        """A copy without ``key`` (which must be present)."""
        d = dict(self._d)
        del d[key]
        return FrozenMap._raw(d)


class Message(NamedTuple):
    """An AO message: sender (``From``, unforgeable), target, Action and other tags.

    ``tags`` is a tuple of (name, value) pairs sorted by name, so equal messages are
    equal tuples (hashed and ordered at C speed). ``msg["Amount"]`` reads a tag.
    """

    src: str
    dst: str
    action: str
    tags: tuple[tuple[str, Any], ...] = ()

    def __getitem__(self, name: Any) -> Any:
        if not isinstance(name, str):
            return tuple.__getitem__(self, name)
        for k, v in self.tags:
            if k == name:
                return v
        raise KeyError(f"message {self.action} from {self.src} has no tag {name!r}")

    def tag(self, name: str) -> Any:
        """The value of tag ``name`` (``KeyError`` naming the message if it has none);
        ``msg["Amount"]`` does the same, but this spelling is typed for mypy."""
        for k, v in self.tags:
            if k == name:
                return v
        raise KeyError(f"message {self.action} from {self.src} has no tag {name!r}")

    def get(self, name: str, default: Any = None) -> Any:
        for k, v in self.tags:
            if k == name:
                return v
        return default

    def describe(self) -> str:
        tags = ", ".join(f"{k}={v}" for k, v in self.tags)
        return f"{self.src} → {self.dst}: {self.action}({tags})"


def make_message(src: str, dst: str, action: str, tags: Mapping[str, Any]) -> Message:
    """Build a ``Message`` with its tags in canonical (sorted) order."""
    return Message(src, dst, action, tuple(sorted(tags.items())))
