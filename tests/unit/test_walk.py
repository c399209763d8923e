"""One traversal over values (``checker.model.walk``): every function that recurses over states
and messages sees the same parts, so a new kind of value is taught once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from checker.model.conformance import typed
from checker.interfaces.counterexample import state_diff, to_json
from checker.model.semantics import World
from checker.engines.symbolic.translate import Slot, rebuild
from checker.engines.symmetry import rename_value
from checker.model.values import FrozenMap, Message
from checker.model.walk import Node, Walk, node_of, record_fields


class Table(Mapping[Any, Any]):
    """A new kind of value (say, a Lua table as the runtime hands it over): a mapping,
    so every walk takes it apart as a map without being told."""

    def __init__(self, d: dict[Any, Any]) -> None:
        self._d = dict(d)

    def __getitem__(self, k: Any) -> Any:
        return self._d[k]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


@dataclass(frozen=True)
class Account:
    owner: str
    balance: int
    history: tuple[Message, ...] = ()


def test_node_kinds() -> None:
    values: tuple[Any, ...] = (1, "a", None, Message("a", "b", "X"), FrozenMap(), {}, Table({}), (1,), [1],
                               frozenset(), Account("a", 1), Slot(0))
    assert [node_of(v) for v in values] == [
        Node.LEAF, Node.LEAF, Node.LEAF, Node.MESSAGE, Node.MAP, Node.MAP, Node.MAP, Node.TUPLE, Node.LIST,
        Node.SET, Node.RECORD, Node.LEAF]
    assert record_fields(World((), (), (), 0, 0)) == ("procs", "net", "ghost", "faults_left", "injections_left")


def test_every_walk_sees_a_new_kind_of_value() -> None:
    state = Account("user1", 3, (Message("user1", "token", "Mint", (("Owner", "user1#0"),)),))
    t = Table({"user1": state, "n": 1.0})
    assert to_json(t) == {"n": 1.0, "user1": {"owner": "user1", "balance": 3, "history": [
        {"src": "user1", "dst": "token", "action": "Mint", "tags": [["Owner", "user1#0"]]}]}}
    renamed = rename_value(t, {"user1": "user2"})
    assert renamed == {"user2": Account("user2", 3, (Message("user2", "token", "Mint", (("Owner", "user2#0"),)),)),
                       "n": 1.0}
    assert typed(t) == ("map", (("user1", ("Account", (("owner", "user1"), ("balance", ("int", 3)), ("history", (
        ("msg", "user1", "token", "Mint", (("Owner", "user1#0"),)),))))), ("n", ("float", 1.0))))
    assert state_diff(Account("a", 1), Account("a", 2)) == {"balance": {"before": 1, "after": 2}}


def test_a_walk_is_one_leaf_function() -> None:
    class Paths(Walk):
        paths = True

        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def leaf(self, value: Any, path: str) -> Any:
            if isinstance(value, int):
                self.seen.append(path)
            return value

    w = Paths()
    v = FrozenMap({"a": Account("x", 2, (Message("x", "y", "Z", (("Amount", 5),)),))})
    assert w.walk(v) == v
    assert w.seen == ["[a].balance", "[a].history[0].Amount"]


def test_a_world_is_rebuilt_with_its_hash_recomputed() -> None:
    w = World((FrozenMap({"a": 1}),), (), (), 1, 0)
    w2 = rebuild(w, lambda x, p: x)
    assert w2 == w and w2.phash == w.phash and w2 is not w
