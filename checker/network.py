"""Network semantics: which envelopes are in flight and which may be delivered next.

Both representations are canonical tuples, so equal networks hash equally:

* ``unordered`` (AO's default across processes): a sorted tuple of messages (a bag);
  any message may be delivered next.
* ``fifo`` (per sender/receiver pair): a sorted tuple of ``((src, dst), queue)``; only
  the head of each queue may be delivered next.

Loss may remove any message in flight in either representation.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from typing import Any

from checker.values import Message

Net = tuple[Any, ...]


class BagNetwork:
    """Unordered, non-duplicating network: a sorted tuple of messages."""

    name = "unordered"

    @staticmethod
    def empty() -> Net:
        return ()

    @staticmethod
    def deliverable(net: Net) -> list[tuple[int, Message]]:
        out: list[tuple[int, Message]] = []
        prev = None
        for i, m in enumerate(net):
            if m != prev:
                out.append((i, m))
                prev = m
        return out

    droppable = deliverable

    @staticmethod
    def take(net: Net, handle: int) -> Net:
        return net[:handle] + net[handle + 1 :]

    @staticmethod
    def put(net: Net, msgs: Iterable[Message]) -> Net:
        lst = list(net)
        for m in msgs:
            insort(lst, m)
        return tuple(lst)

    @staticmethod
    def messages(net: Net) -> tuple[Message, ...]:
        return net

    @staticmethod
    def canonical(msgs: list[Message]) -> Net:
        """The network holding ``msgs`` (any order)."""
        return tuple(sorted(msgs))


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


def network_for(name: str) -> type[BagNetwork] | type[FifoNetwork]:
    """The network implementation called ``name`` (validated by the CLI)."""
    return FifoNetwork if name == "fifo" else BagNetwork
