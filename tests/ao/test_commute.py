"""checker/ao/commute.py: a LuaProcess that symmetry has asked to rename checks that the
renaming commutes with its deliveries, through the seam, and names what differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from checker.ao.commute import CommuteCheck
from checker.ao.impl import LuaProcess
from checker.errors import SpecError
from checker.model.spec import Ctx as SpecCtx
from checker.model.values import Message, make_message

from tests.ao.helpers import make

SWAP = {"alice": "bob", "bob": "alice"}


class FakeCtx:
    """What LuaProcess.deliver needs of an engine's ctx: faults (from a list), emit, knows."""

    def __init__(self, faults: tuple[bool, ...] = ()) -> None:
        self.faults = list(faults)
        self.sent: list[Message] = []

    def fault(self, name: str) -> bool:
        return self.faults.pop(0) if self.faults else False

    def emit(self, m: Message) -> None:
        self.sent.append(m)

    def knows(self, pid: str) -> bool:
        return True


def ctx_of(faults: tuple[bool, ...] = ()) -> SpecCtx:
    """A FakeCtx typed as the spec's Ctx (LuaProcess.deliver reads only fault, emit and knows)."""
    return cast(SpecCtx, FakeCtx(faults))


def proc(tmp_path: Path, code: str, name: str = "p.lua") -> LuaProcess:
    return LuaProcess("p", "P", make(tmp_path, code, name=name), id_tag="Request")


def note(src: str, n: int = 0, **tags: Any) -> Message:
    return make_message(src, "P", "Note", {"Request": f"{src}#{n}", **tags})


SYMMETRIC = """
Seen = Seen or {}
Handlers.add("Note", "Note", function(msg)
  Seen[msg.From] = (Seen[msg.From] or 0) + 1
  if Checker.fault("refuse") then error("refused " .. msg.From) end
  msg.reply({ Action = "Noted", Count = tostring(Seen[msg.From]) })
end)
"""


def armed(p: LuaProcess) -> LuaProcess:
    p.rename_state(p.runtime.initial, SWAP)  # what symmetry does first
    return p


def test_symmetric_code_passes_and_nothing_is_checked_before_symmetry_asks(tmp_path: Path) -> None:
    p = proc(tmp_path, SYMMETRIC)
    s = p.runtime.initial
    p.deliver(s, note("alice"), ctx_of())
    assert p._commute is None  # never asked to rename: no check, no cost
    armed(p)
    assert p._commute is not None
    for faults in ((), (True,)):
        d = p.deliver(s, note("alice"), ctx_of(faults))
        p.deliver(d.state, note("bob", 1), ctx_of(faults))
    assert p._commute.left == 200 - 4


def test_a_handler_that_singles_out_a_user_is_reported(tmp_path: Path) -> None:
    p = armed(proc(tmp_path, SYMMETRIC.replace("Seen[msg.From] = (Seen[msg.From] or 0) + 1",
                                               'Seen[msg.From] = (Seen[msg.From] or 0) + (msg.From == "alice" and 2 or 1)')))
    with pytest.raises(SpecError) as e:
        p.deliver(p.runtime.initial, note("alice"), ctx_of())
    text = str(e.value)
    assert text.startswith("P: symmetry reduction is unsound")
    assert "handler Note" in text and "alice → P: Note" in text and "--no-symmetry" in text
    assert "the new state differs" in text


def test_sends_that_follow_pairs_order_over_users_are_reported(tmp_path: Path) -> None:
    # the ids of the sends follow the sorted order of the users: renaming swaps which
    # user gets which id, so the renamed run sends other messages
    code = """
    Users = Users or { alice = true, bob = true }
    Handlers.add("Note", "Note", function(msg)
      for u in pairs(Users) do ao.send({ Target = u, Action = "Tick" }) end
    end)
    """
    p = armed(proc(tmp_path, code))
    with pytest.raises(SpecError, match="the messages sent differ"):
        p.deliver(p.runtime.initial, note("carol"), ctx_of())


def test_an_error_for_one_user_only_is_reported(tmp_path: Path) -> None:
    code = """
    Handlers.add("Note", "Note", function(msg)
      if msg.From == "bob" then error("no bob") end
      Last = msg.From
    end)
    """
    p = armed(proc(tmp_path, code))
    with pytest.raises(SpecError, match="only the renamed delivery raises"):
        p.deliver(p.runtime.initial, note("alice"), ctx_of())


def test_a_pattern_for_one_user_only_is_reported(tmp_path: Path) -> None:
    code = """
    Handlers.add("aliceNote", function(msg) return msg.From == "alice" end, function(msg) A = true end)
    """
    p = armed(proc(tmp_path, code))
    with pytest.raises(SpecError, match="the handlers that run differ"):
        p.deliver(p.runtime.initial, note("alice"), ctx_of())


def test_checks_stop_after_the_limit_and_only_permutations_count(tmp_path: Path) -> None:
    p = proc(tmp_path, 'Handlers.add("Note", "Note", function(msg) if msg.From == "alice" then A = 1 end end)')
    c = CommuteCheck(p, limit=1)
    c.add({"alice": "*"})  # symmetry's abstraction of a process's own id: not an automorphism
    assert c.renamings == []
    c.add(SWAP)
    c.add(dict(SWAP))
    assert c.renamings == [SWAP]
    p._commute = c
    s = p.runtime.initial
    p.deliver(s, note("carol"), ctx_of())  # checked (and fine: carol is not renamed)
    p.deliver(s, note("alice"), ctx_of())  # past the limit: not checked
    assert c.left == 0


def test_an_observer_that_singles_out_a_user_is_reported(tmp_path: Path) -> None:
    # the Lua is symmetric, the abstraction properties read is not
    from checker.model.values import FrozenMap

    def observer(snap: Any) -> Any:
        seen = snap.decode().get("Seen", FrozenMap({}))
        return FrozenMap({k: v for k, v in seen.items() if k != "alice"})

    p = LuaProcess("p", "P", make(tmp_path, SYMMETRIC), id_tag="Request", observer=observer)
    armed(p)
    with pytest.raises(SpecError, match="the observer singles a user out"):
        p.deliver(p.runtime.initial, note("bob"), ctx_of())
