"""The state of a Lua process as one canonical, immutable string.

A ``Snapshot`` is produced by ``AoProcess`` (``initial``, ``Outcome.state``) and given
back to it (``deliver``, ``evaluate``). ``text`` is canonical: equal process states
give equal texts, so snapshots compare and hash by ``text`` alone.

Layout of ``text`` (written by ``checker/ao/lua/snapshot.lua``): the first line is
``--`` and a JSON view of the user globals; the rest is a Lua chunk that rebuilds the
whole state (globals, handler list, upvalues of the loaded functions, PRNG state).
``decode`` reads only the first line.

What ``decode`` gives: the user globals as a ``FrozenMap`` (keys in canonical order:
booleans, numbers, strings), Lua tables as nested ``FrozenMap`` (array tables too, with
int keys ``1..n``), strings as ``str`` (bytes that are not UTF-8 are kept with
``surrogateescape``), integers as ``int``, floats as ``float`` (``1`` and ``1.0`` stay
distinct), booleans as ``bool``. Functions and runtime objects (``Handlers``, ``ao``,
``json``...) are left out. Tables shared by two globals decode to equal maps; where a
table is reached again inside itself (a cycle, as in ``Class.__index = Class``) the
inner occurrence decodes as ``None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from checker.model.values import FrozenMap


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """Canonical serialization of a process's globals; equality and hash on ``text``."""

    text: str
    _decoded: FrozenMap[str, Any] | None = field(default=None, repr=False)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Snapshot):
            return self is other or self.text == other.text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.text)

    def decode(self) -> FrozenMap[str, Any]:
        """The user globals as a value tree (cached); see the module docstring."""
        d = self._decoded
        if d is None:
            d = decode_view(self.text)
            object.__setattr__(self, "_decoded", d)
        return d


def decode_view(text: str) -> FrozenMap[str, Any]:
    """Decode the JSON view (first line) of a snapshot text."""
    end = text.find("\n")
    head = text[2:end] if end >= 0 else text[2:]
    value = from_view(json.loads(head))
    if not isinstance(value, FrozenMap):
        raise ValueError(f"not a snapshot text: {text[:60]!r}")
    return value


def from_view(v: Any) -> Any:
    """A value of the JSON view as a Python value (tables become ``FrozenMap``)."""
    return _table(v) if type(v) is list else v


def _sort_key(k: Any) -> tuple[int, Any]:
    t = type(k)
    return (0 if t is bool else 2 if t is str else 1, k)


def _table(pairs: list[Any]) -> FrozenMap[Any, Any]:
    d: dict[Any, Any] = {}
    it = iter(pairs)
    plain = True
    for k in it:
        val = next(it)
        if type(k) is not str:
            plain = False
        d[k] = _table(val) if type(val) is list else val
    if 2 * len(d) != len(pairs):
        from checker.ao.runtime import AoUnsupported

        raise AoUnsupported(
            "unsupported: a table with both the key true and the key 1 (or false and 0): "
            "Python cannot tell them apart"
        )
    if not plain:  # positional keys 1..n come first in the view: restore canonical order
        d = dict(sorted(d.items(), key=lambda kv: _sort_key(kv[0])))
    return FrozenMap._raw(d)
