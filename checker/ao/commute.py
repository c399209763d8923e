"""Symmetry reduction's soundness for Lua processes: renaming users commutes with delivery.

Symmetry reduction (``checker/engines/symmetry.py``) explores one world per orbit of the
renamings of the users. That is sound only if each renaming ``σ`` it applies is an
automorphism of every process: ``deliver(σ s, σ m) == σ deliver(s, m)``. For the
users the spec declares it (``symmetric_kinds``) and ``Symmetry`` checks their initial
states; but Lua code could still single a user out inside a handler (``if msg.From ==
"user1"``, a table of special ids, an order that follows ``pairs()`` over user-keyed
tables), and nothing in the declaration says it does not.

So a ``LuaProcess`` checks it: once symmetry has asked it to rename a state
(``LuaProcess.rename_state``, first from ``Symmetry._check_initial_symmetry``'s swap of
two users, before any delivery), each of its first ``CHECKED_DELIVERIES`` distinct
deliveries (state, message, fault answers) is run again on the renamed state and
message for every renaming symmetry has asked for (``MAX_RENAMINGS``, permutations
only), through the seam as the explorer runs it (``LuaProcess.to_ao``: message ids
and all), and compared with the renamed outcome: the handlers that ran (names
renamed), the error (where it was raised; its text may name a user and is not
compared), the Inbox, the new state (``AoProcess.rename``), what properties see of it
(the observer's view, renamed: the abstraction is Python code behind the same seam)
and the messages sent, as a multiset (their ids included). A difference raises ``SpecError`` naming the process,
the handler, the message and what differs, and says to run with ``--no-symmetry``.

What it costs: per checked delivery and renaming, two renames and one delivery (the
original delivery is the explorer's own). What it does not prove: a handler that
singles a user out only in a state beyond the first deliveries, or only under a
renaming symmetry asks for later, is not seen; the check is a guard, not a proof.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from checker.ao.runtime import Outcome
from checker.ao.snapshot import Snapshot
from checker.errors import SpecError
from checker.model.values import Message

if TYPE_CHECKING:
    from checker.ao.impl import LuaProcess

CHECKED_DELIVERIES = 200  # per Lua process
MAX_RENAMINGS = 4  # distinct renamings checked (2 users: one swap)


def _rename(value: Any, ren: Mapping[str, str]) -> Any:
    """``value`` renamed exactly as symmetry renames it (``checker.engines.symmetry.rename_value``)."""
    from checker.engines.symmetry import rename_value

    return rename_value(value, dict(ren))


class _Replay:
    """Hooks that give recorded fault answers again in order, counting the questions."""

    __slots__ = ("_answers", "asked")

    def __init__(self, answers: Sequence[bool]) -> None:
        self._answers = answers
        self.asked = 0

    def fault(self, name: str) -> bool:
        i = self.asked
        self.asked += 1
        return self._answers[i] if i < len(self._answers) else False


class CommuteCheck:
    """The commuting check of one Lua process (see the module docstring)."""

    def __init__(self, proc: LuaProcess, limit: int | None = None) -> None:
        self.proc = proc
        self.left = CHECKED_DELIVERIES if limit is None else limit
        self.renamings: list[dict[str, str]] = []
        self._seen: set[tuple[Snapshot, Message, tuple[bool, ...]]] = set()

    def add(self, ren: Mapping[str, str]) -> None:
        """Check deliveries under ``ren`` from now on (a permutation of ids; others, such
        as symmetry's abstraction of a process's own id, are not automorphisms)."""
        if not ren or set(ren) != set(ren.values()) or len(self.renamings) >= MAX_RENAMINGS:
            return
        d = dict(ren)
        if d not in self.renamings:
            self.renamings.append(d)

    def check(self, state: Snapshot, msg: Message, answers: Sequence[bool], out: Outcome) -> None:
        """Raise ``SpecError`` when delivering the renamed message to the renamed state
        does not give the renamed outcome ``out`` of delivering ``msg`` to ``state``."""
        if self.left <= 0 or not self.renamings:
            return
        key = (state, msg, tuple(answers))
        if key in self._seen:
            return
        self._seen.add(key)
        self.left -= 1
        if self.left == 0:
            self._seen = set()
        for ren in self.renamings:
            why = self.difference(state, msg, answers, out, ren)
            if why is not None:
                proc = self.proc
                handler = out.handlers[0].name if out.handlers else "no handler (Inbox)"
                swap = ", ".join(f"{a} → {b}" for a, b in sorted(ren.items()))
                raise SpecError(
                    f"{proc.pid}: symmetry reduction is unsound for this Lua process: renaming the users "
                    f"({swap}) does not commute with its delivery of {msg.describe()} (handler {handler}): "
                    f"{why}. The code treats one user differently from another; run with --no-symmetry"
                )

    def difference(self, state: Snapshot, msg: Message, answers: Sequence[bool], out: Outcome,
                   ren: Mapping[str, str]) -> str | None:
        """What differs between ``deliver(σ state, σ msg)`` and ``σ out`` (None: nothing)."""
        from checker.ao.impl import Unobservable

        proc = self.proc
        rt = proc.runtime
        renamed_msg: Message = _rename(msg, ren)
        replay = _Replay(answers)
        ao = proc.to_ao(renamed_msg)
        other = rt.deliver(rt.rename(state, ren), ao, replay)
        if replay.asked != len(answers):
            return f"the renamed delivery asks Checker.fault {replay.asked} times, the delivery {len(answers)}"
        mine = [(_rename(h.name, ren), h.where) for h in out.handlers]
        theirs = [(h.name, h.where) for h in other.handlers]
        if mine != theirs:
            return f"the handlers that run differ: {[n for n, _ in mine]} renamed vs {[n for n, _ in theirs]}"
        if (out.error is None) != (other.error is None):
            said = out.error or other.error
            assert said is not None
            which = "the delivery" if out.error is not None else "the renamed delivery"
            return f"only {which} raises ({said.message} at {said.where})"
        if out.error is not None and other.error is not None:
            if out.error.where != other.error.where:
                return f"the error is raised at {out.error.where}, renamed at {other.error.where}"
            return None
        if out.inbox != other.inbox:
            return "only one of the two puts the message in the Inbox"
        if rt.rename(out.state, ren) != other.state:
            return "the new state differs from the renamed new state"
        seen, seen_renamed = proc.observe(out.state), proc.observe(other.state)
        if type(seen) is not type(seen_renamed) or (
                not isinstance(seen, Unobservable) and _rename(seen, ren) != seen_renamed):
            return "what properties see of the renamed new state is not the renamed view (the observer singles a user out)"
        now = proc.to_ao(msg).timestamp
        sent = Counter(_rename(proc.from_send(s.target, s.tags, s.data, s.id, now), ren) for s in out.sends)
        sent_renamed = Counter(proc.from_send(s.target, s.tags, s.data, s.id, ao.timestamp) for s in other.sends)
        if sent != sent_renamed:
            extra = sorted(m.describe() for m in (sent - sent_renamed))
            missing = sorted(m.describe() for m in (sent_renamed - sent))
            return f"the messages sent differ (renamed sends not sent by the renamed delivery: {extra}; sent instead: {missing})"
        return None
