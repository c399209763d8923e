"""The Lua purity check: a handler whose outcome depends on something outside its process
state and the message (collectgarbage("count")) is rejected naming the handler; pure code
passes and the check stops after LUA_PURITY_CHECKS deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from checker.ao.impl import LUA_PURITY_CHECKS, LuaProcess
from checker.errors import SpecError
from checker.model.spec import Ctx as SpecCtx
from checker.model.values import make_message
from tests.ao.helpers import make
from tests.ao.test_commute import FakeCtx


def _proc(tmp_path: Path, code: str) -> LuaProcess:
    return LuaProcess("p", "P", make(tmp_path, code), id_tag="Request")


def _deliver(p: LuaProcess, state: object) -> object:
    m = make_message("alice", "P", "Note", {"Request": "alice#0"})
    return p.deliver(state, m, cast(SpecCtx, FakeCtx())).state


def test_a_handler_reading_the_heap_size_is_rejected_naming_it(tmp_path: Path) -> None:
    p = _proc(tmp_path, 'Handlers.add("note", "Note", function() Heap = collectgarbage("count") end)')
    with pytest.raises(SpecError, match=r"proc.lua:1: handler 'note' of P is not a pure function .*"
                                         r"Note from alice twice .* a different new state"):
        _deliver(p, p.runtime.initial)


def test_pure_code_passes_and_the_check_is_bounded(tmp_path: Path) -> None:
    p = _proc(tmp_path, 'Handlers.add("note", "Note", function() N = (N or 0) + 1 end)')
    s: object = p.runtime.initial
    for _ in range(3):
        s = _deliver(p, s)
    assert p._purity_left == LUA_PURITY_CHECKS - 3
    p._purity_left = 0  # past the first deliveries nothing is re-run: impure code is no longer caught
    q = _proc(tmp_path / "q", 'Handlers.add("note", "Note", function() Heap = collectgarbage("count") end)')
    q._purity_left = 0
    _deliver(q, q.runtime.initial)
