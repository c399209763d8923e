"""Network semantics: which envelopes are in flight and which may be delivered next.

Both representations are canonical tuples, so equal networks hash equally:

* ``unordered`` (AO's default across processes): a bag, ``KeyedBag``: a tuple sorted
  by a key; any message may be delivered next. It is the one bag of every engine:
  messages as they compare (``BagNetwork``), serials (``SerialBag``), or symbolic
  messages by structure (the z3 engines).
* ``fifo`` (per sender/receiver pair): a sorted tuple of ``((src, dst), queue)``; only
  the head of each queue may be delivered next.

Loss may remove any message in flight in either representation.

The explorer works on compact world keys: ``SerialBag``/``SerialFifo`` are the same
networks over message serials (``MessageTable``), in the same order, converted to and
from the message-level values above by ``to_world``/``from_world``.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable
from typing import Any

from checker.model.values import Message

Net = tuple[Any, ...]


class KeyedBag:
    """The unordered, non-duplicating network (AO's default across processes): a tuple
    of items sorted by ``key`` (``None``: as they compare), any of which may be
    delivered or lost next, one step per distinct item.

    The one bag of every engine: messages as they are (``BagNetwork``), message serials
    ordered by their messages (``SerialBag``), or symbolic messages ordered by a
    structural key (``by_key``: items are told apart by their keys, never compared
    themselves, since comparing symbolic data is a branch point).
    """

    __slots__ = ("key", "by_key")
    name = "unordered"

    def __init__(self, key: Callable[[Any], Any] | None = None, by_key: bool = False) -> None:
        self.key = key
        self.by_key = by_key

    @staticmethod
    def empty() -> Net:
        return ()

    def deliverable(self, net: Net) -> list[tuple[int, Any]]:
        """(position, item) of each distinct item, in order."""
        out: list[tuple[int, Any]] = []
        prev: Any = _NOTHING
        if self.by_key:
            key: Any = self.key
            for i, m in enumerate(net):
                k = key(m)
                if k != prev:
                    out.append((i, m))
                    prev = k
            return out
        for i, m in enumerate(net):
            if m != prev:
                out.append((i, m))
                prev = m
        return out

    def droppable(self, net: Net) -> list[tuple[int, Any]]:
        return self.deliverable(net)

    @staticmethod
    def take(net: Net, handle: int) -> Net:
        return net[:handle] + net[handle + 1 :]

    def put(self, net: Net, msgs: Iterable[Any]) -> Net:
        lst = list(net)
        key = self.key
        for m in msgs:
            insort(lst, m, key=key)
        return tuple(lst)

    @staticmethod
    def messages(net: Net) -> tuple[Message, ...]:
        return net

    def canonical(self, msgs: Iterable[Any]) -> Net:
        """The network holding ``msgs`` (any order)."""
        return tuple(sorted(msgs, key=self.key))


_NOTHING = object()  # before the first item: equal to none

# messages as they are, ordered as they compare
BagNetwork = KeyedBag()


class FifoNetwork:
    """Per-(sender, receiver) FIFO channels: a sorted tuple of ``((src, dst), queue)``."""

    name = "fifo"

    @staticmethod
    def empty() -> Net:
        return ()

    @staticmethod
    def deliverable(net: Net) -> list[tuple[tuple[int, int], Message]]:
        return [((ci, 0), q[0]) for ci, (_, q) in enumerate(net)]

    @staticmethod
    def droppable(net: Net) -> list[tuple[tuple[int, int], Message]]:
        out: list[tuple[tuple[int, int], Message]] = []
        for ci, (_, q) in enumerate(net):
            for qi, m in enumerate(q):
                out.append(((ci, qi), m))
        return out

    @staticmethod
    def take(net: Net, handle: tuple[int, int]) -> Net:
        ci, qi = handle
        chan, q = net[ci]
        q2 = q[:qi] + q[qi + 1 :]
        if not q2:
            return net[:ci] + net[ci + 1 :]
        return net[:ci] + ((chan, q2),) + net[ci + 1 :]

    @staticmethod
    def put(net: Net, msgs: Iterable[Message]) -> Net:
        chans = dict(net)
        for m in msgs:
            key = (m.src, m.dst)
            chans[key] = chans.get(key, ()) + (m,)
        return tuple(sorted(chans.items()))

    @staticmethod
    def messages(net: Net) -> tuple[Message, ...]:
        return tuple(m for _, q in net for m in q)

    @staticmethod
    def canonical(msgs: list[Message]) -> Net:
        """The network holding ``msgs``, each channel in the order given."""
        return FifoNetwork.put((), msgs)


def network_for(name: str) -> KeyedBag | type[FifoNetwork]:
    """The network implementation called ``name`` (validated by the CLI)."""
    return FifoNetwork if name == "fifo" else BagNetwork


class MessageTable:
    """Numbers messages: each distinct ``Message`` gets one serial (0, 1, ...) for the
    explorer's compact world keys, in order of first appearance (deterministic)."""

    __slots__ = ("serial", "msgs")

    def __init__(self) -> None:
        self.serial: dict[Message, int] = {}
        self.msgs: list[Message] = []

    def add(self, m: Message) -> int:
        """The serial of ``m`` (numbered on first sight)."""
        s = self.serial.get(m)
        if s is None:
            s = len(self.msgs)
            self.serial[m] = s
            self.msgs.append(m)
        return s


class SerialBag(KeyedBag):
    """``BagNetwork`` over message serials: a tuple of serials in the order of their
    messages (so delivery order is exactly ``BagNetwork``'s; equal serials are equal
    messages, so serials are told apart by themselves)."""

    __slots__ = ("table",)

    def __init__(self, table: MessageTable) -> None:
        super().__init__(table.msgs.__getitem__)
        self.table = table

    def to_world(self, net: Net) -> Net:
        """The ``BagNetwork`` value of ``net`` (a sorted tuple of messages)."""
        key: Any = self.key
        return tuple(map(key, net))

    def from_world(self, net: Net) -> Net:
        add = self.table.add
        return tuple(add(m) for m in net)

    def serials(self, net: Net) -> tuple[int, ...]:
        """Every message serial in flight."""
        return net


class SerialFifo:
    """``FifoNetwork`` over message serials: a sorted tuple of ``((src, dst), queue)``."""

    def __init__(self, table: MessageTable) -> None:
        self.table = table
        self._msg = table.msgs.__getitem__

    @staticmethod
    def deliverable(net: Net) -> list[tuple[tuple[int, int], int]]:
        return [((ci, 0), q[0]) for ci, (_, q) in enumerate(net)]

    @staticmethod
    def droppable(net: Net) -> list[tuple[tuple[int, int], int]]:
        return [((ci, qi), s) for ci, (_, q) in enumerate(net) for qi, s in enumerate(q)]

    take = staticmethod(FifoNetwork.take)

    def put(self, net: Net, sends: Iterable[int]) -> Net:
        chans = dict(net)
        msg = self._msg
        for s in sends:
            m = msg(s)
            key = (m.src, m.dst)
            chans[key] = chans.get(key, ()) + (s,)
        return tuple(sorted(chans.items()))

    def canonical(self, serials: list[int]) -> Net:
        """The network holding these messages, each channel in the order given."""
        return self.put((), serials)

    def to_world(self, net: Net) -> Net:
        msg = self._msg
        return tuple((ch, tuple(map(msg, q))) for ch, q in net)

    def from_world(self, net: Net) -> Net:
        add = self.table.add
        return tuple((ch, tuple(add(m) for m in q)) for ch, q in net)

    def serials(self, net: Net) -> tuple[int, ...]:
        return tuple(s for _, q in net for s in q)


def serial_network_for(name: str, table: MessageTable) -> SerialBag | SerialFifo:
    """The serial-level twin of ``network_for(name)`` over ``table``."""
    return SerialFifo(table) if name == "fifo" else SerialBag(table)
